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
from dataclasses import dataclass, field, replace

from summarizer.llm import pricing


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
    # Prompt tokens the provider served from its prompt cache (part of tokens_in).
    cached_tokens: int = 0
    # False when a completion came without `usage`: its tokens (and cost) are unknown, not 0.
    usage_known: bool = True
    # Answered through the Batch API (daily --batch): billed at the batch price.
    batched: bool = False
    # The request's and the answer's own size in tokens (tokens.estimate): what a budget
    # counts for a call whose usage is unknown (missing, or refused as impossible).
    estimated_in: int = 0
    estimated_out: int = 0
    # Answered by a daily --batch run from what it already paid for: a collected batch
    # (recorded when collected) or a live answer of an earlier round or run. Part of the
    # brief it went into; not spent again by this run (history, budget, run totals).
    prepaid: bool = False
    # An embeddings request (continuity.py): priced at its own model's rate, not the run's.
    embedding: bool = False

    def cost_usd(self) -> float | None:
        """This call at its own rates (cached, batched); None when unknown."""
        if not self.usage_known:
            return None
        return pricing.cost_usd(
            self.model, self.tokens_in, self.tokens_out, self.cached_tokens, batched=self.batched
        )


@dataclass
class CallLog:
    records: list[CallRecord] = field(default_factory=list)
    # Logs nest (a daily run holds each article's log): a call counts in every open one.
    parent: CallLog | None = None
    # The structured-output mode the calls were made in (resolved, when --mode auto).
    mode: str | None = None

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
    def cached_tokens(self) -> int:
        return sum(r.cached_tokens for r in self.records)

    @property
    def usage_known(self) -> bool:
        return all(r.usage_known for r in self.records)

    @property
    def budget_tokens(self) -> int:
        """Tokens as a budget counts them: reported usage, or for a call without usage
        the request's and answer's own size; never less than 0, so a budget only grows."""
        return sum(
            r.tokens_in + r.tokens_out if r.usage_known else r.estimated_in + r.estimated_out
            for r in self.records
        )

    def budget_usd(self, model: str) -> float:
        """What these calls cost as a budget counts it: at the price table's rates, a call
        without usage at its estimate (so missing usage never reads as free); 0 when the
        model's price is unknown (a budget in USD refuses such a model up front)."""
        estimated = [
            r if r.usage_known else replace(
                r, tokens_in=r.estimated_in, tokens_out=r.estimated_out, cached_tokens=0,
                usage_known=True,
            )
            for r in self.records
        ]  # fmt: skip
        return CallLog(estimated).priced(model) or 0.0

    @property
    def batched_calls(self) -> int:
        return sum(1 for r in self.records if r.batched)

    def cost_usd(self, model: str) -> float | None:
        """What these calls cost: 0 when replayed (the recording's cost is not this run's),
        None when the price or any call's usage is unknown. Batched calls at the batch price."""
        if self.replayed:
            return 0.0
        return self.priced(model)

    def priced(self, model: str) -> float | None:
        """What these calls cost at the price table's rates, replayed or not (a budget
        behaves the same on replay as live); None when the price or any usage is unknown."""
        if not self.usage_known:
            return None
        chat = [r for r in self.records if not r.embedding]
        live = [r for r in chat if not r.batched]
        batched = [r for r in chat if r.batched]
        total = 0.0
        for r in self.records:
            if r.embedding:
                cost = r.cost_usd()
                if cost is None:
                    return None
                total += cost
        for group, is_batched in ((live, False), (batched, True)):
            if not group:
                continue
            cost = pricing.cost_usd(
                model, sum(r.tokens_in for r in group), sum(r.tokens_out for r in group),
                sum(r.cached_tokens for r in group), batched=is_batched,
            )  # fmt: skip
            if cost is None:
                return None
            total += cost
        return round(total, 6) if self.records else pricing.cost_usd(model, 0, 0)

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


def note_mode(mode: str) -> None:
    """Say which mode the calls of every open log were made in."""
    log = _current.get()
    while log is not None:
        log.mode = mode
        log = log.parent


def trailing_failures() -> int:
    """How many of the current log's last calls failed in a row: the attempts (first try
    and retries) of the request that finally failed."""
    log = _current.get()
    n = 0
    for r in reversed(log.records if log is not None else []):
        if r.status == 200:
            break
        n += 1
    return n
