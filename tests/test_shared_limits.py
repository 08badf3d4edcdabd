"""Provider rate limits shared through the store's database: two processes, one limit.

The loopback test server enforces 3 requests per 1 s window with 429s. Two `summarizer
brief` processes, each briefing 6 articles with --rpm 3 of their own, start together.
Each alone would respect the limit; together, with windows in process memory, they send
twice it. On a PostgreSQL store the window is one table, and the server sees no 429.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from summarizer.testing.openai_server import FakeOpenAI
from tests.conftest import SEED_ARTICLE

WINDOW = 1.0
RPM = 3
ARTICLES = 6


def _articles(folder: Path, tag: str) -> list[str]:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    paths = []
    for i in range(ARTICLES):
        p = folder / f"{tag}-{i}.txt"
        p.write_text(f"Dispatch {tag} number {i}.\n\n{text}", encoding="utf-8")
        paths.append(str(p))
    return paths


def _two_processes(server: FakeOpenAI, tmp_path: Path, database_url: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    env.update(
        OPENAI_API_KEY="sk-test-shared-limit",
        SUMMARIZER_RATE_WINDOW=str(WINDOW),
        SUMMARIZER_RPM=str(RPM),
        SUMMARIZER_HTTP_RETRIES="10",
    )
    if database_url:
        env["SUMMARIZER_DATABASE_URL"] = database_url
    procs = []
    for tag in ("a", "b"):
        cmd = [sys.executable, "-m", "summarizer", "brief", *_articles(tmp_path, tag),
               "--base-url", server.base_url, "--format", "json",
               "-o", str(tmp_path / f"{tag}.json"), "--store", str(tmp_path / f"{tag}.db")]  # fmt: skip
        if database_url:
            cmd[-1] = database_url
        procs.append(subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err


def test_two_processes_on_one_postgres_store_provoke_no_429(tmp_path: Path, pg_url: str) -> None:
    with FakeOpenAI(rpm_limit=RPM, window=WINDOW) as server:
        _two_processes(server, tmp_path, pg_url)
    assert server.status_counts.get(200) == 2 * ARTICLES
    assert server.status_counts.get(429, 0) == 0


def test_without_a_shared_store_two_processes_exceed_the_limit(tmp_path: Path) -> None:
    # The control: the same two runs, each with its own window, are refused some calls.
    with FakeOpenAI(rpm_limit=RPM, window=WINDOW) as server:
        _two_processes(server, tmp_path, None)
    assert server.status_counts.get(429, 0) > 0
    assert server.status_counts.get(200) == 2 * ARTICLES
