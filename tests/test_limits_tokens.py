from __future__ import annotations

import asyncio
import time

from summarizer.llm import tokens
from summarizer.llm.limiter import RateLimiter


def test_estimate_is_conservative_across_scripts() -> None:
    assert tokens.estimate("") == 0
    assert tokens.estimate("word " * 100) == 125
    assert tokens.estimate("外務大臣") == 3  # 12 bytes: about a token a character, rounded


def test_chunks_are_exact_substrings_under_the_limit() -> None:
    paras = [f"Paragraph {i}. " + "Some sentence here. " * 30 for i in range(20)]
    text = "\n\n".join(paras)
    chunks = tokens.split_paragraphs(text, 500)
    assert len(chunks) > 1
    assert "".join(chunks) == text  # nothing lost, nothing invented
    assert all(tokens.estimate(c) <= 500 for c in chunks)


def test_a_paragraph_without_breaks_is_still_split() -> None:
    text = "x" * 10_000
    chunks = tokens.split_paragraphs(text, 500)
    assert "".join(chunks) == text and all(tokens.estimate(c) <= 500 for c in chunks)


def test_short_text_is_one_chunk() -> None:
    assert tokens.split_paragraphs("short", 500) == ["short"]


def _sends(limiter: RateLimiter, n: int, tokens_each: int = 0) -> list[float]:
    async def go() -> list[float]:
        times: list[float] = []

        async def one() -> None:
            await limiter.acquire(tokens_each)
            times.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(n)))
        return times

    return asyncio.run(go())


def test_no_window_ever_holds_more_than_the_rpm_limit() -> None:
    window = 0.3
    times = sorted(_sends(RateLimiter(rpm=3, window=window, margin=0.0), 7))
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u - t < window) <= 3
    # and it does not wait longer than needed: 7 requests at 3 per window need 2 windows
    assert times[-1] - times[0] >= 2 * window


def test_token_limit_spaces_large_requests() -> None:
    window = 0.3
    times = sorted(_sends(RateLimiter(tpm=1000, window=window, margin=0.0), 3, tokens_each=600))
    assert times[1] - times[0] >= window and times[2] - times[1] >= window


def test_inactive_limiter_never_waits() -> None:
    times = _sends(RateLimiter(), 50)
    assert len(times) == 50
