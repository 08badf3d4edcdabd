"""The shared mode (PostgreSQL): jobs through the queue, and one rate limit for two processes.

Needs a PostgreSQL server: $BENCH_POSTGRES_URL, else the machine's at 127.0.0.1:5432 (the
tests' server; `scripts/check` says how to get one). Each figure uses a throwaway database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import ROOT, SEED_ARTICLE, SUMMARIZER, Figure, median

from summarizer.testing.openai_server import FakeOpenAI

ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
KEY = "sk-bench-0123456789"


@contextmanager
def database() -> Iterator[str]:
    import psycopg

    name = f"summarizer_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    env.update(OPENAI_API_KEY=KEY, SUMMARIZER_DATABASE_URL=url, **extra)
    return env


@contextmanager
def workers(
    url: str, base_url: str, n: int, jobs: int = 8, env: dict[str, str] | None = None
) -> Iterator[None]:
    procs = [
        subprocess.Popen(
            [SUMMARIZER, "worker", "--jobs", str(jobs), "--base-url", base_url],
            env=env or _env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        for _ in range(n)
    ]
    try:
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)


def _text(i: int) -> str:
    return f"Report {uuid.uuid4().hex} number {i}.\n\n" + SEED_ARTICLE.read_text(encoding="utf-8")


async def _submit(queue: object, store: object, n: int) -> list[str]:
    from summarizer.serving.jobs import BriefRequest, DocumentIn
    from summarizer.store.aio import AsyncStore

    astore = AsyncStore(store)  # type: ignore[arg-type]
    ids = []
    for i in range(n):
        request = BriefRequest(documents=[DocumentIn(text=_text(i))])
        body = request.model_dump_json()
        ids.append(await queue.submit(astore, body, "bench"))  # type: ignore[attr-defined]
    astore.close()
    return ids


def _done(store: object, ids: list[str]) -> bool:
    rows = store.query(  # type: ignore[attr-defined]
        "SELECT COUNT(*) FROM jobs WHERE status IN ('succeeded', 'partial', 'failed')"
    )
    return int(rows[0][0]) >= len(ids)


async def _throughput(url: str, base_url: str, n_workers: int, n: int) -> float:
    from summarizer.store import Store
    from summarizer.store.tasks import JobQueue

    with Store(url) as store, workers(url, base_url, n_workers):
        queue = JobQueue(url)
        await queue.open()
        try:
            warm = await _submit(queue, store, 2 * n_workers)  # workers up and connected
            while not _done(store, warm):
                await asyncio.sleep(0.05)
            started = time.perf_counter()
            ids = warm + await _submit(queue, store, n)
            while not _done(store, ids):
                await asyncio.sleep(0.005)
            return n / (time.perf_counter() - started)
        finally:
            await queue.close()


async def _latencies(url: str, base_url: str, n: int) -> tuple[float, float]:
    """Median seconds per one-document job: through the queue (submit to done, one at a
    time), and run in this process by the same code a worker runs."""
    from summarizer.store import Store
    from summarizer.store.tasks import JobQueue

    queued: list[float] = []
    with Store(url) as store, workers(url, base_url, 1, jobs=1):
        queue = JobQueue(url)
        await queue.open()
        try:
            warm = await _submit(queue, store, 2)
            while not _done(store, warm):
                await asyncio.sleep(0.05)
            for _ in range(n):
                t = time.perf_counter()
                job = await _submit(queue, store, 1)
                while store.get_job(job[0])["status"] in ("queued", "running"):  # type: ignore[index]
                    await asyncio.sleep(0.001)
                queued.append(time.perf_counter() - t)
        finally:
            await queue.close()
    # In another process, as the worker is: the test server's threads live in this one
    # and would compete for its GIL.
    child = subprocess.run(
        [sys.executable, __file__, "inline", url, base_url, str(n)],
        env=_env(url), capture_output=True, text=True, timeout=600, cwd=ROOT, check=True,
    )  # fmt: skip
    inline = [float(x) for x in child.stdout.split()]
    return median(queued), median(inline)


def _shared_limit(url: str, limit: int, window: float, per_process: int) -> tuple[int, float, int]:
    """Two `summarizer brief` processes, one limit: (429s, throughput / limit, requests)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(rpm_limit=limit, window=window) as server:
        procs = []
        for tag in ("a", "b"):
            paths = []
            for i in range(per_process):
                p = Path(tmp) / f"{tag}{i}.txt"
                p.write_text(_text(i), encoding="utf-8")
                paths.append(str(p))
            env = _env(url, SUMMARIZER_RATE_WINDOW=str(window), SUMMARIZER_RPM=str(limit))
            procs.append(
                subprocess.Popen(
                    [
                        SUMMARIZER,
                        "brief",
                        *paths,
                        "--base-url",
                        server.base_url,
                        "--format",
                        "json",
                        "-o",
                        str(Path(tmp) / f"{tag}.json"),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=ROOT,
                )
            )
        for p in procs:
            p.wait(timeout=600)
        times = sorted(server.request_times)
        limited = server.status_counts.get(429, 0)
    span = times[-1] - times[0]
    least = (len(times) - 1) // limit * window
    return limited, (least / span if span else 0.0), len(times)


def _daily_on_workers(url: str, n: int, limit: int, window: float) -> tuple[Any, ...]:
    """`daily --on-workers` over n articles, two workers of 8 jobs, everyone under one
    shared limit (--rpm, the window in PostgreSQL), the server enforcing it with 429s and
    answering after 0.5 s. Returns (exit code, 429s, throughput / limit, requests, wall)."""
    import daily_runs
    from common import child_env, run_child

    with (
        daily_runs.workspace(n) as ws,
        FakeOpenAI(latency=daily_runs.LATENCY, rpm_limit=limit, window=window) as server,
    ):
        env = child_env(
            ws.home, OPENAI_API_KEY=KEY, SUMMARIZER_DATABASE_URL=url,
            SUMMARIZER_RATE_WINDOW=str(window), SUMMARIZER_RPM=str(limit),
        )  # fmt: skip
        with workers(url, server.base_url, 2, jobs=8, env=env):
            cmd = ws.cmd(server.base_url, "--on-workers")
            cmd[cmd.index("--store") + 1] = url
            child = run_child(cmd, env)
        times = sorted(server.request_times)
        limited = server.status_counts.get(429, 0)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    least = (len(times) - 1) // limit * window
    return child.returncode, limited, (least / span if span else 0.0), len(times), child.wall


def figures() -> list[Figure]:
    try:
        import psycopg

        psycopg.connect(ADMIN, connect_timeout=3).close()
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [Figure("shared mode", f"skipped: no PostgreSQL ({reason})", "-", None)]
    out: list[Figure] = []
    with FakeOpenAI() as server:
        rates = []
        for n_workers in (1, 2):
            with database() as url:
                rates.append(asyncio.run(_throughput(url, server.base_url, n_workers, 200)))
        out.append(
            Figure(
                "queue: jobs per second (1 doc each, server answers at once)",
                f"1 worker: {rates[0]:.1f}/s; 2 workers: {rates[1]:.1f}/s",
                "(info)",
                None,
            )
        )
        with database() as url:
            queued, inline = asyncio.run(_latencies(url, server.base_url, 30))
        overhead_ms = (queued - inline) * 1000
        out.append(
            Figure(
                "queue: overhead of a queued job over an in-process one",
                f"{overhead_ms:.1f} ms (queued {queued * 1000:.1f} ms, in-process "
                f"{inline * 1000:.1f} ms, median of 30)",
                "< 20 ms",
                overhead_ms < 20,
            )
        )
    with database() as url:
        limited, achieved, requests = _shared_limit(url, limit=20, window=2.0, per_process=40)
    out.append(
        Figure(
            "shared limit: 2 processes, 429s provoked",
            f"{limited} ({requests} requests, limit 20 per 2 s, shared through PostgreSQL)",
            "0",
            limited == 0,
        )
    )
    out.append(
        Figure(
            "shared limit: throughput / limit",
            f"{achieved:.1%}",
            ">= 85%",
            achieved >= 0.85,
        )
    )
    with database() as url:
        code, limited, achieved, requests, wall = _daily_on_workers(url, 200, 40, 5.0)
    out.append(
        Figure(
            "daily --on-workers, 200 articles, 2 workers, shared limit 40 per 5 s",
            f"exit {code}; {limited} 429s; {achieved:.1%} of the limit "
            f"({requests} requests, {wall:.1f} s)",
            "0 429s; >= 87% (within 1.15x)",
            code in (0, 9) and limited == 0 and achieved >= 1 / 1.15,
        )
    )
    return out


async def _inline(url: str, base_url: str, n: int) -> list[float]:
    """Seconds per one-document job run in this process by the code a worker runs."""
    from summarizer.config import load_settings
    from summarizer.serving.jobs import Briefer, BriefRequest, DocumentIn
    from summarizer.serving.metrics import Metrics
    from summarizer.store import Store

    times = []
    with Store(url) as store:
        settings = load_settings(base_url=base_url, api_key=KEY, database_url=url)
        briefer = Briefer(settings, store, Metrics())
        try:
            for i in range(n + 2):  # two warm-up jobs, not counted
                t = time.perf_counter()
                request = BriefRequest(documents=[DocumentIn(text=_text(i))])
                job_id = store.create_job(request.model_dump_json(), "bench")
                await briefer.run_stored_job(job_id)
                if i >= 2:
                    times.append(time.perf_counter() - t)
        finally:
            await briefer.aclose()
    return times


if __name__ == "__main__":
    if sys.argv[1:2] == ["inline"]:
        print(" ".join(str(t) for t in asyncio.run(_inline(*sys.argv[2:4], int(sys.argv[4])))))
    else:
        for f in figures():
            print(f.name, f.value, f.verdict, file=sys.stderr)
