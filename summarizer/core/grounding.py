"""The grounding check: every quote must occur in the source it cites, in any kind.

A quote counts as found when it occurs in the source text after both are normalised:
whitespace runs become one space, curly and straight quote marks become straight ones,
the dash family becomes '-', and the ellipsis character becomes '...'. Nothing else is
forgiven: case, words and punctuation must match, because the user is told it is verbatim.

Quotes are one typed building block (`schemas.Quote`); the check walks any model's fields
for them, so a kind (built-in, a plugin's, a user's file) never has to opt in. The
pipeline asks the model for `checked(model)`, the kind's model with the check as an after-
validator, so it runs inside Pydantic validation and instructor sends a failure back to
the model as a reask. instructor 1.17's `context=` would also render every message through
Jinja (and so alter an article containing `{{ ... }}`), so the sources reach the validator
through a ContextVar set around the call instead.

On the last allowed attempt (attempts.py counts them) the policy decides: "drop" removes
the ungrounded quotes and counts them, and so whatever held a quote it cannot do without
(a stance row left with no evidence, a disagreement with one side, a timeline event whose
quote went); "fail" lets the validation error end the run. A failure is raised as
`UngroundedQuotes`, so the client tells it from other invalid output by its type.

Quotations in free text (quotations.py finds them: `The minister said “we will close every
border”` in a summary, a key point, a position, any string field of any kind) are checked
the same way, against every source of the output (a free-text span names no source): a
grounded one stays; otherwise the output goes back to the model, and on the last attempt
the span's quotation marks are removed, its words kept, and it is counted
(`quotations_unquoted`). Removing marks loses nothing the reader needs, so this happens
under both policies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Literal, TypeVar

import annotated_types
from pydantic import BaseModel, model_validator

from summarizer.core import quotations
from summarizer.core.schemas import Quote
from summarizer.errors import UngroundedQuotes

M = TypeVar("M", bound=BaseModel)

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


def walk(obj: Any, path: str = "") -> Iterator[tuple[str, Quote]]:
    """Every Quote inside a model, with its path (`stances[1].evidence[0]`)."""
    if isinstance(obj, Quote):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from walk(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from walk(item, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from walk(item, f"{path}[{key!r}]")


@dataclass
class _Text:
    """One string field of a model (or an item of a list of strings), where it can be set."""

    path: str
    owner: Any  # a BaseModel, a list or a dict
    key: Any  # field name, index or key
    text: str

    def set(self, value: str) -> None:
        if isinstance(self.owner, BaseModel):
            setattr(self.owner, self.key, value)
        else:
            self.owner[self.key] = value


def _texts(obj: Any, path: str = "") -> Iterator[_Text]:
    """Every free-text string inside a model: its str fields and lists of str, outside
    `Quote`s (checked as quotes) and enum values (a fixed vocabulary, not prose)."""
    if isinstance(obj, Quote):
        return
    items: list[tuple[str, Any, Any, Any]]
    if isinstance(obj, BaseModel):
        items = [
            (f"{path}.{n}" if path else n, obj, n, getattr(obj, n)) for n in type(obj).model_fields
        ]
    elif isinstance(obj, list):
        items = [(f"{path}[{i}]", obj, i, v) for i, v in enumerate(obj)]
    elif isinstance(obj, dict):
        items = [(f"{path}[{k!r}]", obj, k, v) for k, v in obj.items()]
    else:
        return
    for sub, owner, key, value in items:
        if isinstance(value, str) and not isinstance(value, Enum):
            yield _Text(sub, owner, key, value)
        else:
            yield from _texts(value, sub)


def _min_length(model: type[BaseModel], name: str) -> int:
    field = model.model_fields[name]
    return max(
        [m.min_length for m in field.metadata if isinstance(m, annotated_types.MinLen)] or [0]
    )


def _prune(obj: BaseModel, bad: set[int]) -> bool:
    """Remove the quotes whose id() is in `bad` from obj, in place. False when obj cannot
    stand without one of them (then its container drops it in turn)."""
    model = type(obj)
    for name, field in model.model_fields.items():
        value = getattr(obj, name)
        if isinstance(value, BaseModel):
            gone = id(value) in bad if isinstance(value, Quote) else not _prune(value, bad)
            if gone:
                if field.is_required() or field.default is not None:
                    return False
                setattr(obj, name, None)
        elif isinstance(value, list):
            kept = [
                v
                for v in value
                if not (isinstance(v, Quote) and id(v) in bad)
                and not (
                    isinstance(v, BaseModel) and not isinstance(v, Quote) and not _prune(v, bad)
                )
            ]
            if len(kept) != len(value):
                if len(kept) < _min_length(model, name):
                    return False
                setattr(obj, name, kept)
    return True


@dataclass
class GroundingRun:
    """The state of one output's grounding: its sources, policy and what was dropped."""

    sources: Mapping[str, str]  # source id -> normalised text
    policy: Policy
    is_last_attempt: Callable[[], bool]
    dropped: int = 0
    unquoted: int = 0  # quotations in free text whose marks were removed (last attempt)

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

    def problems(self, content: BaseModel) -> list[tuple[str, Quote, str]]:
        """(path, quote, reason) for every quote in content that is not grounded."""
        found = []
        for path, q in walk(content):
            if why := self.why_not(q.quote, q.source_id):
                found.append((path, q, why))
        return found

    def is_quoted(self, words: str) -> bool:
        """A free-text quotation's words occur in one of the sources (it names none). The
        first letter's case is forgiven: a quotation that opens a sentence is capitalised
        (`said: “We will ...”` of `... said we will ...`), which changes no word."""
        needle = normalize(words)
        variants = {needle, needle[:1].lower() + needle[1:], needle[:1].upper() + needle[1:]}
        return any(v in text for text in self.sources.values() for v in variants)

    def quotation_problems(
        self, content: BaseModel
    ) -> list[tuple[_Text, list[quotations.Quotation]]]:
        """Every string field holding a quotation not found in any source, with those spans."""
        found = []
        for field in _texts(content):
            bad = [q for q in quotations.find(field.text) if not self.is_quoted(q.words)]
            if bad:
                found.append((field, bad))
        return found


