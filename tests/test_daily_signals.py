"""SIGTERM and SIGINT stop `daily` cleanly (issue 19.9): a real process, a real signal,
sent while the loopback model holds a request (an event, not a sleep)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from summarizer.testing.openai_server import FakeOpenAI
from tests.conftest import ROOT
from tests.helpers import HoldSecond
from tests.test_daily import articles  # noqa: F401  (a fixture)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_daily_cleanly_and_the_rerun_resumes(
    tmp_path: Path,
    articles: Path,  # noqa: F811
    sig: signal.Signals,
) -> None:
    model = HoldSecond()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    with FakeOpenAI(model) as server:
        cmd = [sys.executable, "-m", "summarizer", "daily", "-s", str(articles),
               "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"),
               "--base-url", server.base_url, "--date", "2026-11-25", "--concurrency", "1"]  # fmt: skip
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert model.holding.wait(60), "the run never reached its second call"
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
        finally:
            model.release.set()
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 128 + sig, err
        said = [line for line in err.splitlines() if line.strip()]
        assert said[-1].startswith(f"stopped by {sig.name}: the daily run was interrupted"), err
        assert "Traceback" not in err and out == ""
        assert not (tmp_path / "out" / "2026-11-25.json").exists()  # nothing half-written
        with sqlite3.connect(tmp_path / "s.db") as db:
            runs = list(db.execute("SELECT status, error FROM runs"))
        assert runs == [("interrupted", "stopped by a signal")]
        asked = len(server.requests)

        # The locks are free and the first article's brief was kept: the rerun resumes.
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert len(server.requests) - asked == 3  # articles 2 and 3 and the story: not article 1
    with sqlite3.connect(tmp_path / "s.db") as db:
        statuses = sorted(s for (s,) in db.execute("SELECT status FROM runs"))
    assert statuses == ["interrupted", "ok"]


def test_sigterm_while_waiting_for_a_batch_keeps_the_batch_for_the_rerun(
    tmp_path: Path,
    articles: Path,  # noqa: F811
) -> None:
    import time

    from summarizer.testing.openai_server import Quirks
    from tests.test_batch import config

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    with FakeOpenAI(quirks=Quirks(batch_steps=10**9)) as server:
        cmd = [sys.executable, "-m", "summarizer", "daily", "-s", str(articles),
               "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"),
               "--base-url", server.base_url, "--date", "2026-11-25", "--batch", "--wait",
               "--config", str(config(tmp_path))]  # fmt: skip
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            # Polled until the batch has been retrieved a few times: the run is waiting.
            deadline, pause = time.monotonic() + 60, 0.01
            while not any(b.retrieves >= 3 for b in server.batch_api.batches.values()):
                assert time.monotonic() < deadline and proc.poll() is None, "never waited"
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("stopped by SIGTERM"), err
    with sqlite3.connect(tmp_path / "s.db") as db:
        runs = list(db.execute("SELECT status FROM runs"))
        open_batches = list(db.execute("SELECT batch_id FROM batches WHERE collected_at IS NULL"))
    assert runs == [("interrupted",)]
    assert len(open_batches) == 1  # still the provider's: the next run collects it
