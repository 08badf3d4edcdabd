"""The log of LLM calls made for one unit of work (one brief).

The transport appends a CallRecord for every HTTP exchange with the endpoint, so token
counts include reasks and retries without trusting any one library's bookkeeping. The
log travels in a ContextVar: the SDK awaits the transport in the caller's task, so
concurrent briefs each see their own log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallRecord:
    key: str
    model: str
    status: int
    tokens_in: int
    tokens_out: int
    latency_ms: float
    replayed: bool
    fixture: bool


@dataclass
class CallLog:
    records: list[CallRecord] = field(default_factory=list)
    # Logs nest (a daily run holds each article's log): a call counts in every open one.
    parent: CallLog | None = None

    @property
    def answered(self) -> int:
        """Calls that returned a completion (status 200): what instructor counts as attempts."""
        return sum(1 for r in self.records if r.status == 200)

    @property
    def tokens_in(self) -> int:
        return sum(r.tokens_in for r in self.records)

    @property
    def tokens_out(self) -> int:
        return sum(r.tokens_out for r in self.records)

    @property
    def replayed(self) -> bool:
        return any(r.replayed for r in self.records)

    @property
    def fixture(self) -> bool:
        return any(r.fixture for r in self.records)


_current: ContextVar[CallLog | None] = ContextVar("summarizer_call_log", default=None)


@contextmanager
def collecting() -> Iterator[CallLog]:
    log = CallLog(parent=_current.get())
    token = _current.set(log)
    try:
        yield log
    finally:
        _current.reset(token)


def record(entry: CallRecord) -> None:
    log = _current.get()
    while log is not None:
        log.records.append(entry)
        log = log.parent
