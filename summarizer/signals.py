"""Signals a run passes to itself: control flow, not errors a user sees.

    Exception
    └── Signal                  base; never reaches an adapter's edge, never an exit code
        ├── Deferred            `daily --batch`: a request held for the next batch (or waiting
        │                       in one already submitted); the run gathers every one
        └── BudgetReached       `daily --batch`: a request that would go live past the run's
                                cost or token budget; its article is listed as skipped

They are raised deep inside a model call (the batch `Book` decides in the harness transport,
under the OpenAI SDK and instructor) and caught by the daily run, which knows what to do with
them. They are not SummarizerErrors on purpose: an adapter or a step that catches
SummarizerError to report a failure must not report a held request as one. On their way up:

- the transport (llm/transport.py) wraps one in `HeldByBook`, an `openai.OpenAIError`, which
  the SDK re-raises as it is (it retries, as a connection error, anything that is not an
  OpenAIError); instructor passes an exception it does not retry on through;
- the client (llm/client.py) finds it in the exception's chain and raises it again as it was;
- `concurrency.gather_or_cancel` merges the Deferreds of a brief's parallel calls into one;
- the daily steps (daily/steps.py, daily/follow.py) hold the article for a batch, or list it
  as over the budget.

A run that has no batch never sees one. The outcomes that are real exits (`BatchPending`,
exit 13; `Interrupted`, 130/143) stay in errors.py.
"""

from __future__ import annotations


class Signal(Exception):
    """Base of the signals: caught inside a run, never shown to a user."""


class Deferred(Signal):
    """Raised by the harness transport for a request that goes into the next batch instead
    of being sent (or that waits in a batch already submitted): it stops the brief that
    asked, and the daily run gathers every request so held (`requests`: key -> request
    body, None when the request is already in a running batch)."""

    def __init__(self, requests: dict[str, dict[str, object] | None]) -> None:
        super().__init__(f"{len(requests)} request(s) held for a batch")
        self.requests = requests

    @classmethod
    def merged(cls, found: list[Deferred]) -> Deferred:
        requests: dict[str, dict[str, object] | None] = {}
        for d in found:
            for key, body in d.requests.items():
                if requests.get(key) is None:
                    requests[key] = body
        return cls(requests)


class BudgetReached(Signal):
    """`daily --batch`: an article's request would have gone live past the run's cost or
    token budget. One article's outcome: listed under "Not included" with this message,
    like an article the budget stopped in a live run."""

    MESSAGE = "skipped: the run's cost or token budget was reached"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)
