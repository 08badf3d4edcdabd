"""`daily --on-workers`: the map step on queue workers, on a real PostgreSQL: articles
briefed by a worker, one worker killed mid-article, the run reducing what they made."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI
from tests.helpers import HoldSecond, child_env, wait_until, worker
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
    model = HoldSecond()  # the second article's call is in flight at the kill, held there
    with FakeOpenAI(model) as fake, Store(pg_url) as store:
        with worker(pg_url, fake.base_url, *one_at_a_time) as first:
            run = _daily(tmp_path, pg_url, fake, articles)
            wait_until(
                lambda: model.holding.is_set()
                and store.query("SELECT COUNT(*) FROM extractions")[0][0] >= 1,
                timeout=60, what="one article stored and the next asked", alive=first,
            )  # fmt: skip
            first.send_signal(signal.SIGKILL)
            first.wait()
            model.release.set()  # its answer goes to a closed connection
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


def test_a_worker_builds_one_client_per_settings_not_per_article(
    tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's side of --on-workers (queue.brief_article), in process: two articles
    of one run share one client, and each is kept under the run's key with its calls."""
    from summarizer.config import load_settings
    from summarizer.daily.on_workers import shaping
    from summarizer.llm.client import LLM
    from summarizer.sources.ingest import Document
    from summarizer.workers.queue import brief_article
    from tests.test_service import ARTICLE

    built: list[LLM] = []
    real_init = LLM.__init__

    def counting_init(self: LLM, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(LLM, "__init__", counting_init)
    store = Store(tmp_path / "s.db")
    settings = load_settings(base_url=fake_openai.base_url, api_key="sk-test-LLMKEY-0123456789")
    docs = [Document(text=f"Dispatch {i}: {ARTICLE}", path=f"a{i}.txt") for i in range(2)]
    for d in docs:
        store.put_document(d)
    run_id = store.start_run("daily", "2026-11-25", {})
    context = SimpleNamespace(
        additional_context={"briefer": SimpleNamespace(settings=settings, store=store)}
    )

    async def brief_both() -> None:
        for d in docs:
            await brief_article(context, run_id, d.sha256, "brief", "run-key", shaping(settings))
        for llm in context.additional_context["llms"].values():
            await llm.aclose()

    asyncio.run(brief_both())
    assert len(built) == 1
    assert set(store.get_extractions("run-key", [d.sha256 for d in docs])) == {
        d.sha256 for d in docs
    }
    assert store.run_spend(run_id)[0] == len(fake_openai.requests) == 2
