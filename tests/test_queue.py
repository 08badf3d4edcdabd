"""API jobs through the queue on PostgreSQL: replicas, workers, a killed worker."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI
from tests.helpers import HoldSecond, answer, child_env, free_port, poll_job, wait_until, worker
from tests.test_service import ARTICLE, KEY, serving


def _docs(n: int) -> list[dict[str, str]]:
    return [{"text": f"Dispatch {i}: {ARTICLE}"} for i in range(n)]


def _asked(fake: FakeOpenAI, i: int) -> int:
    """How many model calls briefed document i."""
    return sum(f"Dispatch {i}:" in str(r) for r in fake.requests)


def test_jobs_submitted_to_one_replica_run_once_on_two_workers_and_show_on_another(
    tmp_path: Path, pg_url: str, fake_openai: FakeOpenAI
) -> None:
    limits = {"rate_limit_per_minute": 100_000}
    with Store(pg_url) as store_a, Store(pg_url) as store_b:
        with serving(tmp_path, fake_openai, store=store_a, **limits) as replica_a:
            jobs = []
            for n in range(3):
                accepted = replica_a.post({"documents": _docs(2 * n + 2)[2 * n :]})
                assert accepted.status_code == 202, accepted.text
                jobs.append(accepted.json()["job_id"])
        # Replica A has stopped (a restart, a deploy): its jobs are the queue's, not failed.
        assert [store_b.get_job(j)["status"] for j in jobs] == ["queued"] * 3  # type: ignore[index]
        with (
            serving(tmp_path, fake_openai, store=store_b, **limits) as replica_b,
            worker(pg_url, fake_openai.base_url),
            worker(pg_url, fake_openai.base_url),
        ):
            for job_id in jobs:
                job = replica_b.wait_job(job_id, timeout=60)
                assert job["status"] == "succeeded", job
                assert len(job["brief_ids"]) == 2
            assert replica_b.get(job["brief_urls"][0]).status_code == 200
    # Two workers, six articles: each asked of the model exactly once.
    assert [_asked(fake_openai, i) for i in range(6)] == [1] * 6


def _listed(store: Store, job_id: str) -> dict[int, str]:
    """position -> brief id, for the job's documents whose brief is listed so far."""
    return {int(r["position"]): r["brief_id"] for r in store.job_results(job_id) if r["brief_id"]}


def test_a_job_survives_kill_9_of_its_worker_without_doubling(tmp_path: Path, pg_url: str) -> None:
    model = HoldSecond()  # the second article's call is in flight at the kill, held there
    with (
        FakeOpenAI(model) as fake,
        Store(pg_url) as store,
        serving(tmp_path, fake, store=store, rate_limit_per_minute=100_000) as api,
    ):
        job_id = answer(api.post({"documents": _docs(4)}), 202)["job_id"]
        # A worker is stalled after 3 s without a heartbeat (one every 0.6 s): a live worker
        # on a loaded machine is never taken for a dead one, as it could be at 1 s.
        one_at_a_time = ("--concurrency", "1", "--stalled-after", "3")
        with worker(pg_url, fake.base_url, *one_at_a_time) as first:
            # Killed once one article is briefed and listed, and the next is in flight.
            wait_until(
                lambda: model.holding.is_set() and bool(_listed(store, job_id)),
                timeout=60, what="one article listed and the next asked", alive=first,
            )  # fmt: skip
            first.send_signal(signal.SIGKILL)
            first.wait()
            model.release.set()  # its answer goes to a closed connection
        finished = _listed(store, job_id)
        assert answer(api.get(f"/v1/jobs/{job_id}"))["status"] == "running"
        with worker(pg_url, fake.base_url, *one_at_a_time):
            job = api.wait_job(job_id, timeout=60)
        stored = {r[0] for r in store.query("SELECT id FROM briefs")}
    assert job["status"] == "succeeded", job
    assert len(job["brief_ids"]) == 4
    # The retried job keeps the brief ids the killed worker had listed, and every brief
    # kept is listed once: none orphaned, none made twice.
    assert {p: job["brief_ids"][p] for p in finished} == finished
    assert stored == set(job["brief_ids"])
    asked = [_asked(fake, i) for i in range(4)]
    # Each article was asked of the model once, but the one in flight at the kill (twice).
    assert sorted(asked) == [1, 1, 1, 2], asked


