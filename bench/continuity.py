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


def figures() -> list[Figure]:
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
