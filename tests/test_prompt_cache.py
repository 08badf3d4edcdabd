"""Cached prompt tokens: simulated by the test server as OpenAI does it, read from usage,
priced at the cached rate, shown in provenance and in a daily run's totals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import openai
import pytest

from summarizer.config import load_settings
from summarizer.core.pipeline import brief_documents
from summarizer.daily import DailyConfig, run_daily
from summarizer.llm import pricing
from summarizer.sources.ingest import Document
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Quirks, prompt_text

SHARED = "You are a careful analyst. " * 300  # ~2,000 tokens of fixed prefix


def _ask(server: FakeOpenAI, user: str) -> openai.types.CompletionUsage:
    client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    try:
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "system", "content": SHARED}, {"role": "user", "content": user}],
            response_format={"type": "json_object"},
        )
    finally:
        client.close()
    assert completion.usage is not None
    return completion.usage


def test_a_repeated_prefix_is_cached_in_128_token_steps_from_1024() -> None:
    with FakeOpenAI() as server:
        first = _ask(server, "Article one.")
        second = _ask(server, "Article two, another text.")
        shared_tokens = len(prompt_text(server.requests[0])) // 4
    assert first.prompt_tokens_details is not None and second.prompt_tokens_details is not None
    assert first.prompt_tokens_details.cached_tokens == 0  # nothing seen before
    cached = second.prompt_tokens_details.cached_tokens or 0
    assert cached >= 1024 and cached % 128 == 0
    assert shared_tokens - 128 - 40 <= cached <= second.prompt_tokens  # the shared part only


def test_short_prefixes_and_expired_ones_are_not_cached() -> None:
    with FakeOpenAI() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        short = [{"role": "user", "content": "short prompt " * 50}]
        for _ in range(2):
            usage = client.chat.completions.create(
                model="m", messages=short, response_format={"type": "json_object"}
            ).usage
        client.close()
        assert usage is not None and usage.prompt_tokens_details is not None
        assert usage.prompt_tokens_details.cached_tokens == 0  # under 1,024 tokens
    with FakeOpenAI(quirks=Quirks(cache_ttl=0.0)) as server:
        _ask(server, "a")
        later = _ask(server, "b")
    assert later.prompt_tokens_details is not None
    assert later.prompt_tokens_details.cached_tokens == 0


def test_cached_tokens_reach_provenance_and_are_billed_at_the_cached_rate() -> None:
    docs = [
        Document(text=f"Report {i}. " + "The port authority met on Monday. " * 40) for i in range(3)
    ]
    with FakeOpenAI() as server:
        s = load_settings(base_url=server.base_url, concurrency=1)
        # The brief prompt's fixed prefix (schema, rules) is the same for every article.
        briefs = asyncio.run(brief_documents(docs, s))
        served = list(server.cached_tokens)
    assert sum(b.provenance.cached_tokens for b in briefs) == sum(served)
    later = briefs[-1].provenance
    assert later.cached_tokens > 0
    full = pricing.cost_usd("gpt-4o-mini", later.tokens_in, later.tokens_out)
    assert later.cost_usd == pricing.cost_usd(
        "gpt-4o-mini", later.tokens_in, later.tokens_out, later.cached_tokens
    )
    assert later.cost_usd is not None and full is not None and later.cost_usd < full


@pytest.mark.parametrize(
    ("model", "cached_rate"),
    [("gpt-4o-mini", 0.075), ("gpt-4o", 1.25), ("gpt-4.1-mini", 0.10), ("gpt-5-nano", 0.005)],
)
def test_cached_rates_are_in_the_price_table(model: str, cached_rate: float) -> None:
    rates = pricing.price(model)
    assert rates is not None and rates[1] == cached_rate < rates[0]
    assert pricing.cost_usd(model, 1_000_000, 0, cached=1_000_000) == cached_rate


def test_prices_follow_snapshots_and_unknown_usage_has_no_cost() -> None:
    assert pricing.price("gpt-4o-2024-08-06") == pricing.price("gpt-4o")
    assert pricing.price("gpt-4o-mini-2024-07-18") == pricing.price("gpt-4o-mini")
    assert pricing.price("llama-3-8b") is None
    assert pricing.cost_usd("gpt-4o", None, 10) is None


def test_a_daily_runs_totals_show_cached_tokens(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    topics = [
        "The harbour authority opened a ferry line to the northern islands on Monday.",
        "Wheat farmers in the valley reported their largest harvest in a decade.",
        "The city orchestra announced a winter season of twelve free concerts.",
    ]
    for i, text in enumerate(topics):
        (src / f"a{i}.txt").write_text(f"{text}\n\n{text} Officials gave no further detail.")
    with FakeOpenAI() as server:
        s = load_settings(base_url=server.base_url, concurrency=1)
        cfg = DailyConfig(sources=[str(src)], out_dir=tmp_path / "out", formats=["json"])
        store = Store(tmp_path / "s.db")
        result = asyncio.run(run_daily(cfg, s, store=store, now=datetime.now(UTC)))
        served = sum(server.cached_tokens)
    p = result.daily.provenance
    assert served > 0 and p.cached_tokens == served
    assert p.cost_usd == pricing.cost_usd("gpt-4o-mini", p.tokens_in, p.tokens_out, served)
    from summarizer.render.markdown import daily_to_markdown

    assert f"({served} cached)" in daily_to_markdown(result.daily)
