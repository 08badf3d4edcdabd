"""The grounding check: every evidence quote must occur in the source it cites.

A quote counts as found when it occurs in the source text after both are normalised:
whitespace runs become one space, curly and straight quote marks become straight ones,
the dash family becomes '-', and the ellipsis character becomes '...'. Nothing else is
forgiven: case, words and punctuation must match, because the user is told it is verbatim.

The check runs inside Pydantic validation, so instructor sends a failure back to the model
as a reask. instructor 1.17's `context=` would also render every message through Jinja
(and so alter an article containing `{{ ... }}`), so the sources reach the validator
through a ContextVar set around the call instead. On the last allowed attempt the policy
decides: "drop" removes the ungrounded quotes (and rows left without evidence) and counts
them; "fail" lets the validation error end the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from summarizer.schemas import BriefContent

Policy = Literal["drop", "fail"]

# A quote shorter than this proves nothing ("the", "said"): it is refused like a miss.
MIN_QUOTE_CHARS = 10

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-", "\ufe58": "-", "\ufe63": "-", "\uff0d": "-",
        "\u00ad": None,  # soft hyphen: invisible in the article, never typed by the model
        "\u200b": None,
    }
)  # fmt: skip
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    text = text.translate(_TRANSLATE).replace("\u2026", "...")
    return _SPACE.sub(" ", text).strip()


def strip_outer_quotes(quote: str) -> str:
    # Models often wrap a quote in quote marks that are not part of the source text.
    q = quote.strip()
    while len(q) >= 2 and q[0] in "\"'" and q[-1] in "\"'":
        q = q[1:-1].strip()
    return q


def find(quote: str, source_text_normalized: str) -> bool:
    q = normalize(strip_outer_quotes(quote))
    if len(q) < MIN_QUOTE_CHARS:
        return False
    if q in source_text_normalized:
        return True
    # Quotes whose outer quote mark belongs to the article ("... naval forces.”) still match.
    return normalize(quote) in source_text_normalized


@dataclass
class GroundingRun:
    """The state of one brief's grounding: its sources, policy and what was dropped."""

    sources: Mapping[str, str]  # source id -> normalised text
    policy: Policy
    is_last_attempt: Callable[[], bool]
    dropped: int = 0

    @classmethod
    def for_texts(
        cls, texts: Mapping[str, str], policy: Policy, is_last_attempt: Callable[[], bool]
    ) -> GroundingRun:
        return cls({k: normalize(v) for k, v in texts.items()}, policy, is_last_attempt)

    def why_not(self, quote: str, source_id: str) -> str | None:
        """None when the quote is grounded, else the reason, phrased for the model."""
        text = self.sources.get(source_id)
        if text is None:
            return f"source_id {source_id!r} is not one of: {', '.join(sorted(self.sources))}"
        if not find(quote, text):
            return f"quote {quote[:120]!r} does not occur verbatim in {source_id}"
        return None

    def problems(self, content: BriefContent) -> list[tuple[str, int, int, str]]:
        """(list name, row, item, reason) for every quote that is not grounded."""
        found: list[tuple[str, int, int, str]] = []
        for r, row in enumerate(content.stances):
            for e, ev in enumerate(row.evidence):
                if why := self.why_not(ev.quote, ev.source_id):
                    found.append(("stances", r, e, why))
        for r, dis in enumerate(content.disagreements):
            for c, claim in enumerate(dis.claims):
                if why := self.why_not(claim.quote, claim.source_id):
                    found.append(("disagreements", r, c, why))
        return found


_current: ContextVar[GroundingRun | None] = ContextVar("summarizer_grounding", default=None)


@contextmanager
def checking(run: GroundingRun) -> Iterator[GroundingRun]:
    token = _current.set(run)
    try:
        yield run
    finally:
        _current.reset(token)


def enforce(content: BriefContent) -> None:
    """Called from BriefContent's validator. Raises ValueError (a reask) or drops quotes."""
    run = _current.get()
    if run is None:
        return
    problems = run.problems(content)
    if not problems:
        return
    if run.policy == "drop" and run.is_last_attempt():
        bad = {(kind, r, i) for kind, r, i, _ in problems}
        stances = []
        for r, row in enumerate(content.stances):
            row.evidence = [ev for e, ev in enumerate(row.evidence) if ("stances", r, e) not in bad]
            if row.evidence:  # a row is only worth showing with evidence
                stances.append(row)
        disagreements = []
        for r, dis in enumerate(content.disagreements):
            dis.claims = [c for i, c in enumerate(dis.claims) if ("disagreements", r, i) not in bad]
            if len(dis.claims) >= 2:  # one side alone is no longer a disagreement
                disagreements.append(dis)
        content.stances, content.disagreements = stances, disagreements
        run.dropped += len(bad)
        return
    item = {"stances": "evidence", "disagreements": "claims"}
    lines = [f"{kind}[{r}].{item[kind]}[{i}]: {why}" for kind, r, i, why in problems]
    raise ValueError(
        "Every evidence quote must be copied exactly from its source. Fix or remove these "
        "(copy the exact words, or drop the row if the article has no such quote): "
        + "; ".join(lines)
    )
