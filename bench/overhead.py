"""Client overhead per LLM call, in-process: everything but the wait for the server.

The seed article is briefed N times through the real pipeline (prompt rendering, the SDK
and instructor building the request, the harness transport, parsing, validation,
grounding) over an instant in-process transport that answers with the body the loopback
test server would send, computed once. Each brief is then stored as the daily run stores
it (Store.put_document + put_extraction). The median time of one brief plus its store
write is the overhead of one call.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from common import SEED_ARTICLE, Figure, median


def measure(n: int = 200, warmup: int = 5) -> tuple[list[float], int]:
    import httpx2

    from summarizer.config import load_settings
    from summarizer.core.pipeline import brief_document
    from summarizer.llm.client import LLM
    from summarizer.llm.recordings import request_key
    from summarizer.sources.ingest import read_path
    from summarizer.store import Store
    from summarizer.testing.openai_server import completion_body, grounded_brief

    answers: dict[str, bytes] = {}
    served = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal served
        body = json.loads(request.content)
        key = request_key(body)
        if key not in answers:  # the server's own work, done once and kept out of the timing
            answers[key] = json.dumps(completion_body(body, grounded_brief(body))).encode()
        served += 1
        return httpx2.Response(
            200, headers={"content-type": "application/json"}, content=answers[key]
        )

    doc = read_path(str(SEED_ARTICLE), max_bytes=2_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, base_url="http://overhead.invalid/v1", concurrency=1)
        store = Store(Path(tmp) / "bench.db")

        async def run() -> list[float]:
            llm = LLM(settings, inner_transport=httpx2.MockTransport(handler))
            times: list[float] = []
            try:
                for i in range(warmup + n):
                    started = time.perf_counter()
                    brief = await brief_document(doc, settings, llm=llm)
                    store.put_document(doc)
                    store.put_extraction(doc.sha256, f"bench-{i}", brief.model_dump_json())
                    if i >= warmup:
                        times.append(time.perf_counter() - started)
            finally:
                await llm.aclose()
            return times

        times = asyncio.run(run())
        store.close()
    return times, served - warmup


def figures(n: int = 200) -> list[Figure]:
    times, calls = measure(n)
    per_call = [t * 1000 for t in times]
    ms = median(per_call)
    p90 = sorted(per_call)[int(len(per_call) * 0.9)]
    return [
        Figure(
            "client overhead per LLM call",
            f"{ms:.1f} ms median (p90 {p90:.1f} ms, {n} briefs, {calls} calls)",
            "<= 5 ms median",
            ms <= 5.0,
        )
    ]


if __name__ == "__main__":
    for f in figures():
        print(f.name, f.value, f.verdict)
