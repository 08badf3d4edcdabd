"""The one reader for JSON from outside: bounded in size and depth, one-line errors.

Python's json module parses nested arrays and objects by recursion: a text nested
100,000 deep raises RecursionError (not ValueError), which escapes every `except
ValueError` around a parse and ends the run with a traceback; inside the OpenAI SDK it
even reads as a connection failure. Whatever comes from outside (a model's answer, an
endpoint's error body, a batch output line, a gold file, a recording, an API request
body) is read here instead: its size and nesting are checked before it is parsed, and
every refusal is a `JSONRefused` (a ValueError, so existing `except ValueError` keep
working) whose message names what was read and why it was refused. The caller turns it
into its own error, with its own exit code.

Nesting is measured on the text, stepping over strings (brackets inside them do not
count), and the measure stops at the first bracket past the bound. Nothing we read legitimately comes near the bound: a brief's answer is about
8 levels deep (the SDK's envelope, the tool call, stances, evidence).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

# Far above any contract's nesting (a brief is ~8 deep, a user's kind maybe 20), far below
# the interpreter's recursion limit (~1,000), so the parser itself never recurses too deep.
MAX_DEPTH = 64
# Larger than any answer, gold file or batch line we read (callers pass their own bound).
MAX_BYTES = 64 * 1024 * 1024

# A JSON string (the unrolled form: no alternation per character, linear on long strings)
# or a bracket; a string is stepped over whole, so brackets inside it do not count.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


Why = Literal["size", "depth", "encoding", "syntax"]


class JSONRefused(ValueError):
    """Untrusted JSON that was not parsed: `what` names it, `reason` says why, `why` is
    the kind of refusal (too large, nested too deep, not UTF-8, not JSON)."""

    def __init__(self, what: str, reason: str, *, why: Why) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason
        self.why = why

    @property
    def hostile(self) -> bool:
        """Too large or too deep: not a slip of a writer but input that could stall or
        crash a reader, refused whatever the caller does with broken JSON otherwise."""
        return self.why in ("size", "depth")


def too_deep(text: str, max_depth: int) -> bool:
    """True when arrays and objects in `text` nest deeper than max_depth. One lazy pass
    over strings and brackets that stops at the first bracket past the bound, so a text
    nested 100,000 deep costs 65 steps, not 100,000."""
    level = 0
    for token in _TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            level += 1
            if level > max_depth:
                return True
        elif bracket in "]}":
            level -= 1
    return False


def loads(
    data: str | bytes,
    *,
    what: str,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_BYTES,
) -> Any:
    """Parse `data` (bytes are UTF-8, a BOM allowed), refusing what is larger than
    max_bytes or nested deeper than max_depth. Raises JSONRefused naming `what`."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise JSONRefused(what, f"larger than {max_bytes:,} bytes ({size:,}); not read", why="size")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise JSONRefused(what, "not UTF-8 text", why="encoding") from None
    else:
        text = data
    # Cheap first: a text with fewer brackets than the bound cannot nest deeper than it.
    if text.count("[") + text.count("{") > max_depth and too_deep(text, max_depth):
        raise JSONRefused(
            what, f"JSON nested more than {max_depth} levels deep; not read", why="depth"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONRefused(
            what,
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            why="syntax",
        ) from None
    except RecursionError:  # unreachable past the depth check; kept as the last guard
        raise JSONRefused(what, "JSON nested too deep; not read", why="depth") from None
