"""The attempt arithmetic, in one place.

instructor 1.17 makes N+1 calls for `max_retries=N` (tenacity's stop_after_attempt(N+1)),
so `--max-reasks N` allows N+1 attempts; tests/test_attempts.py pins that behaviour, so an
instructor upgrade that changes it fails a test instead of shifting the grounding policy.

Attempts are counted by instructor's `completion:kwargs` hook, which fires once before
each attempt (HTTP retries of a 429 or 500 happen inside the SDK and are not attempts),
into a counter held in a ContextVar: hooks run in the task that asked, so concurrent
extractions each count their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

HOOK = "completion:kwargs"


def allowed(max_reasks: int) -> int:
    """Attempts instructor makes for max_retries=max_reasks: the first one plus the reasks."""
    return max_reasks + 1


@dataclass
class Attempts:
    limit: int
    made: int = 0

    def is_last(self) -> bool:
        """True while the final allowed attempt is being validated."""
        return self.made >= self.limit


_current: ContextVar[Attempts | None] = ContextVar("summarizer_attempts", default=None)


@contextmanager
def counting(max_reasks: int) -> Iterator[Attempts]:
    attempts = Attempts(allowed(max_reasks))
    token = _current.set(attempts)
    try:
        yield attempts
    finally:
        _current.reset(token)


def started(*_args: Any, **_kwargs: Any) -> None:
    """instructor's HOOK handler: one more attempt in the current extraction."""
    attempts = _current.get()
    if attempts is not None:
        attempts.made += 1
