"""The HTTP API's own cost per brief: POST /v1/briefs with 1 and 8 clients, SQLite and PostgreSQL.

`summarizer serve` runs as a child process (one uvicorn worker) on a SQLite file, then on a
throwaway PostgreSQL database ($BENCH_POSTGRES_URL, else 127.0.0.1:5432; skipped without
one). The model is the loopback test server in a process of its own, answering at once, so
what is measured is the service: parsing, auth and its per-key rate limit (on, set high
enough never to refuse: on PostgreSQL it is a transaction per request), the pipeline, and
the store's reads and writes. The service may run as many briefs at once as there are
clients (`--concurrency 8`; the default 4 would cap the scaling it measures). Each client posts distinct one-document requests (the seed
article under a unique first line, so no stored brief is reused), one at a time. Figures:
briefs per second over all clients (median of 3 rounds) and the median request latency.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
from common import ROOT, SEED_ARTICLE, SUMMARIZER, Figure, child_env

KEY = "bench-key-0123456789abcdef"
CLIENTS = (1, 8)
PER_CLIENT = {1: 40, 8: 15}  # requests per client per round
ROUNDS = 3
_FAKE = (
    "import sys\n"
    "from summarizer.testing.openai_server import FakeOpenAI\n"
    "with FakeOpenAI() as s:\n"
    "    print(s.base_url, flush=True)\n"
    "    sys.stdin.read()\n"
)


@contextmanager
def _model() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _FAKE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(30)


@contextmanager
def _serve(home: Path, store: str, base_url: str, processes: int = 1) -> Iterator[str]:
    import re
    import socket

    with socket.socket() as s:  # `--workers N` binds the port in its parent: a fixed one
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = child_env(
        home, SUMMARIZER_API_KEYS=KEY, OPENAI_API_KEY="sk-bench",
        SUMMARIZER_RATE_LIMIT_PER_MINUTE="1000000",
    )  # fmt: skip
    cmd = [SUMMARIZER, "serve", "--port", str(port), "--store", store, "--base-url", base_url,
           "--concurrency", str(max(CLIENTS)), "--workers", str(processes)]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stderr is not None
    try:
        said = []
        for line in proc.stderr:
            said.append(line)
            m = re.search(r"Uvicorn running on http://127\.0\.0\.1:\d+", line)
            if m:
                threading.Thread(target=proc.stderr.read, daemon=True).start()
                url = f"http://127.0.0.1:{port}"
                _answering(url, proc)
                yield url
                return
        raise RuntimeError(f"summarizer serve did not start on {store}: {''.join(said)[-500:]}")
    finally:
        proc.terminate()
        proc.wait(30)


def _answering(url: str, proc: subprocess.Popen[str]) -> None:
    """Wait, backing off, until every process answers (workers start after the line)."""
    pause = 0.01
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("summarizer serve did not answer")
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def _client(url: str, n: int, latencies: list[float], errors: list[str]) -> None:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx2.Client(base_url=url, timeout=120) as c:
        for _ in range(n):
            body = {"documents": [{"text": f"Report {uuid.uuid4().hex}.\n\n{text}"}]}
            t = time.perf_counter()
            r = c.post("/v1/briefs", json=body, headers=headers)
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:200]}")


def _round(url: str, clients: int) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    n = PER_CLIENT[clients]
    threads = [
        threading.Thread(target=_client, args=(url, n, latencies, errors)) for _ in range(clients)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return clients * n / (time.perf_counter() - started), latencies, errors


def measure(
    store: str, base_url: str, home: Path, processes: int = 1
) -> dict[int, tuple[float, float]]:
    """clients -> (briefs per second, median latency in ms)."""
    out: dict[int, tuple[float, float]] = {}
    with _serve(home, store, base_url, processes) as url:
        _client(url, 5, [], [])  # warm-up: imports, connections
        for clients in CLIENTS:
            rates, lat = [], []
            for _ in range(ROUNDS):
                rate, latencies, errors = _round(url, clients)
                if errors:
                    raise RuntimeError(f"{store}: {len(errors)} failed requests: {errors[0]}")
                rates.append(rate)
                lat += latencies
            out[clients] = (statistics.median(rates), statistics.median(lat) * 1000)
    return out


def figures() -> list[Figure]:
    from shared import database

    results: dict[str, dict[int, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-briefs-") as tmp, _model() as base_url:
        home = Path(tmp)
        results["SQLite"] = measure(str(home / "s.db"), base_url, home)
        try:
            with database() as pg:
                results["PostgreSQL"] = measure(pg, base_url, home)
            with database() as pg:  # what only a shared store allows: two API processes
                results["PostgreSQL, serve --workers 2"] = measure(pg, base_url, home, 2)
        except Exception as exc:  # no server: say so, the SQLite figures stand
            if "psycopg" not in type(exc).__module__ and "connect" not in str(exc):
                raise
    figs = [
        Figure(
            f"service: POST brief, {name}, 1 / {CLIENTS[-1]} clients",
            f"{r[1][0]:.0f} / {r[CLIENTS[-1]][0]:.0f} briefs/s "
            f"(median latency {r[1][1]:.1f} / {r[CLIENTS[-1]][1]:.1f} ms)",
            "info",
            None,
        )
        for name, r in results.items()
    ]
    pg = results.get("PostgreSQL")
    if pg is None:
        figs.append(Figure("service: POST brief on PostgreSQL", "skipped (no server)", "-", None))
        return figs
    sqlite_8, pg_1, pg_8 = results["SQLite"][8][0], pg[1][0], pg[8][0]
    figs.append(
        Figure(
            "service: POST brief, 8 clients, PostgreSQL over SQLite; over 1 client (info)",
            f"{pg_8 / sqlite_8:.2f}x; {pg_8 / pg_1:.2f}x (one API process each)",
            "info",
            None,
        )
    )
    two = results["PostgreSQL, serve --workers 2"]
    figs.append(
        Figure(
            "service: POST brief, 8 clients, PostgreSQL (2 processes) over SQLite; over 1 client",
            f"{two[8][0] / sqlite_8:.2f}x; {two[8][0] / two[1][0]:.2f}x",
            ">= 1.0x; > 1.0x",
            two[8][0] >= sqlite_8 and two[8][0] > two[1][0],
        )
    )
    return figs


if __name__ == "__main__":
    for f in figures():
        print(f.name, "|", f.value, "|", f.budget, "|", f.verdict)