_current: ContextVar[GroundingRun | None] = ContextVar("summarizer_grounding", default=None)


@contextmanager
def checking(run: GroundingRun) -> Iterator[GroundingRun]:
    token = _current.set(run)
    try:
        yield run
    finally:
        _current.reset(token)


def enforce(content: BaseModel) -> None:
    """The check, on a validated model: raises UngroundedQuotes (a reask), or on the last
    attempt under the drop policy removes the ungrounded quotes and counts them. Does
    nothing outside `checking()`: a stored output is not re-checked against sources it no
    longer has."""
    run = _current.get()
    if run is None:
        return
    problems = run.problems(content)
    spans = run.quotation_problems(content)
    if not problems and not spans:
        return
    last = run.is_last_attempt()
    if last and spans and not problems:
        _unquote(run, spans)
        return
    # A kind whose root cannot stand without a dropped quote fails like the fail policy.
    if last and run.policy == "drop" and _prune(content, {id(q) for _, q, _ in problems}):
        run.dropped += len(problems)
        # Only what is still shown counts: a pruned row's quotations went with it.
        _unquote(run, run.quotation_problems(content))
        return
    lines = [f"{path}: {why}" for path, _, why in problems]
    lines += [
        f"{field.path}: the quotation {q.shown(field.text)[:120]!r} does not occur verbatim in "
        "any source"
        for field, bad in spans
        for q in bad
    ]
    raise UngroundedQuotes(
        "Every quote must be copied exactly from its source, and so must any words you put "
        "in quotation marks in other fields. Fix or remove these (copy the exact words, drop "
        "the item if the article has no such quote, or write the words without quotation "
        "marks as a paraphrase): " + "; ".join(lines),
        problems=lines,
    )


def _unquote(run: GroundingRun, spans: list[tuple[_Text, list[quotations.Quotation]]]) -> None:
    """The last attempt's way out for quotations: the words stay, the marks go, counted."""
    for field, bad in spans:
        field.set(quotations.unquote(field.text, bad))
        run.unquoted += len(bad)


@cache
def checked(model: type[M]) -> type[M]:
    """`model` with the grounding check as an after-validator: same name, same fields and
    the same JSON Schema (so the same request body), built once per model."""

    def _grounded(self: M) -> M:
        enforce(self)
        return self

    namespace: dict[str, Any] = {
        "__module__": model.__module__,
        "__doc__": model.__doc__,
        "__qualname__": model.__qualname__,
        "_summarizer_grounded": model_validator(mode="after")(_grounded),
    }
    return type(model.__name__, (model,), namespace)
