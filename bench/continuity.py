"""What continuity adds per continuing story, in tokens, from the seed demo's recordings.

A continuing story's synthesis call (the `continuation` kind) carries, beyond what a story
call carries, the previous brief's compact form with its open questions, and the schema
and instructions of the three extra fields. Measured on the recorded day-2 request of the
seed demo (`seeds/daily-2`, re-made by `python seeds/record_fixtures.py`) against the
recorded day-1 story request, with the same offline estimate as the other token figures.
"""

from __future__ import annotations

import json
from typing import Any

from common import SEED_RECORDINGS, Figure
from daily_runs import _json_escaped, _tok

from summarizer.testing.openai_server import articles_in


def _requests() -> list[dict[str, Any]]:
    """The recorded chat requests. The recordings hold other exchanges too (the Batch API's
    file and batch calls, whose requests have no JSON body, or none at all): skipped."""
    bodies = [
        json.loads(p.read_text(encoding="utf-8"))["request"].get("body")
        for p in sorted(SEED_RECORDINGS.glob("*.json"))
    ]
    return [b for b in bodies if isinstance(b, dict) and b.get("messages")]


def _fixed(request: dict[str, Any]) -> int:
    """Tokens of a request besides every fenced block (notes, and the previous brief)."""
    return _tok(request) - sum(_json_escaped(t) for t in articles_in(request).values())


MATCH_BUDGET_S = 1.0  # CPU seconds per story of today, at most ("well under a second")


def matching_figure(today_n: int = 200, earlier_n: int = 700, seed: int = 7) -> Figure:
    """CPU to match a busy day (200 stories, three articles of 4,000 characters each)
    against 14 days of earlier stories (50 a day), names and words of every article read: continuity.score
    as daily/follow.py calls it, the stories made of the link gold set's articles, shuffled
    into new mixes with a made-up name each, so no two are the same."""
    import random
    import time
    from pathlib import Path

    from summarizer.stories import continuity

    folder = Path(__file__).resolve().parent.parent / "seeds" / "gold-links" / "articles"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
    rng = random.Random(seed)

    def article() -> str:
        # As long as follow.py reads of an article (its first 4,000 characters).
        return "\n".join(rng.sample(texts, 6))[:4000]

    def story(n: int) -> continuity.Side:
        parts = [article() for _ in range(3)]
        tag = f"Story{n} reported by Agency{n % 37}."
        title = parts[0].split("\n")[0]
        return continuity.Side(f"{title}. {tag}", (f"Agency{n % 37}",), tuple(parts))

    today = [story(n) for n in range(today_n)]
    earlier = [story(today_n + n) for n in range(earlier_n)]
    start = time.process_time()
    continuity.score(today, earlier)
    spent = time.process_time() - start
    per = spent / today_n
    return Figure(
        "continuity: CPU per story matching a day of 200 stories against 700 earlier ones",
        f"{per * 1000:.0f} ms per story ({spent:.1f} s in all)",
        f"< {MATCH_BUDGET_S:g} s per story",
        per < MATCH_BUDGET_S,
    )


def figures() -> list[Figure]:
    out = [matching_figure()]
    return out + _token_figures()


def _token_figures() -> list[Figure]:
    requests = _requests()
    system = [r["messages"][0]["content"] for r in requests]
    cont = [r for r, s in zip(requests, system, strict=True) if "briefed before" in s]
    story = [
        r for r, s in zip(requests, system, strict=True)
        if "notes extracted" in s and "briefed before" not in s
    ]  # fmt: skip
    if not cont or not story:
        return [Figure("continuity: tokens per continuing story", "no recordings", "(info)", None)]
    previous = _json_escaped(articles_in(cont[0])["PREVIOUS"])
    extra = _fixed(cont[0]) - _fixed(story[0])
    return [
        Figure(
            "continuity: tokens a continuing story adds to its synthesis call",
            f"{previous + extra:,} ({previous:,} previous brief and open questions + {extra:,} "
            "schema and instructions; seed demo day 2)",
            "(info)",
            None,
        )
    ]
