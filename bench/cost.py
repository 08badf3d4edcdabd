"""What a run is billed: live, live with the provider's prompt cache, and batched.

The 200 generated articles (articles.py) are briefed in this process through the real
pipeline, SDK and instructor against the loopback test server, three ways:
- live, without the server's simulated prompt cache (today's cost, the baseline);
- live, with it (OpenAI's rule: prefixes of 1,024 tokens or more, in 128-token steps, of
  requests seen recently);
- as a daily run with `batch = true` and `wait = true` (the server's Batch API answers
  each line as it would the live call, prompt cache included, and completes at once).
Cost is what the price table bills for the tokens the server reported: cached tokens at
the model's cached rate, batched calls at the batch price. Per article, the batch figure
counts only the articles' own (batched) calls; the stories' live synthesis is shown with
the run's totals. Nothing is timed. The server counts 4 characters a token, so shares and
ratios are indicative.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import articles
from common import Figure

MODEL = "gpt-4o-mini"
# Issue #14's targets, against the same articles briefed live without caching.
TARGET = 0.75
BATCH_TARGET = 0.4


def _run(texts: list[str], cache: bool) -> tuple[int, int, float]:
    from summarizer.config import load_settings
    from summarizer.core.pipeline import brief_documents
    from summarizer.sources.ingest import Document
    from summarizer.testing.openai_server import FakeOpenAI, Quirks

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(quirks=Quirks(prefix_cache=cache)) as s:
        settings = load_settings(
            None, base_url=s.base_url, model=MODEL, concurrency=8,
            store_path=Path(tmp) / "bench.db",
        )  # fmt: skip
        briefs = asyncio.run(brief_documents([Document(text=t) for t in texts], settings))
    prompt = sum(b.provenance.tokens_in or 0 for b in briefs)  # the test server reports usage
    cached = sum(b.provenance.cached_tokens for b in briefs)
    cost = sum(b.provenance.cost_usd or 0.0 for b in briefs)
    return prompt, cached, cost


def _batch(texts: list[str]) -> tuple[float, int, float, int, int]:
    """(batched cost, batched calls, the run's whole cost, its tokens in+out, the
    article tokens briefed) of a daily --batch --wait run over the texts."""
    from summarizer.config import load_settings
    from summarizer.daily import DailyConfig, run_daily
    from summarizer.store import Store
    from summarizer.testing.openai_server import FakeOpenAI, Quirks

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(quirks=Quirks(batch_steps=0)) as s:
        src = Path(tmp) / "articles"
        src.mkdir()
        for i, text in enumerate(texts):
            (src / f"a{i:03}.txt").write_text(text, encoding="utf-8")
        settings = load_settings(
            None, base_url=s.base_url, model=MODEL, concurrency=8,
            store_path=Path(tmp) / "bench.db",
        )  # fmt: skip
        cfg = DailyConfig(
            sources=[str(src)], out_dir=Path(tmp) / "out", formats=["json"], batch=True,
            wait=True, batch_poll=0.01, max_articles=len(texts),
        )  # fmt: skip
        with Store(Path(tmp) / "bench.db") as store:
            result = asyncio.run(run_daily(cfg, settings, store=store))
            rows = store.query("SELECT cost_usd, batched FROM llm_calls")
    p = result.daily.provenance
    batched = [float(c or 0.0) for c, b in rows if b]
    briefed = sum(len(t) for t in texts[: p.articles_briefed]) // 4  # the server's 4 chars a token
    tokens = (p.tokens_in or 0) + (p.tokens_out or 0)  # the test server reports usage
    return sum(batched), len(batched), p.cost_usd or 0.0, tokens, briefed


def figures(n: int = 200) -> list[Figure]:
    texts = articles.generate(n)
    prompt, cached, with_cache = _run(texts, cache=True)
    _, _, without = _run(texts, cache=False)
    ratio = with_cache / without if without else 1.0
    batch_cost, batch_calls, run_cost, run_tokens, article_tokens = _batch(texts)
    per_batched = batch_cost / batch_calls if batch_calls else 0.0
    batch_ratio = per_batched / (without / n) if without else 1.0
    list_in = 0.15 / 1_000_000  # gpt-4o-mini's list input price per token
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
        Figure(
            "batch: billed cost per article",
            f"${per_batched:.6f} batched ({batch_calls} calls), ${without / n:.6f} live "
            f"without caching ({batch_ratio:.2f}x)",
            f"<= {BATCH_TARGET}x",
            batch_ratio <= BATCH_TARGET,
        ),
        Figure(
            "batch: the whole daily run (stories live)",
            f"${run_cost:.4f} for {n} articles; {run_tokens / article_tokens:.2f} tokens sent "
            f"or generated per article token; billed {run_cost / list_in / article_tokens:.2f} "
            "list-price input tokens per article token",
            "(info)",
            None,
        ),
    ]


if __name__ == "__main__":
    for f in figures():
        print(f.name, f.value, f.verdict)
