"""Kinds and templates in a server that runs for days (issue 19.5): the registry is
(re)loaded off the event loop, a template broken at run time leaves the last good registry
serving, is reported once (log and /healthz), and a failing load is not re-run per request."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from summarizer.config import load_settings
from summarizer.core import kinds
from summarizer.core.prompting import builtin_dir
from summarizer.service.app import create_app
from summarizer.serving.settings import ServiceSettings
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI
from tests.slack_fake import LiveServer
from tests.test_service import ARTICLE, KEY, auth

# The kind file below waits on these while it is imported: a test holds a reload open.
GATE = threading.Event()
STARTED = threading.Event()
IMPORTS: list[int] = []

SLOW_KIND_FILE = """
from tests.test_kinds_live import GATE, IMPORTS, STARTED

IMPORTS.append(1)
STARTED.set()
GATE.wait(30)


def register(registry):
    pass
"""


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    kinds.clear_cache()
    GATE.set()
    STARTED.clear()
    IMPORTS.clear()
    yield
    GATE.set()
    kinds.clear_cache()


@contextmanager
def serving(tmp_path: Path, fake: FakeOpenAI) -> Iterator[tuple[httpx2.Client, Path]]:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    template = prompts / "brief.j2"
    template.write_text((builtin_dir() / "brief.j2").read_text(encoding="utf-8"), "utf-8")
    kind_file = tmp_path / "slow_kind.py"
    kind_file.write_text(SLOW_KIND_FILE, encoding="utf-8")
    settings = load_settings(
        base_url=fake.base_url,
        api_key="sk-test-LLMKEY-0123456789",
        prompts_dir=prompts,
        kind_files=[kind_file],
    )
    app = create_app(settings, ServiceSettings(api_keys=KEY), Store(tmp_path / "store.db"))
    with LiveServer(app) as server, httpx2.Client(base_url=server.url, timeout=30) as http:
        yield http, template


def touch(path: Path, *, step: int = 10) -> None:
    """A new mtime for sure (file systems with coarse timestamps included)."""
    st = path.stat()
    os.utime(path, (st.st_atime + step, st.st_mtime + step))


def test_a_slow_reload_never_stalls_healthz(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with serving(tmp_path, fake_openai) as (http, template):
        assert http.get("/v1/kinds", headers=auth()).status_code == 200
        GATE.clear()
        STARTED.clear()
        touch(template)  # the registry reloads, and the kind file's import hangs
        answers: dict[str, Any] = {}
        kinds_call = threading.Thread(
            target=lambda: answers.update(kinds=http.get("/v1/kinds", headers=auth()))
        )
        kinds_call.start()
        try:
            assert STARTED.wait(10), "the reload did not start"
            # The reload is in progress: the event loop must still answer at once.
            health = http.get("/healthz", timeout=2)
            assert health.status_code == 200
            assert "kinds" not in answers  # the reload really was still running
        finally:
            GATE.set()
            kinds_call.join(10)
        assert answers["kinds"].status_code == 200
        assert len(IMPORTS) == 2  # at start, and once for the touched template


def test_a_template_broken_at_run_time_keeps_the_last_good_registry(
    tmp_path: Path, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    with serving(tmp_path, fake_openai) as (http, template):
        made = http.post("/v1/briefs", json={"documents": [{"text": ARTICLE}]}, headers=auth())
        assert made.status_code == 200, made.text
        brief_id = made.headers["x-brief-id"]
        imports = len(IMPORTS)

        good = template.read_text(encoding="utf-8")
        template.write_text(good.replace("{% block system %}", "{% block system %}{% if %}"))
        touch(template)
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                assert http.get(f"/v1/briefs/{brief_id}", headers=auth()).status_code == 200
                assert http.get(f"/v1/briefs/{brief_id}?format=md", headers=auth()).is_success
                assert http.get("/v1/kinds", headers=auth()).status_code == 200
            health = http.get("/healthz").json()
        assert len(IMPORTS) == imports + 1  # the failing load ran once, not per request
        assert health["status"] == "degraded"
        assert str(template) in health["details"]["kinds"]
        reported = [r for r in caplog.records if str(template) in r.getMessage()]
        assert len(reported) == 1, [r.getMessage() for r in caplog.records]

        template.write_text(good, encoding="utf-8")
        touch(template, step=20)
        assert http.get("/v1/kinds", headers=auth()).status_code == 200
        assert http.get("/healthz").json() == {"status": "ok", "version": health["version"]}


def test_a_broken_kind_at_start_refuses_to_serve(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    from summarizer.errors import KindError

    kind_file = tmp_path / "bad.py"
    kind_file.write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    settings = load_settings(base_url=fake_openai.base_url, kind_files=[kind_file])
    with pytest.raises(KindError, match=r"bad\.py"):
        create_app(settings, ServiceSettings(api_keys=KEY), Store(tmp_path / "store.db"))


def test_the_cli_does_not_import_a_failing_kind_file_twice(tmp_path: Path) -> None:
    from summarizer.errors import KindError

    kind_file = tmp_path / "bad.py"
    kind_file.write_text(
        "from tests.test_kinds_live import IMPORTS\nIMPORTS.append(1)\nraise RuntimeError('boom')\n",
        encoding="utf-8",
    )
    settings = load_settings(kind_files=[kind_file])
    for _ in range(3):
        with pytest.raises(KindError, match="boom"):
            kinds.registry_for(settings)
    assert len(IMPORTS) == 1


def test_the_slack_bot_keeps_serving_with_a_broken_template(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    from summarizer.slack.app import create_slack_http_app
    from tests.slack_fake import FakeSlack
    from tests.test_slack import BOT_TOKEN, SIGNING_SECRET, Bot

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    template = prompts / "brief.j2"
    good = (builtin_dir() / "brief.j2").read_text(encoding="utf-8")
    template.write_text(good, encoding="utf-8")
    settings = load_settings(base_url=fake_openai.base_url, prompts_dir=prompts)
    with FakeSlack() as slack:
        service = ServiceSettings(
            slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.url
        )
        app = create_slack_http_app(settings, service, Store(tmp_path / "store.db"))
        with LiveServer(app) as server:
            bot = Bot(server.url, slack, fake_openai, app)
            template.write_text(good.replace("{% block system %}", "{% block system %}{% if %}"))
            touch(template)
            r, _ = bot.command(ARTICLE)
            assert r.status_code == 200 and "Working on" in r.json()["text"]
            slack.wait_for(lambda: len(slack.posts) >= 1)
            health = httpx2.get(f"{server.url}/healthz", timeout=5).json()
            assert health["status"] == "degraded" and str(template) in health["details"]["kinds"]
