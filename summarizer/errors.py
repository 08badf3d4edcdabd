"""Every error summarizer raises on purpose, and the exit code the CLI gives it.

    Exception
    ├── SummarizerError                  (exit 1)  base; `str(err)` is one line meant for a person
    │   ├── GateFailed                   (exit 14) `eval`: a metric fell below its --min floor
    │   ├── Interrupted                  (exit 143) SIGTERM stopped `daily` cleanly (SIGINT: 130)
    │   ├── UserError                               the user can fix it
    │   │   ├── ConfigError              (exit 3)  no endpoint, bad config file, bad setting
    │   │   │   ├── KindError            (exit 3)  a kind or template refused at load time
    │   │   │   ├── SamplingUnavailable  (exit 3)  `mcp --llm client`: the client lends no model
    │   │   │   └── PicturesUnavailable  (exit 3)  `site`: no matplotlib (built without pictures)
    │   │   ├── InputError               (exit 4)  empty, binary, non-UTF-8, oversize, missing input
    │   │   ├── ReplayMissError          (exit 5)  --replay found no recording for a request
    │   │   │   └── RecordingUnreadable  (exit 5)  a recording file is corrupt or cannot be read
    │   │   ├── LockedError              (exit 10) another `daily` run holds the lock
    │   │   ├── BatchUnsupported         (exit 3)  `daily --batch`: the endpoint has no Batch API
    │   │   └── ApiError                 (HTTP)    an HTTP API answer: status, type, one line
    │   └── RunError                                the run failed; carries what the provider said
    │       ├── ProviderError            (exit 6)  HTTP status/body from the endpoint, after retries
    │       │   ├── ProviderUnreachable  (exit 6)  refused, unresolved, timed out, dropped
    │       │   │                                  mid-answer (`how` says which)
    │       │   ├── UnreadableAnswer     (exit 6)  an answer that is not a chat completion
    │       │   ├── BatchFailed          (exit 6)  a batched request got no answer (batch failed,
    │       │   │                                  expired, cancelled; error line; lost file)
    │       │   ├── SamplingDeclined     (exit 6)  `mcp --llm client`: the client refused a request
    │       │   └── RequestRejected      (exit 6)  400/422: the request's fault, not the endpoint's
    │       │       └── ModeUnsupported  (exit 6)  the endpoint cannot do this --mode
    │       ├── ModelOutputError         (exit 7)  invalid or truncated output after all reasks
    │       │   ├── TruncatedOutput      (exit 7)  cut off at max_tokens (never reasked)
    │       │   ├── ModelRefusal         (exit 7)  the model refused (never reasked)
    │       │   ├── WrongToolCall        (exit 7)  the model called only other tools
    │       │   └── GroundingError       (exit 8)  quotes still not in the source (--strict)
    │       ├── WorkerFailed                        `daily --on-workers`: one article a worker
    │       │                                       could not brief (listed, not an exit)
    │       ├── NothingBriefedError      (exit 11) `daily`: no article could be briefed
    │       ├── BudgetReached                       `daily --batch`: an article not sent live past
    │       │                                       the budget (listed, not an exit)
    │       ├── BatchPending             (exit 13) `daily --batch`: a batch is still running;
    │       │   │                                  the next run (or --wait) collects it
    │       │   └── Deferred                        one request held for the next batch
    │       │                                       (inside a run, never an exit)
    │       └── StorageError             (exit 12) disk full, I/O error, read-only, locked,
    │                                              unreachable database, failed migration
    └── ValueError
        └── UngroundedQuotes                        raised inside validation: a reask, not an exit

Exit codes that are not errors: 0 success, 2 bad command line (typer), 9 partial (some
sources or articles failed and are listed; EXIT_PARTIAL), 130 interrupted (SIGINT), 143
stopped by SIGTERM (128 + the signal, as a shell reports it).

Adapters (CLI, cron, HTTP API, Slack bot) catch SummarizerError at their edge and show
`str(err)`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PARTIAL = 9
EXIT_INTERRUPTED = 130


class SummarizerError(Exception):
    """Base class. The message is a single line that names the thing and what to do."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # One line, always: adapters print it as-is.
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class UserError(SummarizerError):
    """Something the user can fix: configuration, input, a missing recording."""


class ConfigError(UserError):
    """A setting, config file, flag combination or endpoint that cannot work as given."""

    exit_code = 3


class KindError(ConfigError):
    """A kind or prompt template refused when loaded: it names the file and what is wrong."""


class SamplingUnavailable(ConfigError):
    """The MCP client cannot lend its model (no sampling capability, no way to reach it);
    its message names the option to use instead, and is safe to show any caller."""


class PicturesUnavailable(ConfigError):
    """matplotlib is not installed: the reader's site is built without its pictures."""


class InputError(UserError):
    """An input refused before any model call: empty, binary, non-UTF-8, oversize, missing."""

    exit_code = 4


class ReplayMissError(UserError):
    """--replay found no recording for a request; `key` is the request's hash."""

    exit_code = 5

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class RecordingUnreadable(ReplayMissError):
    """A recording exists for the request but cannot be used (corrupt JSON, unreadable file,
    missing fields): the message names the file and why. Same exit code as a miss: either
    way the replay has no answer for this request."""


class LockedError(UserError):
    """Another `daily` run holds the output directory's lock."""

    exit_code = 10


class BatchUnsupported(ConfigError):
    """`daily --batch` against an endpoint without OpenAI's Files and Batch API (Ollama,
    llama.cpp, vLLM's server): say so once instead of failing every article."""


