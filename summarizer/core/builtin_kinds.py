"""The built-in kinds, registered through the same hook a plugin uses (kinds.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from summarizer.core.kind_registry import Kind, KindRegistry


def _merge_timelines(parts: Sequence[Any]) -> Any:
    """The parts of an over-long article, in order: their events, one after the other."""
    from summarizer.core.schemas import TimelineContent

    return TimelineContent(title=parts[0].title, events=[e for p in parts for e in p.events])


def register(registry: KindRegistry) -> None:
    from summarizer.core.schemas import (
        Brief,
        BriefContent,
        ContinuationContent,
        LinkContent,
        Timeline,
        TimelineContent,
    )

    registry.register(
        Kind(
            name="brief",
            model=BriefContent,
            output=Brief,
            description=(
                "Summary, key points, a stance table backed by verbatim quotes, open questions."
            ),
            synthesis="story",
        )
    )
    registry.register(
        Kind(
            name="story",
            model=BriefContent,
            output=Brief,
            description=(
                "Several briefs on one story (or the parts of one long article) merged into one, "
                "with where the sources disagree. Used by `daily`; takes briefs, not articles."
            ),
            takes="briefs",
        )
    )
    registry.register(
        Kind(
            name="continuation",
            model=ContinuationContent,
            description=(
                "A story briefed before, again: today's brief plus what is new, which open "
                "questions today's sources answer (with quotes) and which are dropped. Used by "
                "`daily` for continuing stories; takes briefs and the previous brief."
            ),
            takes="briefs",
        )
    )
    registry.register(
        Kind(
            name="link",
            model=LinkContent,
            description=(
                "Does today's story report new events of an earlier one? A yes cites a quote "
                "from today's articles and one from the earlier brief. Used by `daily` when a "
                "match is close; takes articles and the earlier brief."
            ),
            takes="briefs",
        )
    )
    registry.register(
        Kind(
            name="timeline",
            model=TimelineContent,
            output=Timeline,
            description=(
                "Dated events: the date as the article states it, what happened, and a "
                "verbatim quote for each."
            ),
            merge=_merge_timelines,
        )
    )
