"""Every error summarizer raises on purpose, and the exit code the CLI gives it.

    SummarizerError                  (exit 1)  base; `str(err)` is one line meant for a person
    ├── UserError                              the user can fix it
    │   ├── ConfigError              (exit 3)  no endpoint, bad config file, bad setting
    │   ├── InputError               (exit 4)  empty, binary, non-UTF-8, oversize, missing input
    │   └── ReplayMissError          (exit 5)  --replay found no recording for a request
    │       └── RecordingUnreadable  (exit 5)  a recording file is corrupt or cannot be read
    └── RunError                               the run failed; carries what the provider said
        ├── ProviderError            (exit 6)  HTTP status/body from the endpoint, after retries
        │   ├── ProviderUnreachable  (exit 6)  connection refused, DNS, timeout
        │   └── RequestRejected      (exit 6)  400/422: the request's fault, not the endpoint's
        │       └── ModeUnsupported  (exit 6)  the endpoint cannot do this --mode
        ├── ModelOutputError         (exit 7)  invalid or truncated output after all reasks
        │   ├── TruncatedOutput      (exit 7)  cut off at max_tokens (never reasked)
        │   ├── ModelRefusal         (exit 7)  the model refused (never reasked)
        │   └── WrongToolCall        (exit 7)  the model called only other tools
        └── GroundingError           (exit 8)  quotes still not in the source (--strict)

Adapters (CLI, cron, HTTP API, Slack bot) catch SummarizerError at their edge and show
`str(err)`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


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
    exit_code = 3


class InputError(UserError):
    exit_code = 4


class ReplayMissError(UserError):
    exit_code = 5

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class RecordingUnreadable(ReplayMissError):
    """A recording exists for the request but cannot be used (corrupt JSON, unreadable file,
    missing fields): the message names the file and why. Same exit code as a miss: either
    way the replay has no answer for this request."""


class RunError(SummarizerError):
    """The run failed for a reason outside the user's input."""


class ProviderError(RunError):
    exit_code = 6

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ProviderUnreachable(ProviderError):
    pass


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
    exit_code = 8


EXIT_OK = 0
EXIT_INTERRUPTED = 130
