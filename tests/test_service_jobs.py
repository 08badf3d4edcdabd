"""Jobs across processes: two real `summarizer serve` processes on one store, a process
killed with -9, a server stopped mid-job, and resubmissions that must not pay twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from summarizer.serving.jobs import RESTARTED, STOPPED
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply, articles_in, grounded_brief
from tests.helpers import answer, poll_job
from tests.test_service import ARTICLE, KEY, OTHER_KEY, _wait, auth, doc, serving

FAST = "Fast report. " + ARTICLE
SLOW = "Slow report. " + ARTICLE


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    log: list[str] = field(default_factory=list)

    def get(self, path: str, key: str = KEY) -> httpx2.Response:
        return httpx2.get(f"{self.url}{path}", headers=auth(key), timeout=30)

    def post(self, body: Any, key: str = KEY) -> httpx2.Response:
        return httpx2.post(f"{self.url}/v1/briefs", json=body, headers=auth(key), timeout=30)


@contextmanager
def server_process(tmp_path: Path, store: Path, fake: FakeOpenAI) -> Iterator[Server]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        "XDG_DATA_HOME": str(tmp_path / ".data"),
        "SUMMARIZER_API_KEYS": f"{KEY},{OTHER_KEY}",
        # A short lease so the test sees renewals and reaping within seconds.
        "SUMMARIZER_JOB_LEASE_SECONDS": "1",
    }
    cmd = [sys.executable, "-m", "summarizer", "serve", "--port", "0", "--store", str(store)]
    proc = subprocess.Popen(
        [*cmd, "--base-url", fake.base_url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # uvicorn's access log goes to stdout, the rest to stderr
        text=True,
    )
    assert proc.stdout is not None
    log: list[str] = []
    url = ""
    for line in proc.stdout:
        log.append(line)
        m = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
        if m:
            url = m.group(1)
            break
    assert url, "".join(log)
    # Keep reading, so the child never blocks on a full pipe.
    reader = threading.Thread(target=lambda: log.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        yield Server(proc, url, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(timeout=10)
        proc.stdout.close()


def slow_responder(fake: FakeOpenAI, slow: threading.Event) -> None:
    """The slow document's answer is held (in the fake's request thread) while `slow` is
    set, at most 20 s; the rest are answered at once."""

    def responder(request: dict[str, Any]) -> Reply:
        if any("Slow report" in t for t in articles_in(request).values()):
            deadline = time.monotonic() + 20
            while slow.is_set() and time.monotonic() < deadline:
                time.sleep(0.02)
        return grounded_brief(request)

    fake.responder = responder


def asked_about(fake: FakeOpenAI, marker: str) -> int:
    return sum(marker in t for r in fake.requests for t in articles_in(r).values())


def wait_done(server: Server, job_id: str) -> dict[str, Any]:
    return poll_job(server.get, job_id, timeout=30)


def test_a_second_process_leaves_the_first_ones_job_alone(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    slow = threading.Event()
    slow.set()
    slow_responder(fake_openai, slow)
    store = tmp_path / "store.db"
    with server_process(tmp_path, store, fake_openai) as a:
        job_id = answer(a.post({"documents": [doc(FAST), doc(SLOW)]}), 202)["job_id"]
        _wait(lambda: asked_about(fake_openai, "Slow report"))
        with server_process(tmp_path, store, fake_openai) as b:
            # b started, renewed its own lease and reaped (every quarter second) while a
            # was still briefing: a's job was never failed, and it finishes.
            for _ in range(3):  # well past a lease (1 s) of b's reaping
                assert answer(b.get(f"/v1/jobs/{job_id}"))["status"] == "running"
                time.sleep(0.5)
            slow.clear()
            job = wait_done(b, job_id)
            assert job["status"] == "succeeded" and len(job["brief_ids"]) == 2
            assert job["error"] is None
        # A key in the URL is masked in the real access log of `summarizer serve`.
        a.get(f"/healthz?api_key={KEY}")
        _wait(lambda: any("/healthz?api_key=[REDACTED]" in line for line in a.log))
        assert KEY not in "".join(a.log)


def test_a_killed_process_s_job_is_failed_with_its_finished_briefs(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    slow = threading.Event()
    slow.set()
    slow_responder(fake_openai, slow)
    store = tmp_path / "store.db"
    body = {"documents": [doc(FAST), doc(SLOW)]}
    with server_process(tmp_path, store, fake_openai) as b:
        with server_process(tmp_path, store, fake_openai) as a:
            job_id = answer(a.post(body), 202)["job_id"]
            _wait(lambda: len(answer(a.get(f"/v1/jobs/{job_id}"))["brief_ids"]) == 1)
            _wait(lambda: asked_about(fake_openai, "Slow report"))
            a.proc.kill()  # -9: no clean-up of any kind
            a.proc.wait()
        job = wait_done(b, job_id)
        assert job["status"] == "failed"
        assert job["error"] == {"type": "JobInterrupted", "message": RESTARTED}
        (fast_id,) = job["brief_ids"]
        assert b.get(f"/v1/briefs/{fast_id}").json()["summary"].startswith("Fast report")
        # Resubmitted: the finished document is not paid for again.
        slow.clear()
        fast_calls = asked_about(fake_openai, "Fast report")
        again = wait_done(b, answer(b.post(body), 202)["job_id"])
        assert again["status"] == "succeeded"
        assert again["brief_ids"][0] == fast_id
        assert asked_about(fake_openai, "Fast report") == fast_calls


def test_a_stopped_server_lists_what_it_finished_and_a_restart_reuses_it(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    slow = threading.Event()
    slow.set()
    slow_responder(fake_openai, slow)
    store = Store(tmp_path / "store.db")
    with serving(tmp_path, fake_openai, store=store) as api:
        job_id = answer(api.post({"documents": [doc(FAST), doc(SLOW)]}), 202)["job_id"]
        _wait(lambda: len(store.job_results(job_id)) == 1)
    row = store.get_job(job_id)
    assert row is not None and row["status"] == "failed" and row["error"] == STOPPED
    slow.clear()
    with serving(tmp_path, fake_openai, store=Store(tmp_path / "store.db")) as api:
        job = api.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "failed" and len(job["brief_ids"]) == 1
        assert job["error"]["message"] == STOPPED
        before = asked_about(fake_openai, "Fast report")
        again = api.wait_job(answer(api.post({"documents": [doc(FAST), doc(SLOW)]}), 202)["job_id"])
        assert again["status"] == "succeeded" and again["brief_ids"][0] == job["brief_ids"][0]
        assert asked_about(fake_openai, "Fast report") == before


def test_resubmitting_reuses_the_key_s_own_briefs_only(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with serving(tmp_path, fake_openai) as api:
        first = api.post({"documents": [doc()]})
        calls = len(fake_openai.requests)
        again = api.post({"documents": [doc()]})
        assert again.headers["x-brief-id"] == first.headers["x-brief-id"]
        assert again.json() == first.json()
        assert len(fake_openai.requests) == calls
        # Another key's identical document is its own brief, paid for separately.
        other = api.post({"documents": [doc()]}, key=OTHER_KEY)
        assert other.headers["x-brief-id"] != first.headers["x-brief-id"]
        assert len(fake_openai.requests) == calls + 1


def test_a_lease_that_is_renewed_is_never_reaped(store_target: str) -> None:
    store = Store(store_target)
    host = "this-host"
    alive = store.register_worker(host, os.getpid())
    gone = store.register_worker(host, _dead_pid())
    elsewhere = store.register_worker("other-host", _dead_pid())
    jobs = {w: store.create_job("{}", owner="k", worker=w) for w in (alive, gone, elsewhere)}
    for job in jobs.values():
        store.update_job(job, "running")
    # Same host and its pid gone: failed at once; another host's worker keeps its lease.
    assert store.reap_jobs(60, host, "gone") == 1
    assert store.get_job(jobs[gone])["status"] == "failed"  # type: ignore[index]
    assert store.get_job(jobs[elsewhere])["status"] == "running"  # type: ignore[index]
    # A lease not renewed in time lapses, wherever its process runs; a renewed one holds.
    with store._tx() as db:
        db.execute("UPDATE workers SET heartbeat = heartbeat - 120")
    store.heartbeat(alive)
    assert store.reap_jobs(60, host, "gone") == 1
    assert store.get_job(jobs[elsewhere])["status"] == "failed"  # type: ignore[index]
    assert store.get_job(jobs[alive])["status"] == "running"  # type: ignore[index]
    # A job that was failed never turns succeeded when its process finishes after all.
    assert store.finish_job(jobs[gone], "succeeded") is False
    assert store.get_job(jobs[gone])["status"] == "failed"  # type: ignore[index]


def test_results_owners_and_spend_in_either_store(store_target: str) -> None:
    from summarizer.llm.calls import CallRecord

    store = Store(store_target)
    job = store.create_job("{}", owner="k1", worker=None)
    store.set_job_result(job, 1, "documents[1]", error_type="InputError", error="empty")
    store.set_job_result(job, 0, "documents[0]", brief_id="b0")
    store.set_job_result(job, 1, "documents[1]", brief_id="b1")  # a retry that succeeded
    assert [(r["source"], r["brief_id"], r["error"]) for r in store.job_results(job)] == [
        ("documents[0]", "b0", None),
        ("documents[1]", "b1", None),
    ]
    mine = store.put_brief("brief", "{}", title="t", owner="k1", source_key="sha:key")
    store.put_brief("brief", "{}", title="t", owner="k2", source_key="sha:key")
    assert store.find_brief("k1", "sha:key") == (mine, "brief", "{}")
    assert store.find_brief("k3", "sha:key") is None
    assert store.get_brief_owned(mine) == ("brief", "{}", "k1")
    call = CallRecord("k", "gpt-4o-mini", 200, 1000, 100, 5.0, False, False)
    store.record_calls(None, [call, call], lambda m, i, o, c=0, **_: 0.25, origin="api")
    store.record_calls("run", [call], lambda m, i, o, c=0, **_: None)
    assert store.spend() == [("api", 2, 2000, 200, 0.5, 0), ("daily", 1, 1000, 100, None, 0)]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))


def test_a_brief_is_kept_with_its_document_and_calls_in_one_transaction(
    store_target: str,
) -> None:
    from summarizer.llm.calls import CallRecord
    from summarizer.sources.ingest import Document

    store = Store(store_target)
    call = CallRecord("k", "gpt-4o-mini", 200, 1000, 100, 5.0, False, False)
    price = lambda m, i, o, c=0, **_: 0.25  # noqa: E731
    counts = (
        "SELECT (SELECT COUNT(*) FROM llm_calls), (SELECT COUNT(*) FROM documents), "
        "(SELECT COUNT(*) FROM extractions), (SELECT COUNT(*) FROM briefs)"
    )
    d = Document(text="Some article.", title="T", url="https://example.org/a")
    # A write that fails half-way (here: a title the driver cannot store) leaves nothing.
    with pytest.raises(Exception):  # noqa: B017 (the driver's own error: a bug)
        store.keep_brief(d, "{}", records=[call], price=price, origin="api", kind="brief",
                         title=object())  # type: ignore[arg-type]  # fmt: skip
    assert tuple(store.query(counts)[0]) == (0, 0, 0, 0)
    # No brief came of the calls: only they are kept.
    assert store.keep_brief(d, None, records=[call], price=price, origin="api") is None
    assert tuple(store.query(counts)[0]) == (1, 0, 0, 0)
    brief_id = store.keep_brief(
        d, "{}", records=[call, call], price=price, origin="api", result_key="key",
        kind="brief", title="t", owner="k1", source_key=f"{d.sha256}:key",
    )  # fmt: skip
    assert tuple(store.query(counts)[0]) == (3, 1, 1, 1)
    assert store.find_brief("k1", f"{d.sha256}:key") == (brief_id, "brief", "{}")
    assert store.get_extraction(d.sha256, "key") == "{}"


def test_a_retried_job_keeps_what_its_first_attempt_finished(
    tmp_path: Path, store_target: str, fake_openai: FakeOpenAI
) -> None:
    """A queue job retried after its worker died (service/jobs.py: run_stored_job): a
    document with a listed result keeps it, and a brief kept but not yet listed when the
    worker died (killed between the two writes) is found again, not made twice."""
    import asyncio

    from summarizer.config import load_settings
    from summarizer.serving.jobs import Briefer, BriefRequest
    from summarizer.serving.metrics import Metrics
    from summarizer.sources.ingest import Document

    store = Store(store_target)
    settings = load_settings(base_url=fake_openai.base_url, api_key="sk-test-LLMKEY-0123456789")
    texts = [f"Dispatch {i}: {ARTICLE}" for i in range(3)]
    request = BriefRequest.model_validate({"documents": [{"text": t} for t in texts]})

    async def scenario() -> tuple[list[str], list[str]]:
        briefer = Briefer(settings, store, Metrics())
        try:
            job_id = store.create_job(request.model_dump_json(), owner="k1")
            store.update_job(job_id, "running")
            # The first attempt listed document 0 and kept document 1, then died.
            listed, _ = await briefer.brief(Document(text=texts[0]), "api", owner="k1")
            store.set_job_result(job_id, 0, "documents[0]", brief_id=listed)
            kept, _ = await briefer.brief(Document(text=texts[1]), "api", owner="k1")
            await briefer.run_stored_job(job_id)
        finally:
            await briefer.aclose()
        return [listed, kept], [r["brief_id"] for r in store.job_results(job_id)]

    before, after = asyncio.run(scenario())
    assert after[:2] == before and after[2] is not None
    assert sorted(r[0] for r in store.query("SELECT id FROM briefs")) == sorted(after)
    assert [asked_about(fake_openai, f"Dispatch {i}:") for i in range(3)] == [1, 1, 1]
