"""`summarizer mcp --transport http`: Streamable HTTP on a real uvicorn, behind the HTTP
API's keys, limits and ownership rules, with an Origin check; the SDK's client over HTTP."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from typer.testing import CliRunner

from summarizer.cli import app as cli
from summarizer.config import load_settings
from summarizer.core.schemas import Brief
from summarizer.mcp.access import Access
from summarizer.mcp.http import http_app, keys_for, public_message
from summarizer.mcp.model import build_llm
from summarizer.mcp.server import create_server
from summarizer.serving.auth import key_id
from summarizer.serving.settings import ServiceSettings
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.conftest import ROOT
from tests.slack_fake import LiveServer
from tests.test_mcp import ARTICLE, LLM_KEY, text_of
from tests.test_render_html_slack import make_brief, make_daily

KEY = "key-alpha-0123456789SECRET"
OTHER_KEY = "key-beta-9876543210SECRET"
ADMIN_KEY = "key-admin-5555555555SECRET"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@contextmanager
def serving(
    tmp_path: Path, fake: FakeOpenAI, store: Store | None = None, origins: tuple[str, ...] = (),
    **service: Any,
) -> Iterator[tuple[str, Store]]:  # fmt: skip
    svc = ServiceSettings(api_keys=f"{KEY},{OTHER_KEY}", **service)
    keys = keys_for(svc)
    settings, llm = build_llm(
        load_settings(None, base_url=fake.base_url, api_key=LLM_KEY, http_retries=0), "endpoint"
    )
    store = store or Store(tmp_path / "s.db")
    access = Access(
        local_briefs=svc.local_briefs, admins=keys.admins,
        max_document_chars=svc.max_document_chars, allow_private_urls=svc.allow_private_urls,
    )  # fmt: skip
    served = create_server(settings, store, llm, access=access, describe=public_message)
    with LiveServer(http_app(served, svc, store, keys, allow_origins=origins)) as server:
        yield f"{server.url}/mcp", store


def session(url: str, key: str, steps: Any) -> Any:
    async def main() -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as c,
        ):
            return await steps(c)

    return anyio.run(main)


def post(url: str, headers: dict[str, str] | None = None, **kw: Any) -> httpx2.Response:
    return httpx2.post(url, json=kw.pop("json", INIT), headers={**HEADERS, **(headers or {})}, **kw)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_key_is_required(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with serving(tmp_path, fake_openai) as (url, _):
        r = post(url)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["error"]["message"].startswith("missing API key")
        r = post(url, bearer("key-wrong-000000000000"))
        assert r.status_code == 401 and "not recognised" in r.text
        assert post(url, bearer(KEY)).status_code == 200


def test_a_foreign_origin_is_refused_before_the_key(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with serving(tmp_path, fake_openai, origins=("https://app.example",)) as (url, _):
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "https://evil.example", **bearer(KEY)},
        ):
            r = post(url, headers)
            assert r.status_code == 403 and r.json()["error"]["type"] == "ForbiddenOrigin"
        for origin in ("http://localhost:6274", "http://127.0.0.1", "https://app.example"):
            assert post(url, {"Origin": origin, **bearer(KEY)}).status_code == 200, origin


def test_tools_over_http_with_the_api_ownership_rules(
    tmp_path: Path, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what the server logs without --verbose, and more
    store = Store(tmp_path / "s.db")
    store.put_brief(
        "daily", make_daily([make_brief()]).model_dump_json(), title="D", day="2025-03-04"
    )

    async def brief(c: Client) -> Any:
        return await c.call_tool("brief", {"text": ARTICLE})

    async def daily_and_questions(c: Client) -> tuple[Any, Any]:
        return await c.call_tool("daily", {}), await c.call_tool("questions", {})

    with serving(tmp_path, fake_openai, store=store) as (url, _):
        first = session(url, KEY, brief)
        again = session(url, KEY, brief)  # the same key, the same document: kept, not paid
        other = session(url, OTHER_KEY, brief)  # another key pays for its own
        daily, questions = session(url, KEY, daily_and_questions)
    assert not first.is_error, text_of(first)
    assert again.meta["summarizer/brief_id"] == first.meta["summarizer/brief_id"]
    assert "kept from an earlier identical request" in text_of(again)
    assert other.meta["summarizer/brief_id"] != first.meta["summarizer/brief_id"]
    assert len(fake_openai.requests) == 2
    owned = store.get_brief_owned(first.meta["summarizer/brief_id"])
    assert owned is not None and owned[2] == key_id(KEY.encode())
    Brief.model_validate(first.structured_content)
    # local_briefs = "none" (the default): daily runs' output is not for API keys.
    assert daily.is_error and "no daily brief" in text_of(daily)
    assert questions.is_error and "local_briefs" in text_of(questions)
    # The server's log (the test's own client logs what it sends).
    logged = "\n".join(
        f"{r.name}: {r.getMessage()}" for r in caplog.records
        if not r.name.startswith(("mcp.client", "httpx2", "httpcore2"))
    )  # fmt: skip
    assert KEY not in logged and OTHER_KEY not in logged and LLM_KEY not in logged
    assert "Elm Street" not in logged  # no article text in the log

    with serving(
        tmp_path, fake_openai, store=store, local_briefs="admin", admin_keys=ADMIN_KEY
    ) as (url, _):
        assert session(url, KEY, lambda c: c.call_tool("daily", {})).is_error
        got = session(url, ADMIN_KEY, lambda c: c.call_tool("daily", {}))
        assert not got.is_error and text_of(got).startswith("# Daily brief — 2025-03-04")


def test_errors_over_http_say_what_failed_not_what_upstream_said(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.queue(Reply(status=500, raw_body='{"error": {"message": "db password=hunter2"}}'))

    async def steps(c: Client) -> tuple[Any, Any, Any]:
        return (
            await c.call_tool("brief", {"text": ARTICLE}),
            await c.call_tool("brief", {"url": f"{fake_openai.base_url}/article"}),
            await c.call_tool("brief", {"text": "x" * 1500}),
        )

    with serving(tmp_path, fake_openai, max_document_chars=1000) as (url, _):
        failed, private, long = session(url, KEY, steps)
    assert failed.is_error
    assert text_of(failed) == "error: the model endpoint answered HTTP 500; try again later"
    assert private.is_error and "127.0.0.1" in text_of(private)  # refused: not public
    assert long.is_error and "1,500 characters is over the 1,000-character limit" in text_of(long)


def test_body_and_rate_limits_are_the_apis(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with serving(tmp_path, fake_openai, max_body_bytes=2048, rate_limit_per_minute=3) as (url, _):
        big = {**INIT, "params": {**INIT["params"], "pad": "x" * 4000}}
        r = post(url, bearer(KEY), json=big)
        assert r.status_code == 413 and r.json()["error"]["type"] == "PayloadTooLarge"
        codes = [post(url, bearer(OTHER_KEY)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert post(url, bearer(KEY)).status_code == 200  # per key


def test_http_needs_keys(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        cli,
        [
            "mcp",
            "--transport",
            "http",
            "--replay",
            "seeds/recordings",
            "--store",
            str(tmp_path / "s.db"),
        ],
    )
    assert r.exit_code == 3 and "no API keys configured" in r.output
    assert "stdio, the default, needs no key" in r.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_a_real_summarizer_mcp_http_process(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    env.update(PYTHONPATH=str(ROOT), SUMMARIZER_API_KEYS=KEY)
    proc = subprocess.Popen(
        [sys.executable, "-m", "summarizer", "mcp", "--transport", "http", "--port", str(port),
         "--replay", "seeds/recordings", "--store", str(tmp_path / "s.db")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline, wait = time.monotonic() + 30, 0.05
        while True:  # back off until it listens
            try:
                r = post(url)
                break
            except httpx2.ConnectError:
                assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(wait)
                wait = min(wait * 2, 1.0)
        assert r.status_code == 401
        tools = session(url, KEY, lambda c: c.list_tools())
        assert {t.name for t in tools.tools} == {"brief", "daily", "story", "questions", "kinds"}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert KEY not in err.decode()
