"""What a caller of the API or a Slack user is told about a failure, and what the log gets.

A library error's own message is written for the operator: it can name the model
endpoint's URL and repeat what the endpoint answered. Callers get the status and a short
reason instead (`public_message`), never an upstream body; the full message, redacted,
goes to the server log (`log_failure`).
"""

from __future__ import annotations

import logging

from summarizer.errors import (
    ApiError,
    ConfigError,
    GroundingError,
    ModelOutputError,
    ModeUnsupported,
    ProviderError,
    ProviderUnreachable,
    RequestRejected,
    SummarizerError,
    UnreadableAnswer,
)
from summarizer.plumbing import redact

log = logging.getLogger("summarizer.service")

_PROVIDER_HINTS = {
    401: "the server's model credentials were refused",
    403: "the server's model credentials lack a permission",
    404: "the model endpoint does not know the configured model",
    429: "the model endpoint is rate limiting this server",
}


def status_for(exc: SummarizerError) -> int:
    """The HTTP status an error is answered with: each error class states its own
    (errors.py draws the table), an ApiError instance carries the one it was given."""
    return exc.http_status


def public_message(exc: SummarizerError) -> str:
    """One line for a caller: what failed, with the upstream status but not its body."""
    if isinstance(exc, ModeUnsupported):
        # The CLI's words: no retry changes an endpoint's configuration.
        return (
            f"model endpoint cannot do --mode {exc.mode}: its configuration refuses it, so "
            "trying again will not help; the operator must choose another --mode or --mode auto"
        )
    if isinstance(exc, ProviderUnreachable):
        return {
            "timeout": "the model endpoint did not answer in time; try again later",
            "dropped": (
                "the model endpoint dropped the connection before a whole answer; try again later"
            ),
            "refused": "the model endpoint refused the connection; the operator must check it",
            "unresolved": "the model endpoint's host name does not resolve; the operator must "
            "check the server's base URL",
        }.get(exc.how, "the model endpoint could not be reached; try again later")
    if isinstance(exc, UnreadableAnswer):
        return (
            "the model endpoint answered with something that is not a chat completion; the "
            "operator must check the server's base URL"
        )
    if isinstance(exc, RequestRejected):
        status = f"HTTP {exc.status}" if exc.status else "an error"
        return (
            f"the model endpoint refused the request ({status}); trying it unchanged will not "
            "help: shorten the article"
        )
    if isinstance(exc, ProviderError):
        status = f"HTTP {exc.status}" if exc.status else "an error"
        hint = _PROVIDER_HINTS.get(exc.status or 0, "try again later")
        return f"the model endpoint answered {status}; {hint}"
    if isinstance(exc, GroundingError):
        return (
            "the model's quotes were still not found in the article after retries, and the "
            "server is set to fail rather than drop them"
        )
    if isinstance(exc, ModelOutputError):
        return "the model gave no valid brief after retries; try again or shorten the article"
    if isinstance(exc, ApiError):
        return exc.message
    if isinstance(exc, ConfigError):
        return "the server is misconfigured; the operator's log has the details"
    # Input and replay errors describe the caller's own input (or a missing recording);
    # they are still passed through redaction, as every message is.
    return redact.text(str(exc))


def log_failure(exc: SummarizerError, where: str) -> None:
    """The whole story, for the operator: the message and any upstream body, redacted."""
    body = getattr(exc, "body", None)
    extra = f" (upstream body: {redact.text(body)})" if body else ""
    log.warning("%s: %s: %s%s", where, type(exc).__name__, redact.text(str(exc)), extra)
