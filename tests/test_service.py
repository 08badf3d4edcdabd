"""The HTTP API, served for real by uvicorn on loopback and called over HTTP.

The model is the loopback FakeOpenAI; the store is a temporary SQLite file.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from summarizer.cli import app as cli
from summarizer.config import load_settings
from summarizer.core.schemas import Brief, DailyBrief
from summarizer.errors import ConfigError
from summarizer.service.app import create_app
from summarizer.serving.jobs import RESTARTED
from summarizer.serving.settings import ServiceSettings, load_service_settings
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply, grounded_brief
from tests.helpers import poll_job, wait_until
from tests.slack_fake import FakeSlack, LiveServer
from tests.test_render_html_slack import make_brief, make_daily

KEY = "key-alpha-0123456789SECRET"
OTHER_KEY = "key-beta-9876543210SECRET"
ADMIN_KEY = "key-admin-5555555555SECRET"
ARTICLE = (
    "The city council voted 7-2 on Tuesday to close the Elm Street bridge for repairs.\n\n"
    "Mayor Ana Ruiz said the closure was the only responsible choice after inspectors found "
    "corroded supports."
)


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Api:
    def __init__(self, url: str, fake: FakeOpenAI, store: Store, app: Any) -> None:
        self.url = url
        self.fake = fake
        self.store = store
        self.app = app
        self.http = httpx2.Client(base_url=url, timeout=30)

    def post(self, body: Any, key: str | None = KEY, **kw: Any) -> httpx2.Response:
        headers = auth(key) if key else {}
        headers.update(kw.pop("headers", {}))
        if isinstance(body, bytes):
            return self.http.post("/v1/briefs", content=body, headers=headers, **kw)
        return self.http.post("/v1/briefs", json=body, headers=headers, **kw)

    def get(self, path: str, key: str | None = KEY, **kw: Any) -> httpx2.Response:
        return self.http.get(path, headers=auth(key) if key else {}, **kw)

    def wait_job(self, job_id: str, key: str = KEY, timeout: float = 15) -> dict[str, Any]:
        return poll_job(lambda path: self.get(path, key), job_id, timeout=timeout)


@contextmanager
def serving(
    tmp_path: Path,
    fake: FakeOpenAI,
    store: Store | None = None,
    **service: Any,
) -> Iterator[Api]:
    settings = load_settings(base_url=fake.base_url, api_key="sk-test-LLMKEY-0123456789")
    svc = ServiceSettings(api_keys=f"{KEY},{OTHER_KEY}", **service)
    store = store or Store(tmp_path / "store.db")
    app = create_app(settings, svc, store)
    with LiveServer(app) as server:
        api = Api(server.url, fake, store, app)
        try:
            yield api
        finally:
            api.http.close()


@pytest.fixture
def api(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[Api]:
    with serving(tmp_path, fake_openai) as a:
        yield a


def doc(text: str = ARTICLE, **extra: Any) -> dict[str, Any]:
    return {"text": text, **extra}


# auth -------------------------------------------------------------------------------


def test_health_and_openapi_need_no_key(api: Api) -> None:
    assert api.get("/healthz", key=None).json()["status"] == "ok"
    spec = api.get("/openapi.json", key=None).json()
    assert {"/v1/briefs", "/v1/jobs/{job_id}", "/v1/briefs/{brief_id}"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing API key"),
        ({"Authorization": "Bearer wrong-key"}, "not recognised"),
        ({"Authorization": f"Basic {KEY}"}, "missing API key"),
        ({"Authorization": f"Bearer {KEY}x"}, "not recognised"),
    ],
)
def test_missing_or_wrong_key_is_401(api: Api, headers: dict[str, str], message: str) -> None:
    r = api.post({"documents": [doc()]}, key=None, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"]["type"] == "Unauthorized"
    assert message in r.json()["error"]["message"]
    assert api.fake.requests == []  # refused before any model call


def test_right_key_gets_a_brief_and_keys_never_leak(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    r = api.post({"documents": [doc(title="Bridge", url="https://example.com/a")]})
    assert r.status_code == 200, r.text
    brief = Brief.model_validate(r.json())
    assert brief.sources[0].title == "Bridge" and brief.sources[0].url == "https://example.com/a"
    assert brief.provenance.fixture is True
    assert r.headers["location"] == f"/v1/briefs/{r.headers['x-brief-id']}"
    # The other configured key works as well.
    assert api.post({"documents": [doc()]}, key=OTHER_KEY).status_code == 200
    for secret in (KEY, OTHER_KEY, "sk-test-LLMKEY-0123456789"):
        assert secret not in caplog.text and secret not in r.text
    assert api.get("/metrics", key=None).text.count(KEY) == 0


# briefs, formats and jobs -------------------------------------------------------------


def test_stored_brief_in_every_format(api: Api) -> None:
    r = api.post({"documents": [doc()]})
    brief_id = r.headers["x-brief-id"]
    assert api.get(f"/v1/briefs/{brief_id}").json() == r.json()
    stored = api.store.get_brief(brief_id)
    assert stored is not None and stored[0] == "brief"  # as `summarizer brief` stores it
    md = api.get(f"/v1/briefs/{brief_id}", params={"format": "md"})
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith(f"# {r.json()['title']}")
    html = api.get(f"/v1/briefs/{brief_id}", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "<table" in html.text
    slack = api.get(f"/v1/briefs/{brief_id}", params={"format": "slack"}).json()
    assert slack[0]["blocks"][0]["type"] == "header"
    bad = api.get(f"/v1/briefs/{brief_id}", params={"format": "pdf"})
    assert bad.status_code == 422 and bad.json()["error"]["type"] == "InvalidRequest"
    # The synchronous answer renders the same way.
    md_now = api.post({"documents": [doc()]}, params={"format": "md"})
    assert md_now.status_code == 200 and md_now.text.startswith("# ")


def test_daily_briefs_are_served_only_when_configured(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    store = Store(tmp_path / "store.db")
    daily = make_daily([make_brief()])
    brief_id = store.put_brief("daily", daily.model_dump_json(), title="Daily")
    cli_id = store.put_brief("article", make_brief().model_dump_json(), title="CLI")
    with serving(tmp_path, fake_openai, store=store) as api:  # the default: none
        for made_outside in (brief_id, cli_id):
            r = api.get(f"/v1/briefs/{made_outside}")
            assert r.status_code == 404 and r.json()["error"]["type"] == "NotFound"
    with serving(tmp_path, fake_openai, store=store, local_briefs="all") as api:
        assert DailyBrief.model_validate(api.get(f"/v1/briefs/{brief_id}").json()) == daily
        md = api.get(f"/v1/briefs/{brief_id}", params={"format": "md"}).text
        assert md.startswith("# Daily brief — 2025-03-04")
        html = api.get(f"/v1/briefs/{brief_id}", params={"format": "html"}).text
        assert "<h2>Not included</h2>" in html
    with serving(
        tmp_path, fake_openai, store=store, local_briefs="admin", admin_keys=ADMIN_KEY
    ) as api:
        assert api.get(f"/v1/briefs/{cli_id}").status_code == 404
        assert api.get(f"/v1/briefs/{cli_id}", ADMIN_KEY).status_code == 200


def test_briefs_belong_to_the_key_that_made_them(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with serving(tmp_path, fake_openai, admin_keys=ADMIN_KEY) as api:
        r = api.post({"documents": [doc()]})
        brief_id = r.headers["x-brief-id"]
        assert api.get(f"/v1/briefs/{brief_id}").status_code == 200
        other = api.get(f"/v1/briefs/{brief_id}", OTHER_KEY)
        # Exactly a missing brief's answer: another key cannot even learn the id exists.
        missing = api.get("/v1/briefs/0123456789abcdef", OTHER_KEY)
        assert other.status_code == 404 == missing.status_code
        assert other.json()["error"]["type"] == missing.json()["error"]["type"] == "NotFound"
        assert api.get(f"/v1/briefs/{brief_id}", ADMIN_KEY).status_code == 200
        job_id = api.post({"documents": [doc("First. " + ARTICLE), doc()]}).json()["job_id"]
        job = api.wait_job(job_id)
        assert api.get(f"/v1/jobs/{job_id}", OTHER_KEY).status_code == 404
        assert api.get(f"/v1/jobs/{job_id}", ADMIN_KEY).json()["brief_ids"] == job["brief_ids"]
        for b in job["brief_ids"]:
            assert api.get(f"/v1/briefs/{b}", OTHER_KEY).status_code == 404
        # The owner is stored as a hash of the key, never the key.
        owners = {r[0] for r in api.store._db.execute("SELECT owner FROM briefs")}
        assert owners == {_key_id(KEY)}
        dump = b"".join(line.encode() for line in api.store._db.iterdump())
        assert KEY.encode() not in dump and KEY[:16].encode() not in dump


def test_several_documents_become_a_job_with_one_brief_each(api: Api) -> None:
    docs = [doc(f"Report number {i}. " + ARTICLE) for i in range(3)]
    r = api.post({"documents": docs})
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    assert r.headers["location"] == f"/v1/jobs/{job_id}" == r.json()["status_url"]
    job = api.wait_job(job_id)
    assert job["status"] == "succeeded" and job["failures"] == [] and job["error"] is None
    summaries = [api.get(u).json()["summary"] for u in job["brief_urls"]]
    assert [s.split(".")[0] for s in summaries] == [f"Report number {i}" for i in range(3)]


def test_a_long_document_goes_to_a_job(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with serving(tmp_path, fake_openai, sync_threshold_chars=50) as api:
        r = api.post({"documents": [doc()]})
        assert r.status_code == 202
        assert api.wait_job(r.json()["job_id"])["status"] == "succeeded"


def test_one_failing_document_makes_a_partial_job(api: Api) -> None:
    def responder(request: dict[str, Any]) -> Reply:
        if "FAILME" in json.dumps(request):
            return Reply(status=400, raw_body='{"error": {"message": "bad request"}}')
        return grounded_brief(request)

    api.fake.responder = responder
    r = api.post({"documents": [doc(), doc("FAILME. " + ARTICLE)]})
    job = api.wait_job(r.json()["job_id"])
    assert job["status"] == "partial" and len(job["brief_ids"]) == 1
    assert job["failures"][0]["source"] == "documents[1]"
    assert job["failures"][0]["type"] == "RequestRejected"  # a 400: the request is at fault
    assert "HTTP 400" in job["failures"][0]["message"]


def test_jobs_are_private_to_their_key_and_unknown_ids_are_404(api: Api) -> None:
    job_id = api.post({"documents": [doc(), doc()]}).json()["job_id"]
    api.wait_job(job_id)
    for path, key in [
        (f"/v1/jobs/{job_id}", OTHER_KEY),
        ("/v1/jobs/0123456789abcdef", KEY),
        ("/v1/briefs/0123456789abcdef", KEY),
    ]:
        r = api.get(path, key)
        assert r.status_code == 404 and r.json()["error"]["type"] == "NotFound", path
    r = api.get("/v1/jobs/not-an-id!")
    assert r.status_code == 422
    assert api.get("/v1/nothing-here").status_code == 404


# limits and malformed input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "type_"),
    [
        (b'{"documents": [{"text": "unclosed', 400, "MalformedJSON"),
        (b"not json at all", 400, "MalformedJSON"),
        ({"documents": [doc("")]}, 422, "InputError"),
        ({"documents": [doc("   \n\t ")]}, 422, "InputError"),
        ({"documents": [doc("binary\x00data here")]}, 422, "InputError"),
        ({"documents": [doc("lone \ud800 surrogate")]}, 422, "InvalidInput"),
        ({"documents": [doc("x" * 5001)]}, 422, "DocumentTooLong"),
        ({"documents": [doc()] * 4}, 422, "TooManyDocuments"),
        ({"documents": [doc()], "urls": ["https://a.example/1"] * 3}, 422, "TooManyDocuments"),
        ({"documents": []}, 422, "InvalidRequest"),
        ({}, 422, "InvalidRequest"),
        ({"documents": [{"text": 5}]}, 422, "InvalidRequest"),
        ({"documents": [doc()], "extra": 1}, 422, "InvalidRequest"),
        ({"urls": ["ftp://example.com/a"]}, 422, "InvalidURL"),
        ([1, 2], 422, "InvalidRequest"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    tmp_path: Path, fake_openai: FakeOpenAI, body: Any, status: int, type_: str
) -> None:
    with serving(tmp_path, fake_openai, max_documents=3, max_document_chars=5000) as api:
        if isinstance(body, dict | list) and not isinstance(body, bytes):
            # json= would refuse a lone surrogate; send it as JSON text, as a client could.
            raw = json.dumps(body).encode()
            r = api.post(raw, headers={"content-type": "application/json"})
        else:
            r = api.post(body, headers={"content-type": "application/json"})
        assert r.status_code == status, r.text
        err = r.json()["error"]
        assert err["type"] == type_ and err["message"] and "\n" not in err["message"]
        assert "Traceback" not in r.text
        assert fake_openai.requests == []


def test_oversize_body_is_413_with_or_without_content_length(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with serving(tmp_path, fake_openai, max_body_bytes=10_000) as api:
        big = json.dumps({"documents": [doc("y" * 20_000)]}).encode()
        r = api.post(big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["type"] == "PayloadTooLarge"

        def chunks() -> Iterator[bytes]:  # chunked: no Content-Length to trust
            for i in range(0, len(big), 4096):
                yield big[i : i + 4096]

        r = api.http.post(
            "/v1/briefs", content=chunks(), headers={**auth(), "content-type": "application/json"}
        )
        assert "content-length" not in r.request.headers
        assert r.status_code == 413
        assert "10,000-byte limit" in r.json()["error"]["message"]
        assert fake_openai.requests == []


def test_rate_limit_is_per_key(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with serving(tmp_path, fake_openai, rate_limit_per_minute=2) as api:
        assert [api.get("/v1/jobs/0123456789abcdef").status_code for _ in range(2)] == [404, 404]
        r = api.get("/v1/jobs/0123456789abcdef")
        assert r.status_code == 429 and r.json()["error"]["type"] == "RateLimited"
        assert int(r.headers["retry-after"]) >= 1
        assert api.get("/v1/jobs/0123456789abcdef", OTHER_KEY).status_code == 404


def test_concurrent_requests_each_get_their_own_brief(api: Api) -> None:
    results: dict[int, httpx2.Response] = {}

    def call(i: int) -> None:
        with httpx2.Client(base_url=api.url, timeout=30) as c:
            results[i] = c.post(
                "/v1/briefs", json={"documents": [doc(f"Story {i} opens here. " + ARTICLE)]},
                headers=auth(),
            )  # fmt: skip

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == list(range(8))
    assert all(r.status_code == 200 for r in results.values())
    assert {i: r.json()["summary"].split(".")[0] for i, r in results.items()} == {
        i: f"Story {i} opens here" for i in range(8)
    }
    assert len({r.headers["x-brief-id"] for r in results.values()}) == 8


# errors from the library map to statuses, without tracebacks -------------------------------


@pytest.mark.parametrize(
    ("reply", "status", "type_"),
    [
        (Reply(status=500, headers={"retry-after-ms": "1"}), 502, "ProviderError"),
        (Reply({"title": "only a title"}), 502, "ModelOutputError"),
    ],
)
def test_model_failures_are_502(
    tmp_path: Path, fake_openai: FakeOpenAI, reply: Reply, status: int, type_: str
) -> None:
    fake_openai.responder = lambda _req: reply
    with serving(tmp_path, fake_openai) as api:
        r = api.post({"documents": [doc()]})
        assert r.status_code == status
        assert r.json()["error"]["type"] == type_
        assert "Traceback" not in r.text and "sk-test-LLMKEY" not in r.text


def test_replay_miss_is_503(tmp_path: Path) -> None:
    (tmp_path / "rec").mkdir()
    settings = load_settings(replay_dir=tmp_path / "rec")
    app = create_app(settings, ServiceSettings(api_keys=KEY), Store(tmp_path / "s.db"))
    with LiveServer(app) as server, httpx2.Client(base_url=server.url) as c:
        r = c.post("/v1/briefs", json={"documents": [doc()]}, headers=auth())
    assert r.status_code == 503 and r.json()["error"]["type"] == "ReplayMissError"


def test_a_bug_is_a_plain_500(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(api.app.state.briefer, "brief", boom)
    r = api.post({"documents": [doc()]})
    assert r.status_code == 500
    assert r.json() == {
        "error": {
            "type": "InternalError",
            "message": "internal error; the server log has the details",
        }
    }


def test_no_keys_or_no_endpoint_refuses_to_start(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    settings = load_settings(base_url=fake_openai.base_url)
    with pytest.raises(ConfigError, match="no API keys"):
        create_app(settings, ServiceSettings(), Store(tmp_path / "s.db"))
    with pytest.raises(ConfigError, match="no LLM endpoint"):
        create_app(load_settings(), ServiceSettings(api_keys=KEY), Store(tmp_path / "s.db"))


def test_cli_serve_and_slack_say_what_is_missing(tmp_path: Path) -> None:
    runner = CliRunner()
    common = ["--base-url", "http://127.0.0.1:9/v1", "--store", str(tmp_path / "s.db")]
    r = runner.invoke(cli, ["serve", *common])
    assert r.exit_code == 3 and "no API keys" in r.output
    r = runner.invoke(cli, ["slack", *common])
    assert r.exit_code == 3 and "SLACK_BOT_TOKEN is not set" in r.output


def test_keys_come_from_the_environment_or_the_service_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIZER_API_KEYS", " k1 , k2,")
    assert load_service_settings().key_values() == [b"k1", b"k2"]
    monkeypatch.delenv("SUMMARIZER_API_KEYS")
    cfg = tmp_path / "service.toml"
    cfg.write_text('api_keys = ["k3"]\nmax_documents = 7\n')
    s = load_service_settings(cfg)
    assert (s.key_values(), s.max_documents) == ([b"k3"], 7)
    assert "k3" not in repr(s)
    cfg.write_text("max_documentz = 7\n")
    with pytest.raises(ConfigError, match="max_documentz"):
        load_service_settings(cfg)


# persistence across restarts --------------------------------------------------------------


def test_restart_keeps_briefs_and_fails_unfinished_jobs(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    path = tmp_path / "store.db"
    with serving(tmp_path, fake_openai, store=Store(path)) as api:
        brief_id = api.post({"documents": [doc()]}).headers["x-brief-id"]
    # A job a killed process left running, as the store would hold it.
    left = Store(path)
    job_id = left.create_job("{}", owner=_key_id(KEY))
    left.update_job(job_id, "running")
    with serving(tmp_path, fake_openai, store=Store(path)) as api:
        assert api.get(f"/v1/briefs/{brief_id}").status_code == 200
        job = api.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "failed"
        assert job["error"] == {"type": "JobInterrupted", "message": RESTARTED}


def test_stopping_marks_a_running_job_failed(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda req: Reply(grounded_brief(req).payload, delay=3.0)
    with serving(tmp_path, fake_openai) as api:
        job_id = api.post({"documents": [doc(), doc()]}).json()["job_id"]
        _wait(lambda: len(fake_openai.requests) >= 1)
        store = api.store
    row = store.get_job(job_id)
    assert row is not None and row["status"] == "failed"
    assert "server stopped before the job finished" in row["error"]


# URLs ---------------------------------------------------------------------------------


def test_urls_are_fetched_in_a_job(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with FakeSlack() as web:
        web.pages["a"] = ("text/plain; charset=utf-8", ARTICLE.encode())
        with serving(tmp_path, fake_openai, allow_private_urls=True) as api:
            r = api.post({"urls": [web.page_url("a"), web.page_url("missing")]})
            job = api.wait_job(r.json()["job_id"])
            assert job["status"] == "partial"
            brief = api.get(job["brief_urls"][0]).json()
            assert brief["sources"][0]["url"] == web.page_url("a")
            assert job["failures"][0]["source"] == web.page_url("missing")
            assert job["failures"][0]["type"] == "InputError"


def test_private_addresses_are_refused_by_default(api: Api) -> None:
    r = api.post({"urls": ["http://127.0.0.1:9/admin"]})
    job = api.wait_job(r.json()["job_id"])
    assert job["status"] == "failed"
    assert job["error"]["type"] == "InputError"
    assert "private or local address" in job["error"]["message"]


# metrics ------------------------------------------------------------------------------


def test_metrics_count_requests_tokens_and_errors(api: Api) -> None:
    api.post({"documents": [doc()]})
    api.post({"documents": [doc()]}, key="wrong")
    text = api.get("/metrics", key=None).text
    assert (
        'summarizer_http_requests_total{method="POST",route="/v1/briefs",status="200"} 1.0' in text
    )
    assert 'summarizer_errors_total{type="Unauthorized"} 1.0' in text
    assert _metric(text, 'summarizer_llm_tokens_total{direction="in"}') > 0
    assert _metric(text, 'summarizer_llm_tokens_total{direction="out"}') > 0
    assert _metric(text, "summarizer_llm_calls_total") == 1
    assert (
        'summarizer_http_request_duration_seconds_count{method="POST",route="/v1/briefs"}' in text
    )


# helpers ------------------------------------------------------------------------------


def _key_id(key: str) -> str:
    from summarizer.serving.auth import key_id

    return key_id(key.encode())


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in metrics")


def _wait(predicate: Callable[[], Any], timeout: float = 10) -> None:
    wait_until(predicate, timeout=timeout)


def test_one_config_file_holds_model_daily_and_service_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer.config import load_settings
    from summarizer.daily import load_daily_config

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        'model = "gpt-4.1-mini"\n\n[daily]\nsources = ["feeds/"]\n\n'
        '[service]\napi_keys = ["k9"]\nmax_documents = 3\n'
    )
    assert load_settings(cfg).model == "gpt-4.1-mini"
    assert load_daily_config(cfg).sources == ["feeds/"]
    s = load_service_settings(main_config=cfg)
    assert (s.key_values(), s.max_documents) == ([b"k9"], 3)
    monkeypatch.setenv("SUMMARIZER_MAX_DOCUMENTS", "5")  # the environment beats the file
    assert load_service_settings(main_config=cfg).max_documents == 5
    cfg.write_text("[service]\nmax_documentz = 1\n")
    with pytest.raises(ConfigError, match="max_documentz"):
        load_service_settings(main_config=cfg)
