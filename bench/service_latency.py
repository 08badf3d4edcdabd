"""The HTTP API under hostile load: /healthz latency while the server parses floods.

`summarizer serve` runs as a child process (one uvicorn worker, as documented). Five
clients at once send, over and over, the request that once stalled it: a 2.4 MB body of
190,000 tiny documents (refused 422 for its count, after parsing the JSON in a worker
thread), alternating with a 30 MB body (refused 413, the rest read and dropped). Meanwhile
one client asks /healthz one request at a time; the figure is that client's p50 and p99
latency, against the same with no load. Nothing reaches a model: every flood is refused.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx2
from common import SUMMARIZER, Figure, child_env

KEY = "bench-key-0123456789abcdef"
FLOODERS = 5
PROBES = 300
BUDGET_P99_MS = 250.0


def _serve(home: Path) -> tuple[subprocess.Popen[str], str]:
    # No per-key rate limit: every flood request must reach the body limit or the parser.
    env = child_env(home, SUMMARIZER_API_KEYS=KEY, SUMMARIZER_RATE_LIMIT_PER_MINUTE="0")
    cmd = [SUMMARIZER, "serve", "--port", "0", "--store", str(home / "s.db"),
           "--base-url", "http://127.0.0.1:9/v1"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        m = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
        if m:
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, m.group(1)
    raise RuntimeError("summarizer serve did not start")


def _probe(url: str, n: int) -> list[float]:
    times: list[float] = []
    with httpx2.Client(base_url=url, timeout=60) as c:
        for _ in range(n):
            t = time.perf_counter()
            c.get("/healthz").raise_for_status()
            times.append((time.perf_counter() - t) * 1000)
    return times


def _flood(url: str, stop: threading.Event, counts: dict[int, int]) -> None:
    many = json.dumps({"documents": [{"text": "x"}] * 190_000}, separators=(",", ":")).encode()
    assert len(many) < 2_500_000  # under the body limit: it is parsed, then refused
    huge = b"x" * (30 * 1024 * 1024)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    with httpx2.Client(base_url=url, timeout=120) as c:
        n = 0
        while not stop.is_set():
            body = many if n % 2 == 0 else huge
            try:
                status = c.post("/v1/briefs", content=body, headers=headers).status_code
            except httpx2.HTTPError:
                status = 0  # a reset: counted, so the figure says if any happened
            counts[status] = counts.get(status, 0) + 1
            n += 1


def _pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1]


def figures() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        proc, url = _serve(Path(tmp))
        try:
            _probe(url, 20)  # warm-up
            idle = _probe(url, PROBES)
            stop = threading.Event()
            counts: dict[int, int] = {}
            flooders = [
                threading.Thread(target=_flood, args=(url, stop, counts), daemon=True)
                for _ in range(FLOODERS)
            ]
            for t in flooders:
                t.start()
            time.sleep(1.0)  # let every flooder get a request in flight
            loaded = _probe(url, PROBES)
            stop.set()
            for t in flooders:
                t.join(120)
        finally:
            proc.terminate()
            proc.wait(30)
    p50, p99 = _pct(loaded, 50), _pct(loaded, 99)
    refused = ", ".join(f"{n} x {s or 'reset'}" for s, n in sorted(counts.items()))
    return [
        Figure(
            "service: /healthz p50 / p99, idle",
            f"{_pct(idle, 50):.1f} / {_pct(idle, 99):.1f} ms",
            "info",
            None,
        ),
        Figure(
            f"service: /healthz p50 / p99 under {FLOODERS} parallel floods",
            f"{p50:.1f} / {p99:.1f} ms ({refused})",
            f"p99 <= {BUDGET_P99_MS:.0f} ms",
            p99 <= BUDGET_P99_MS and 0 not in counts,
        ),
    ]


if __name__ == "__main__":
    for f in figures():
        print(f.name, f.value, f.budget, f.verdict)
