"""What a batch run does with each chat request, decided in the harness transport.

A daily run with `--batch` runs the same pipeline as a live run (the same prompts, the same
instructor, the same grounding and reasks), over a transport that consults a `Book` first.
Requests are keyed by the hash of their canonical body, as recordings are, so a request
that the pipeline builds again in a later run finds the answer its batch gave:

- answered by a collected batch: that answer, billed at the batch price; answered live
  earlier in the day's batch runs (a reask, a retry, a story): that answer again, never
  paid twice (`keep` stores each live answer for later rounds and runs);
- in a batch still running: held (`Deferred`), never submitted again;
- not yet asked: held for the next batch, or sent live, by policy. A request's first ask
  follows `first`; a reask (the body carries the model's failed answer) and a request whose
  batch gave no answer follow `followup`;
- given no answer by more batches than `retries` allows: `BatchFailed`, naming the batch
  and why, which fails only the article (or story) that asked.

Holding a request raises `Deferred`, which stops the brief that made it; the daily run
gathers every held request of a round into one batch (rounds.py). A request that would go
live is first checked against the run's budget (`over_budget`): past it, `BudgetReached`
fails only the article that asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from summarizer.errors import BatchFailed
from summarizer.signals import BudgetReached, Deferred
from summarizer.store.batches import AnswerRow

Policy = Literal["batch", "live"]


@dataclass(frozen=True)
class Answer:
    """A batch's HTTP answer to one request, as the endpoint would have sent it live."""

    status: int
    body: bytes
    replayed: bool = False
    fixture: bool = False
    batched: bool = True  # False: a live answer of an earlier round or run, kept


def is_reask(body: Any) -> bool:
    """A request that carries an earlier answer of the model: instructor's reask."""
    messages = body.get("messages") if isinstance(body, dict) else None
    return any(
        isinstance(m, dict) and m.get("role") in ("assistant", "tool") for m in messages or []
    )


@dataclass
class Book:
    first: Policy = "batch"
    followup: Policy = "live"
    retries: int = 1
    answers: dict[str, Answer] = field(default_factory=dict)
    # key -> why each batch that had it gave no answer, oldest first
    failed: dict[str, list[str]] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    # Called with each live answer (key, status, body), to keep it for later rounds.
    keep: Callable[[str, int, bytes], None] | None = None
    # True when the run's budget is spent: no more live calls.
    over_budget: Callable[[], bool] | None = None

    @classmethod
    def from_rows(
        cls, rows: Iterable[AnswerRow], running: set[str], *, first: Policy, followup: Policy,
        retries: int, live: Iterable[tuple[str, int, str]] = (),
    ) -> Book:  # fmt: skip
        book = cls(first=first, followup=followup, retries=retries, running=set(running))
        for key, status, body in live:
            book.answers[key] = Answer(status, body.encode("utf-8"), batched=False)
        for row in rows:
            if row.outcome == "answer" and row.status is not None and row.body is not None:
                book.answers[row.key] = Answer(
                    row.status, row.body.encode("utf-8"), row.replayed, row.fixture
                )
            else:
                book.failed.setdefault(row.key, []).append(row.detail or "no answer")
        return book

    def route(self, key: str, body: Any) -> Answer | None:
        """The answer for this request, or None to send it live; raises Deferred to hold
        it for a batch, BatchFailed when its batches gave no answer and no retry is left."""
        answer = self.answers.get(key)
        if answer is not None:
            return answer
        if key in self.running:
            raise Deferred({key: None})
        failures = self.failed.get(key, [])
        if len(failures) > self.retries:
            tries = len(failures)
            raise BatchFailed(
                f"{failures[-1]} (no answer from {tries} batch{'es' if tries != 1 else ''}, "
                "retries included; run without --batch to brief it live)"
            )
        policy = self.followup if failures or is_reask(body) else self.first
        if policy == "batch":
            raise Deferred({key: body if isinstance(body, dict) else None})
        if self.over_budget is not None and self.over_budget():
            raise BudgetReached
        return None

    def kept(self, key: str, status: int, body: bytes) -> None:
        """A live answer to a request of this run: served again if it is asked again."""
        if status != 200:
            return  # an error answer is not kept: asking again may work
        self.answers[key] = Answer(status, body, batched=False)
        if self.keep is not None:
            self.keep(key, status, body)
