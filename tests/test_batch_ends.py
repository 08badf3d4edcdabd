"""Batches end (issue 19.8): a batch the provider still calls running long past its
expires_at is given up as expired, and an output file is streamed to disk within a limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from summarizer.testing.openai_server import FakeOpenAI, Quirks
from tests.conftest import ROOT
from tests.test_batch import DAY, articles, config, load, run  # noqa: F401  (a fixture)

NEVER = 10**9  # retrieves before the fake batch moves on: it never does


def daily_process(
    tmp_path: Path, folder: Path, base_url: str, *args: str, **daily: Any
) -> subprocess.CompletedProcess[str]:
    """`summarizer daily --batch` in a real process; a run that never ends fails the test."""
    script = (
        "import atexit, resource, sys\n"
        "atexit.register(lambda: sys.stderr.write("
        "f'MAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
        "from summarizer.cli import app\n"
        "app(sys.argv[1:], prog_name='summarizer')\n"
    )
    cmd = [sys.executable, "-c", script, "daily", "--out-dir", str(tmp_path / "out"),
           "--store", str(tmp_path / "s.db"), "--date", DAY, "-s", str(folder),
           "--config", str(config(tmp_path, **daily)), "--batch", "--base-url", base_url, *args]  # fmt: skip
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)


def maxrss_kb(done: subprocess.CompletedProcess[str]) -> int:
    return int(done.stderr.rsplit("MAXRSS ", 1)[1].split()[0])


def test_a_batch_running_past_expires_at_is_given_up_and_the_lock_freed(
    tmp_path: Path,
    articles: Path,  # noqa: F811
) -> None:
    quirks = Quirks(batch_steps=NEVER, batch_expires_in=-2 * 3600)
    with FakeOpenAI(quirks=quirks) as server:
        done = daily_process(tmp_path, articles, server.base_url, "--wait", batch_give_up_after=600)
        assert done.returncode == 0, done.stderr
        assert "past its expires_at" in done.stderr and "given up as expired" in done.stderr
        # Its articles went live, as for any batch that expired: the brief is whole.
        assert server.batched_requests == 0 and len(server.requests) == 4
        assert load(tmp_path)["provenance"]["articles_briefed"] == 3
        # The run ended and left the day's lock: the next run takes it (and has nothing to do).
        again = daily_process(tmp_path, articles, server.base_url, "--wait")
        assert again.returncode == 0, again.stderr


def test_collect_gives_up_too(tmp_path: Path, articles: Path) -> None:  # noqa: F811
    quirks = Quirks(batch_steps=NEVER, batch_expires_in=-2 * 3600)
    with FakeOpenAI(quirks=quirks) as server:
        first = run(tmp_path, articles, base_url=server.base_url, batch_give_up_after=10**6)
        assert first.exit_code == 13, first.output  # submitted: pending, not yet given up
        done = daily_process(
            tmp_path, articles, server.base_url, "--collect", batch_give_up_after=600
        )
        assert done.returncode == 0, done.stderr
        assert "given up as expired" in done.stderr


def test_a_batch_within_the_margin_is_still_awaited(tmp_path: Path, articles: Path) -> None:  # noqa: F811
    quirks = Quirks(batch_steps=NEVER, batch_expires_in=-600)
    with FakeOpenAI(quirks=quirks) as server:
        first = run(tmp_path, articles, base_url=server.base_url, batch_give_up_after=3600)
        assert first.exit_code == 13, first.output
        second = run(tmp_path, articles, base_url=server.base_url, batch_give_up_after=3600)
        assert second.exit_code == 13 and "given up" not in second.output


def test_an_output_file_over_the_limit_counts_as_lost(tmp_path: Path, articles: Path) -> None:  # noqa: F811
    quirks = Quirks(batch_output_padding=3_000_000)
    with FakeOpenAI(quirks=quirks) as server:
        r = run(tmp_path, articles, "--wait", base_url=server.base_url,
                batch_max_output_bytes=1_000_000)  # fmt: skip
        assert r.exit_code == 0, r.output
        assert "over the 1,000,000-byte limit, batch_max_output_bytes" in r.output
        # 3 answered in the batch, lost with its file; the 3 again, live; and the story.
        assert server.batched_requests == 3 and len(server.requests) == 7, r.output
    assert json.loads((tmp_path / "out" / f"{DAY}.json").read_text())["stories"]


def test_an_output_file_is_streamed_not_held_in_memory(tmp_path: Path, articles: Path) -> None:  # noqa: F811
    peaks = []
    for n, padding in enumerate((0, 60_000_000)):
        with FakeOpenAI(quirks=Quirks(batch_output_padding=padding)) as server:
            done = daily_process(tmp_path / str(n), articles, server.base_url, "--wait")
            assert done.returncode == 0, done.stderr
            assert server.batched_requests == 3
        peaks.append(maxrss_kb(done))
    # 60 MB of output more costs well under its own size (it used to cost several times it).
    assert peaks[1] - peaks[0] < 30_000, peaks
