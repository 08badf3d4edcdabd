"""Quotations in free text: the spans a reader takes for someone's exact words.

A `Quote` field is checked by grounding.py; but a summary, a key point, a position or a
question can also present words as quoted (`The minister said “we will close every border
tomorrow”`), and a reader trusts those marks just as much. This module finds such spans
in any string; grounding.py checks each against the sources like a quote.

Which spans count:
- Pairs of quotation marks: “…”, „…“ and „…” (German, Polish), «…» and »…« (French,
  German), ‘…’ and ‚…‘, "…", and straight '…'.
- A span of three words or more. One or two quoted words are scare quotes, terms and titles
  ("the so-called “reform”", "the “Safe Harbour” deal"): a reader does not take them for a
  statement, and checking them would send honest paraphrases back to the model. From three
  words on, a quoted span reads as somebody's words, which is what an injected instruction
  would forge.
- Single marks double as apostrophes ("the minister’s plan", "the workers’ union", "’90s"):
  a single opening mark counts only at the start of a word (after a space, a bracket or
  the start of the text) and its closing mark only at the end of one (followed by a space,
  punctuation or the end), so an apostrophe inside or after a word never opens or closes a
  span. The same rule holds for straight double quotes, which open and close alike.
- Punctuation at a span's edges (`“we will close the border,”` in the American style) and
  a leading or trailing ellipsis are typography, not the speaker's words: they are left
  out of what is looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A quoted span of fewer words is a scare quote or a term, not a quotation (see above).
MIN_WORDS = 3

# (opening, closing, single): the marks that pair up. "Single" marks (and the straight
# double quote, which is the same character at both ends) also serve other purposes, so
# they open only at a word's start and close only at its end.
_PAIRS: tuple[tuple[str, str, bool], ...] = (
    ("\u201c", "\u201d", False),  # “ ”
    ("\u201e", "\u201c", False),  # „ “
    ("\u201e", "\u201d", False),  # „ ”
    ("\u00ab", "\u00bb", False),  # « »
    ("\u00bb", "\u00ab", False),  # » «
    ('"', '"', True),
    ("\u2018", "\u2019", True),  # ‘ ’
    ("\u201a", "\u2018", True),  # ‚ ‘
    ("'", "'", True),
)

# Before an opening single mark: nothing, a space or an opening bracket/dash.
_OPEN_BEFORE = r"(?:(?<=^)|(?<=[\s(\[{\u2014\u2013/-]))"
# After a closing single mark: nothing, a space or punctuation, never a letter or digit.
_CLOSE_AFTER = r"(?=$|[\s.,;:!?)\]}\u2014\u2013/-])"
_EDGE = " \t\n.,;:!?\u2026"


def _pattern(opening: str, closing: str, single: bool) -> re.Pattern[str]:
    o, c = re.escape(opening), re.escape(closing)
    if not single:
        return re.compile(f"{o}([^{o}{c}]+?){c}")
    # The body starts and ends with a non-space, never crosses a line break, and holds no
    # mark that could open another span ("'90s ... rock 'n' roll" is two elisions, not a
    # span): a quotation nested in one of the same marks is rare, an apostrophe is not.
    body = f"\\S(?:(?:(?!\\s{o})[^\\n])*?\\S)?"
    return re.compile(f"{_OPEN_BEFORE}{o}({body}){c}{_CLOSE_AFTER}")


_PATTERNS = tuple((_pattern(o, c, s), o, c) for o, c, s in _PAIRS)


@dataclass(frozen=True)
class Quotation:
    """One quoted span of a string: where its marks are and the words between them."""

    start: int  # index of the opening mark
    end: int  # index just after the closing mark
    words: str  # what is looked up in the sources: the inside, edges trimmed

    def shown(self, text: str) -> str:
        return text[self.start : self.end]


def _words(inside: str) -> str:
    inside = inside.strip(_EDGE)
    while inside.startswith("..."):
        inside = inside[3:].strip(_EDGE)
    while inside.endswith("..."):
        inside = inside[:-3].strip(_EDGE)
    return inside


def find(text: str) -> list[Quotation]:
    """The quoted spans of three words or more in `text`, in order, none inside another
    (a quotation inside a longer one is part of it)."""
    found: list[Quotation] = []
    for pattern, _o, _c in _PATTERNS:
        for m in pattern.finditer(text):
            words = _words(m.group(1))
            if len(words.split()) >= MIN_WORDS:
                found.append(Quotation(m.start(), m.end(), words))
    found.sort(key=lambda q: (q.start, -q.end))
    outer: list[Quotation] = []
    for q in found:
        if outer and q.start < outer[-1].end:
            continue  # inside (or overlapping) a span already taken
        outer.append(q)
    return outer


def unquote(text: str, spans: list[Quotation]) -> str:
    """`text` with the quotation marks of `spans` removed and the words kept, so what is
    left reads as a paraphrase, not as somebody's exact words."""
    for q in sorted(spans, key=lambda s: s.start, reverse=True):
        inner = text[q.start + 1 : q.end - 1]
        text = text[: q.start] + inner + text[q.end :]
    return text