class ApiError(UserError):
    """An HTTP API answer other than success (auth, limits, bad request, not found):
    the status, a machine-readable type and one line. The Slack bot catches it as the
    SummarizerError it is."""

    def __init__(
        self, status: int, type_: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.headers = headers or {}


class RunError(SummarizerError):
    """The run failed for a reason outside the user's input."""


class ProviderError(RunError):
    """The model endpoint failed after retries; carries its HTTP status and (redacted) body."""

    exit_code = 6

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ProviderUnreachable(ProviderError):
    """No answer came back. `how` says why, each in its own words: "refused" (nothing
    listens), "unresolved" (the host name does not resolve), "unreachable" (no route,
    TLS), "timeout" (no answer in time), "dropped" (the connection was accepted, then
    closed before a whole answer)."""

    def __init__(self, message: str, *, how: str = "unreachable") -> None:
        super().__init__(message)
        self.how = how


class UnreadableAnswer(ProviderError):
    """The endpoint answered, but not with a chat completion (HTML from a proxy, plain
    text, JSON without `choices`): the endpoint's or the URL's fault, not the model's."""


class SamplingDeclined(ProviderError):
    """The MCP client answered a sampling request with an error, or with no text."""


class RequestRejected(ProviderError):
    """The endpoint refused the request itself (HTTP 400/422: context length, invalid
    parameter): retrying it unchanged cannot help, a shorter article or other settings can."""


class ModeUnsupported(RequestRejected):
    """The endpoint cannot do the structured-output mode in use (its error names
    `response_format`, `tools` or `tool_choice`): another --mode can."""

    def __init__(
        self, message: str, *, mode: str, status: int | None = None, body: str | None = None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.mode = mode


class ModelOutputError(RunError):
    """The model gave no valid output after the reasks; `raw_output` is its last answer."""

    exit_code = 7

    def __init__(self, message: str, *, raw_output: str | None = None) -> None:
        super().__init__(message)
        self.raw_output = raw_output


class TruncatedOutput(ModelOutputError):
    """The answer was cut at the completion token limit, whatever finish_reason the server
    reported: a reask would carry the cut output back and be cut again."""


class ModelRefusal(ModelOutputError):
    """The model refused to answer (OpenAI's `refusal` field): asking again pays again for
    the same refusal."""


class WrongToolCall(ModelOutputError):
    """In tools mode the model called only tools other than the one asked for."""


class GroundingError(ModelOutputError):
    """Quotes were still not found in their source after the reasks, under --strict."""

    exit_code = 8


class WorkerFailed(RunError):
    """`daily --on-workers`: a worker could not brief an article (its reason, as the worker
    recorded it). One article's failure: listed under "Not included", never fatal alone."""


class NothingBriefedError(RunError):
    """Every source or article of a daily run failed: there is no brief to write."""

    exit_code = 11


class BudgetReached(RunError):
    """`daily --batch`: an article's request would have gone live past the run's cost or
    token budget. One article's outcome: listed under "Not included", like an article the
    budget stopped in a live run."""

    def __init__(self) -> None:
        super().__init__("skipped: the run's cost or token budget was reached")


class Interrupted(SummarizerError):
    """A signal (SIGTERM from a scheduler, SIGINT from a terminal) stopped a run cleanly:
    the calls in flight abandoned, the run marked interrupted, the locks released, what
    was briefed kept for the rerun. Its exit code is 128 + the signal's number."""

    exit_code = 143  # SIGTERM's; an instance has its own signal's

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


class BatchPending(RunError):
    """`daily --batch`: the run's requests are in a batch the provider has not finished.
    No brief is written; the next run (a later cron tick, or `daily --wait`) collects the
    batch and goes on. Its own exit code, so a scheduler can tell "not yet" from a failure."""

    exit_code = 13


class Deferred(BatchPending):
    """Raised by the harness transport for a request that goes into the next batch instead
    of being sent (or that waits in a batch already submitted): it stops the brief that
    asked, and the daily run gathers every request so held (`requests`: key -> request
    body, None when the request is already in a running batch). Never shown to a user."""

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


class BatchFailed(ProviderError):
    """A request sent through the Batch API got no answer: its batch failed, expired or was
    cancelled, its line is in the error file, or the output file was lost. The message
    names the batch and why; the request was already retried as far as configured."""


class StorageError(RunError):
    """The store could not do its work although the input was fine: the disk is full, the
    file or database answered with an I/O error, it is read-only or locked, the database
    server cannot be reached, or a schema migration failed (and was rolled back whole).
    The message names the store (a URL only with its credentials redacted) and the cause;
    it never suggests moving a healthy store aside, which would lose its delivery records."""

    exit_code = 12


class GateFailed(SummarizerError):
    """`summarizer eval --min METRIC=VALUE`: the run worked, but a metric is under its floor
    (or was not measured). Its own code, so CI can tell a quality regression from a crash."""

    exit_code = 14


class UngroundedQuotes(ValueError):
    """Raised by the grounding check inside Pydantic validation, so instructor reasks.
    A ValueError because that is what Pydantic turns into a validation error; the client
    finds it by type in the error chain (grounding.ungrounded) to raise GroundingError.
    `problems` lists each quote's path and why it was not found."""

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def ungrounded(exc: BaseException) -> UngroundedQuotes | None:
    """The grounding failure behind an exception (instructor's retry error wraps Pydantic's
    ValidationError, which keeps the validator's own exception), or None."""
    from pydantic import ValidationError

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, UngroundedQuotes):
            return cur
        if isinstance(cur, ValidationError):
            for err in cur.errors():
                found = (err.get("ctx") or {}).get("error")
                if isinstance(found, UngroundedQuotes):
                    return found
        cur = cur.__cause__ or cur.__context__
    return None
