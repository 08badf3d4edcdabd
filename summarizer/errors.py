"""Every error summarizer raises on purpose, the exit code the CLI gives it and the HTTP
status the API (and the MCP server and Slack bot, which use its wording) answers it with.

    Exception                             exit  HTTP
    ├── SummarizerError                    1    500  base; `str(err)` is one line for a person
    │   ├── GateFailed                    14    500  `eval`: a metric fell below its --min floor
    │   ├── Interrupted                  143    500  SIGTERM stopped `daily` cleanly (SIGINT: 130)
    │   ├── UserError                      1    500  the user can fix it
    │   │   ├── ConfigError                3    500  no endpoint, bad config file, bad setting
    │   │   │   │                                    (the server is misconfigured: not the
    │   │   │   │                                    caller's fault)
    │   │   │   ├── KindError              3    500  a kind or template refused at load time
    │   │   │   ├── SamplingUnavailable    3    500  `mcp --llm client`: the client lends no model
    │   │   │   ├── PicturesUnavailable    3    500  `site`: no matplotlib (built without pictures)
    │   │   │   └── BatchUnsupported       3    500  `daily --batch`: the endpoint has no Batch API
    │   │   ├── InputError                 4    422  empty, binary, non-UTF-8, oversize, missing
    │   │   ├── ReplayMissError            5    503  --replay found no recording for a request
    │   │   │   └── RecordingUnreadable    5    503  a recording file is corrupt or unreadable
    │   │   ├── LockedError               10    500  another `daily` run holds the lock
    │   │   └── ApiError                   1    its  an HTTP API answer: status, type, one line
    │   └── RunError                       1    500  the run failed; carries what the provider said
    │       ├── ProviderError              6    502  HTTP status/body from the endpoint, retried
    │       │   ├── ProviderUnreachable    6    502  refused, unresolved, timed out, dropped
    │       │   │                                    mid-answer (`how` says which)
    │       │   ├── UnreadableAnswer       6    502  an answer that is not a chat completion
    │       │   ├── BatchFailed            6    502  a batched request got no answer (batch
    │       │   │                                    failed, expired, cancelled; error line;
    │       │   │                                    lost file)
    │       │   ├── SamplingDeclined       6    502  `mcp --llm client`: the client refused a
    │       │   │                                    request
    │       │   └── RequestRejected        6    502  400/422: the request's fault, not the
    │       │       │                                endpoint's
    │       │       └── ModeUnsupported    6    502  the endpoint cannot do this --mode
    │       ├── ModelOutputError           7    502  invalid or truncated output after reasks
    │       │   ├── TruncatedOutput        7    502  cut off at max_tokens (never reasked)
    │       │   ├── ModelRefusal           7    502  the model refused (never reasked)
    │       │   ├── WrongToolCall          7    502  the model called only other tools
    │       │   └── GroundingError         8    502  quotes still not in the source (--strict)
    │       ├── WorkerFailed               1    500  `daily --on-workers`: one article a worker
    │       │                                        could not brief (listed, not an exit)
    │       ├── NothingBriefedError       11    500  `daily`: no article could be briefed
    │       ├── BatchPending              13    500  `daily --batch`: a batch is still running;
    │       │                                        the next run (or --wait) collects it
    │       └── StorageError              12    500  disk full, I/O error, read-only, locked,
    │                                                unreachable database, failed migration
    └── ValueError
        └── UngroundedQuotes                         raised inside validation: a reask, not an exit

Each class carries both as class attributes, `exit_code` and `http_status`; an `ApiError`
instance carries its own status. The signals a run passes to itself (a request held for a
batch, an article past the budget) are not errors a user sees: they live in
summarizer/signals.py, outside this tree.

Exit codes that are not errors: 0 success, 2 bad command line (typer), 9 partial (some
sources or articles failed and are listed; EXIT_PARTIAL), 130 interrupted (SIGINT), 143
stopped by SIGTERM (128 + the signal, as a shell reports it).

Adapters (CLI, cron, HTTP API, Slack bot, MCP server) catch SummarizerError at their edge
and show `str(err)` (or, to a remote caller, `service/answers.public_message`); anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PARTIAL = 9
EXIT_INTERRUPTED = 130


class SummarizerError(Exception):
    """Base class. The message is a single line that names the thing and what to do."""

    exit_code = 1
    # What the HTTP API answers: a failure of the server's own unless a subclass says whose.
    http_status = 500

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
    # On the server this is the operator's configuration, not the caller's request: 500
    # (the message says how to fix it, and holds no secret).
    http_status = 500


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
    http_status = 422


class ReplayMissError(UserError):
    """--replay found no recording for a request; `key` is the request's hash."""

    exit_code = 5
    # The server replays recordings and has none for this request: unavailable, not broken.
    http_status = 503

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
        self.http_status = status
        self.type = type_
        self.headers = headers or {}


class RunError(SummarizerError):
    """The run failed for a reason outside the user's input."""


class ProviderError(RunError):
    """The model endpoint failed after retries; carries its HTTP status and (redacted) body."""

    exit_code = 6
    # A bad gateway: the model endpoint behind the server failed. (`status` is the
    # endpoint's own answer, which a caller is told but never given as ours.)
    http_status = 502

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
    http_status = 502  # the model behind the server gave nothing usable

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
