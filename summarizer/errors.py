"""Every error summarizer raises on purpose, and the exit code the CLI gives it.

    SummarizerError                  (exit 1)  base; `str(err)` is one line meant for a person
    ├── GateFailed                   (exit 14) `summarizer eval`: a metric fell below its --min floor
    ├── UserError                              the user can fix it
    │   ├── ConfigError              (exit 3)  no endpoint, bad config file, bad setting
    │   ├── InputError               (exit 4)  empty, binary, non-UTF-8, oversize, missing input
    │   └── ReplayMissError          (exit 5)  --replay found no recording for a request
    └── RunError                               the run failed; carries what the provider said
        ├── ProviderError            (exit 6)  HTTP status/body from the endpoint, after retries
        │   └── ProviderUnreachable  (exit 6)  connection refused, DNS, timeout
        ├── ModelOutputError         (exit 7)  invalid or truncated output after all reasks
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


class ModelOutputError(RunError):
    exit_code = 7

    def __init__(self, message: str, *, raw_output: str | None = None) -> None:
        super().__init__(message)
        self.raw_output = raw_output


class GroundingError(ModelOutputError):
    exit_code = 8


class GateFailed(SummarizerError):
    """`summarizer eval --min METRIC=VALUE`: the run worked, but a metric is under its floor
    (or was not measured). Its own code, so CI can tell a quality regression from a crash."""

    exit_code = 14


EXIT_OK = 0
EXIT_INTERRUPTED = 130
