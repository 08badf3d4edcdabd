"""What a run is billed, with and without the provider's prompt cache.

The 200 generated articles (articles.py) are briefed in this process through the real
pipeline, SDK and instructor against the loopback test server, twice: once with its
simulated prompt cache (OpenAI's rule: prefixes of 1,024 tokens or more, in 128-token
steps, of requests seen recently) and once without. Cost is what the price table bills
for the tokens the server reported, cached tokens at the model's cached rate. Nothing is
timed. The server counts 4 characters a token, so shares and ratios are indicative.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import articles
from common import Figure

MODEL = "gpt-4o-mini"
# Issue #14's target for live calls with caching, against the same run without it.
TARGET = 0.75


def _run(texts: list[str], cache: bool) -> tuple[int, int, float]:
    from summarizer.config import load_settings
    from summarizer.ingest import Document
    from summarizer.pipeline import brief_documents
    from summarizer.testing.openai_server import FakeOpenAI, Quirks

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(quirks=Quirks(prefix_cache=cache)) as s:
        settings = load_settings(
            None, base_url=s.base_url, model=MODEL, concurrency=8,
            store_path=Path(tmp) / "bench.db",
        )  # fmt: skip
        briefs = asyncio.run(brief_documents([Document(text=t) for t in texts], settings))
    prompt = sum(b.provenance.tokens_in for b in briefs)
    cached = sum(b.provenance.cached_tokens for b in briefs)
    cost = sum(b.provenance.cost_usd or 0.0 for b in briefs)
    return prompt, cached, cost


def figures(n: int = 200) -> list[Figure]:
    texts = articles.generate(n)
    prompt, cached, with_cache = _run(texts, cache=True)
    _, _, without = _run(texts, cache=False)
    ratio = with_cache / without if without else 1.0
    return [
        Figure(
            "prompt cache: cached share of prompt tokens",
            f"{cached / prompt:.0%} ({cached:,} of {prompt:,}, {n} articles)",
            "(info)",
            None,
        ),
        Figure(
            "prompt cache: billed cost per article",
            f"${with_cache / n:.6f} with caching, ${without / n:.6f} without ({ratio:.2f}x)",
            f"<= {TARGET}x",
            ratio <= TARGET,
        ),
    ]


if __name__ == "__main__":
    for f in figures():
        print(f.name, f.value, f.verdict)
