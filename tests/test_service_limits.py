"""Hostile and unlucky callers of the HTTP API and the Slack endpoint, against a real
uvicorn on loopback: oversize bodies (with and without Content-Length, from clients that
send everything before reading), floods of tiny documents, a full synchronous queue,
key guessing, weak keys, keys in URLs, clients that hang up, and upstream bodies that
must never reach a caller."""

from __future__ import annotations

import json
import logging
import socket
import threading
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from summarizer.cli import app as cli
from summarizer.config import load_settings
from summarizer.errors import ConfigError
from summarizer.service import app as service_app
from summarizer.service.app import create_app
from summarizer.serving.settings import SLACK_MAX_BODY_BYTES, ServiceSettings
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply, grounded_brief
from tests.slack_fake import LiveServer
from tests.test_service import ARTICLE, KEY, OTHER_KEY, _metric, _wait, auth, doc, serving
from tests.test_slack import running_bot

MB = 1024 * 1024


def _urllib_post(url: str, data: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST as Python's urllib does: the whole body is sent before the answer is read."""
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    block = b"x" * size
    for _ in range(total // size):
        yield block


# 10: a 413 reaches clients that send everything first ---------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_urllib_gets_the_413_for_a_30_mb_body(
    tmp_path: Path, fake_openai: FakeOpenAI, chunked: bool
) -> None:
    with serving(tmp_path, fake_openai) as api:
        headers = {**auth(), "Content-Type": "application/json"}
        # An iterable body without Content-Length makes urllib send it chunked.
        data: Any = _chunks(30 * MB) if chunked else b"x" * (30 * MB)
        status, body = _urllib_post(f"{api.url}/v1/briefs", data, headers)
    assert status == 413
    assert body["error"]["type"] == "PayloadTooLarge"
    assert "2,500,000-byte limit" in body["error"]["message"]
    assert fake_openai.requests == []


# 6: the Slack endpoint has a body limit, enforced while the body streams ------------------


def test_slack_refuses_an_oversize_unsigned_body_without_holding_it(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with running_bot(tmp_path, fake_openai) as bot:
        tracemalloc.start()
        try:
            status, body = _urllib_post(
                f"{bot.url}/slack/events", _chunks(24 * MB), {"Content-Type": "application/json"}
            )
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert status == 413 and body["error"]["type"] == "PayloadTooLarge"
    # Bolt used to read the whole body to check its signature: 24 MB held at once. Now no
    # more than the limit is ever held (the rest is read and dropped as it arrives).
    assert peak < SLACK_MAX_BODY_BYTES + 4 * MB, peak
    assert bot.slack.calls == [] and fake_openai.requests == []


def test_slack_refuses_a_declared_oversize_body_before_it_is_sent(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with running_bot(tmp_path, fake_openai) as bot:
        host, port = bot.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000000\r\n\r\n" + b"{" * 1000
            )
            # The answer comes at once: the server never waits for the other 99.99 MB.
            answer = ""
            while "PayloadTooLarge" not in answer:
                chunk = s.recv(65536).decode()
                if not chunk:
                    break
                answer += chunk
    assert answer.startswith("HTTP/1.1 413")
    assert "PayloadTooLarge" in answer


def test_slack_limit_leaves_real_payloads_alone(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    # A slash command as big as Slack ever sends: 40,000 characters, nearly all of them
    # 4-byte UTF-8, which form-encoding triples: the worst case, under half a megabyte.
    text = (ARTICLE + " " + "\U0001f309" * 40_000)[:40_000]
    with running_bot(tmp_path, fake_openai) as bot:
        r, body = bot.command(text)
        assert len(body) > 450_000
        assert r.status_code == 200


# 9: one request cannot stall the service -----------------------------------------------


def test_documents_are_counted_before_any_is_looked_at(api_small: Any) -> None:
    # 190,000 tiny documents, the first of them invalid: the count is refused first.
    many = json.dumps({"documents": [{"text": 5}] + [{"text": "x"}] * 189_999}).encode()
    r = api_small.post(many, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "TooManyDocuments"
    assert "190,000 documents and URLs is over the limit of 20" in r.json()["error"]["message"]


@pytest.fixture
def api_small(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[Any]:
    with serving(tmp_path, fake_openai, max_body_bytes=5_000_000) as api:
        yield api


def test_request_parsing_runs_off_the_event_loop(
    api_small: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, str] = {}
    real_parse = service_app.parse_brief_request
    briefer = api_small.app.state.briefer
    real_brief = briefer.brief

    def parse(*args: Any, **kwargs: Any) -> Any:
        threads["parse"] = threading.current_thread().name
        return real_parse(*args, **kwargs)

    async def brief(*args: Any, **kwargs: Any) -> Any:
        threads["loop"] = threading.current_thread().name
        return await real_brief(*args, **kwargs)

    monkeypatch.setattr(service_app, "parse_brief_request", parse)
    monkeypatch.setattr(briefer, "brief", brief)
    assert api_small.post({"documents": [doc()]}).status_code == 200
    assert threads["parse"] != threads["loop"]


def test_a_full_synchronous_queue_answers_503_with_retry_after(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda req: Reply(grounded_brief(req).payload, delay=2.0)
    settings = load_settings(base_url=fake_openai.base_url, concurrency=1)
    svc = ServiceSettings(api_keys=KEY, max_sync_waiting=0)
    app = create_app(settings, svc, Store(tmp_path / "s.db"))
    first: dict[str, httpx2.Response] = {}
    with LiveServer(app) as server, httpx2.Client(base_url=server.url, timeout=30) as c:

        def slow() -> None:
            first["r"] = c.post("/v1/briefs", json={"documents": [doc()]}, headers=auth())

        t = threading.Thread(target=slow)
        t.start()
        _wait(lambda: fake_openai.requests)
        busy = c.post("/v1/briefs", json={"documents": [doc("Other. " + ARTICLE)]}, headers=auth())
        t.join(30)
        # A job is not held to the synchronous queue: it is accepted.
        job = c.post("/v1/briefs", json={"documents": [doc(), doc()]}, headers=auth())
    assert busy.status_code == 503
    assert busy.json()["error"]["type"] == "Busy"
    assert int(busy.headers["retry-after"]) >= 1
    assert first["r"].status_code == 200
    assert job.status_code == 202


# 13: failed logins, weak keys, keys in the access log, disconnects -----------------------


def test_failed_authentications_are_throttled_per_client(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with serving(tmp_path, fake_openai, auth_failures_per_minute=3) as api:
        wrong = [api.get("/v1/jobs/0123456789abcdef", "wrong-key").status_code for _ in range(3)]
        assert wrong == [401, 401, 401]
        blocked = api.get("/v1/jobs/0123456789abcdef", "wrong-key")
        assert blocked.status_code == 429
        assert blocked.json()["error"]["type"] == "TooManyFailedLogins"
        assert int(blocked.headers["retry-after"]) >= 1
        # Guessing right now does not help: the address waits out its bucket first.
        assert api.get("/v1/jobs/0123456789abcdef", KEY).status_code == 429
        # Another client address is not held back by this one's failures.
        other = httpx2.Client(
            base_url=api.url, transport=httpx2.HTTPTransport(local_address="127.0.0.2")
        )
        with other:
            r = other.get("/v1/jobs/0123456789abcdef", headers=auth(OTHER_KEY))
        assert r.status_code == 404
        assert 'summarizer_errors_total{type="TooManyFailedLogins"}' in api.get("/metrics").text


def test_short_api_keys_are_refused_at_start_up(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    settings = load_settings(base_url=fake_openai.base_url)
    with pytest.raises(ConfigError, match="key 2 of 2 has 9 characters, under the 16"):
        create_app(settings, ServiceSettings(api_keys=f"{KEY},short-key"), Store(tmp_path / "a"))
    with pytest.raises(ConfigError, match="SUMMARIZER_ADMIN_KEYS"):
        create_app(settings, ServiceSettings(api_keys=KEY, admin_keys="adm"), Store(tmp_path / "b"))
    r = CliRunner().invoke(
        cli,
        ["serve", "--base-url", fake_openai.base_url, "--store", str(tmp_path / "s.db")],
        env={"SUMMARIZER_API_KEYS": "tiny-secret-1"},
    )
    assert r.exit_code == 3
    assert "under the 16 needed" in r.output and "tiny-secret-1" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_keys_in_a_url_never_reach_the_access_log(
    tmp_path: Path, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    import uvicorn

    settings = load_settings(base_url=fake_openai.base_url)
    app = create_app(settings, ServiceSettings(api_keys=KEY), Store(tmp_path / "s.db"))
    # log_config=None: uvicorn's access records reach pytest's handler.
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=True)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    with LiveServer(app, config=config) as server:
        httpx2.get(f"{server.url}/v1/jobs/0123456789abcdef?api_key={KEY}&format=md")
        httpx2.get(f"{server.url}/healthz?token={OTHER_KEY}")
        _wait(lambda: len([r for r in caplog.records if r.name == "uvicorn.access"]) >= 2)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/v1/jobs/0123456789abcdef?api_key=[REDACTED]&format=md" in ln for ln in lines)
    assert KEY not in caplog.text and OTHER_KEY not in caplog.text


def test_a_client_that_hangs_up_is_counted_as_a_disconnect_not_a_500(
    api_small: Any, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = api_small.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(
            b"POST /v1/briefs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {KEY}\r\nContent-Length: 5000\r\n\r\n".encode()
            + b'{"documents": ['
        )
    _wait(
        lambda: (
            "summarizer_client_disconnects_total{" in api_small.get("/metrics").text
            and _metric(
                api_small.get("/metrics").text,
                'summarizer_client_disconnects_total{method="POST",route="unmatched"}',
            )
            == 1
        )
    )
    text = api_small.get("/metrics").text
    assert 'status="500"' not in text
    assert "InternalError" not in text
    assert "unhandled error" not in caplog.text


def test_a_caller_that_gives_up_on_a_slow_brief_is_a_disconnect(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda req: Reply(grounded_brief(req).payload, delay=2.0)
    with serving(tmp_path, fake_openai) as api:
        with pytest.raises(httpx2.TimeoutException):
            httpx2.post(
                f"{api.url}/v1/briefs", json={"documents": [doc()]}, headers=auth(), timeout=0.5
            )
        route = 'method="POST",route="/v1/briefs"'
        _wait(
            lambda: (
                f"summarizer_client_disconnects_total{{{route}}} 1.0" in api.get("/metrics").text
            )
        )
        assert f"summarizer_http_requests_total{{{route}" not in api.get("/metrics").text
        # The brief was made and kept: asking again costs nothing.
        calls = len(fake_openai.requests)
        assert api.post({"documents": [doc()]}).status_code == 200
        assert len(fake_openai.requests) == calls


# 7: callers get the status and a short reason, the log gets the (redacted) body -----------


def test_upstream_bodies_stay_in_the_server_log_redacted(
    tmp_path: Path, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    leaked = '{"error": {"message": "Incorrect API key provided: Bearer sk-live-SECRETKEYabc"}}'
    fake_openai.responder = lambda _req: Reply(status=401, raw_body=leaked)
    caplog.set_level(logging.WARNING, logger="summarizer.service")
    with serving(tmp_path, fake_openai) as api:
        r = api.post({"documents": [doc()]})
        job = api.wait_job(api.post({"documents": [doc(), doc("B. " + ARTICLE)]}).json()["job_id"])
    assert r.status_code == 502
    assert r.json()["error"] == {
        "type": "ProviderError",
        "message": "the model endpoint answered HTTP 401; the server's model credentials "
        "were refused",
    }
    assert job["failures"][0]["message"] == r.json()["error"]["message"]
    assert "Incorrect API key" not in r.text + json.dumps(job)
    # The operator sees what the endpoint said, with the key-shaped part masked.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("summarizer"))
    assert "Incorrect API key provided" in ours
    assert "SECRETKEY" not in ours and "sk-live" not in ours


def test_the_server_log_handler_redacts_what_libraries_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from summarizer.cli import edge

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        edge.setup_logging(verbose=True)  # --verbose shows libraries' own lines
        logging.getLogger("a.library").error(
            "API call failed: Error code: 401 - %s",
            {"error": {"message": "Incorrect API key provided: Bearer sk-live-SECRETKEYabc"}},
        )
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    assert "Incorrect API key provided" in err and "SECRETKEY" not in err


@pytest.mark.parametrize(
    "base_url",
    ["http://user:PASSWORD123456@127.0.0.1:9/v1", "http://127.0.0.1:9/v1?api-key=PASSWORD123456"],
)
def test_a_credentialed_base_url_never_reaches_callers_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, base_url: str
) -> None:
    caplog.set_level(logging.WARNING, logger="summarizer.service")
    settings = load_settings(base_url=base_url, timeout=2, http_retries=0)
    app = create_app(settings, ServiceSettings(api_keys=KEY), Store(tmp_path / "s.db"))
    with LiveServer(app) as server:
        r = httpx2.post(
            f"{server.url}/v1/briefs", json={"documents": [doc()]}, headers=auth(), timeout=30
        )
    assert r.status_code == 502
    assert r.json()["error"]["message"] == (
        # Port 9 refuses the connection: said as such (issue 19.10), with no address.
        "the model endpoint refused the connection; the operator must check it"
    )
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("summarizer"))
    assert "PASSWORD123456" not in r.text and "PASSWORD123456" not in ours
    assert "ProviderUnreachable" in ours
