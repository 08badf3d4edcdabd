"""`daily --on-workers`: the map step on queue workers, on a real PostgreSQL: articles
briefed by a worker, one worker killed mid-article, the run reducing what they made."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI
from tests.helpers import child_env, wait_until, worker
from tests.test_daily import articles

__all__ = ["articles"]  # the fixture, shared with test_daily


def _daily(tmp_path: Path, pg_url: str, fake: FakeOpenAI, articles: Path) -> subprocess.Popen[str]:
    env = child_env()
    return subprocess.Popen(
        [sys.executable, "-m", "summarizer", "daily", "--on-workers", "--store", pg_url,
         "--out-dir", str(tmp_path / "out"), "--base-url", fake.base_url,
         "--date", "2026-11-25", "-s", str(articles)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_worker_killed_mid_article_loses_only_that_attempt(
    tmp_path: Path, pg_url: str, articles: Path
) -> None:
    # A worker is stalled after 3 s without a heartbeat (one every 0.6 s): a live worker
    # on a loaded machine is never taken for a dead one, as it could be at 1 s.
    one_at_a_time = ("--concurrency", "1", "--jobs", "1", "--stalled-after", "3")
    with FakeOpenAI(latency=0.3) as fake, Store(pg_url) as store:
        with worker(pg_url, fake.base_url, *one_at_a_time) as first:
            run = _daily(tmp_path, pg_url, fake, articles)
            wait_until(
                lambda: len(fake.requests) >= 2
                and store.query("SELECT COUNT(*) FROM extractions")[0][0] >= 1,
                timeout=60, what="one article stored and the next asked", alive=first,
            )  # fmt: skip
            first.send_signal(signal.SIGKILL)
            first.wait()
        with worker(pg_url, fake.base_url, *one_at_a_time):
            _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    # Three articles (the wire copy collapsed), one of them asked twice (in flight at the
    # kill), and the story synthesis, made by the run itself after the workers' part.
    assert len(fake.requests) == 3 + 1 + 1
    data = json.loads((tmp_path / "out" / "2026-11-25.json").read_text())
    assert data["provenance"]["articles_briefed"] == 4
    # The workers' calls, the killed one's included, are the run's: in the brief and in
    # `history` (the attempt cut off by the kill was never answered, so never recorded).
    assert data["provenance"]["llm_calls"] == 4
    with Store(pg_url) as store:
        row = store.query("SELECT COUNT(DISTINCT run_id), COUNT(*) FROM llm_calls")[0]
        assert tuple(row) == (1, 4)


def test_on_workers_needs_postgres(tmp_path: Path, articles: Path) -> None:
    r = CliRunner().invoke(
        app,
        ["daily", "--on-workers", "--store", str(tmp_path / "s.db"), "--out-dir",
         str(tmp_path / "out"), "--base-url", "http://127.0.0.1:9/v1", "-s", str(articles)],
    )  # fmt: skip
    assert r.exit_code == 3, r.output
    assert "--on-workers needs a PostgreSQL store" in r.output