def test_serve_with_two_processes_answers_jobs_run_by_a_worker(
    pg_url: str, fake_openai: FakeOpenAI
) -> None:
    import httpx2

    port = free_port()
    env = child_env(SUMMARIZER_DATABASE_URL=pg_url, SUMMARIZER_API_KEYS=KEY)
    serve = subprocess.Popen(
        [sys.executable, "-m", "summarizer", "serve", "--workers", "2", "--port", str(port),
         "--base-url", fake_openai.base_url],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

            def healthy() -> bool:
                try:
                    return http.get("/healthz").status_code == 200
                except httpx2.TransportError:
                    return False

            wait_until(healthy, timeout=120, what="serve --workers 2 answering", alive=serve)
            headers = {"Authorization": f"Bearer {KEY}"}
            posted = http.post("/v1/briefs", json={"documents": _docs(2)}, headers=headers)
            job_id = answer(posted, 202)["job_id"]
            with worker(pg_url, fake_openai.base_url):
                # Polled as a client should: backing off, and waiting out a 429's
                # Retry-After (the default limit is 60 requests a minute per key).
                job = poll_job(lambda path: http.get(path, headers=headers), job_id, timeout=120)
        assert job["status"] == "succeeded", job
    finally:
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=30)
    assert "2 processes" in err
    assert "LLMKEY" not in err


def test_serve_with_two_processes_needs_postgres(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from summarizer.cli import app

    r = CliRunner().invoke(
        app,
        ["serve", "--workers", "2", "--store", str(tmp_path / "s.db"), "--base-url", "http://127.0.0.1:9/v1"],
        env={"SUMMARIZER_API_KEYS": KEY},
    )  # fmt: skip
    assert r.exit_code == 3
    assert "needs a PostgreSQL store" in r.output


def test_slack_briefs_wait_for_a_worker_and_are_posted_by_it(
    tmp_path: Path, pg_url: str, fake_openai: FakeOpenAI
) -> None:
    from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET
    from tests.test_slack import ARTICLE as SLACK_ARTICLE
    from tests.test_slack import mention, running_bot

    with Store(pg_url) as store, running_bot(tmp_path, fake_openai, store=store) as bot:
        r, _ = bot.command(SLACK_ARTICLE)
        assert r.status_code == 200 and "Working on a brief" in r.json()["text"]
        r, _ = bot.event(mention("<@UBOT> brief <http://127.0.0.1:9/a|a>"), event_id="Ev9")
        assert r.status_code == 200
        time.sleep(0.5)  # queued, not run by the bot process: nothing is asked or posted
        assert fake_openai.requests == [] and bot.slack.posts == []
        slack_env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SUMMARIZER_SLACK_API_URL": bot.slack.url,
        }
        with worker(pg_url, fake_openai.base_url, env=slack_env):
            posts = bot.slack.wait_for(
                lambda: len(bot.slack.posts) >= 5 and bot.slack.posts, timeout=60
            )
    headers = [
        p for p in posts if p.payload.get("blocks") and p.payload["blocks"][0]["type"] == "header"
    ]
    assert len(headers) == 1 and headers[0].payload["channel"] == "C1"
    assert len(fake_openai.requests) == 1
    # The mention's URL is on loopback, which the service never fetches: the user is told in
    # the thread, by the worker.
    told = [p for p in posts if p.payload.get("thread_ts") == "1699999999.000100"]
    assert told and "Could not brief that" in told[0].payload["text"]
