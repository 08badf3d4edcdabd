"""Translating a failed call into the project's own errors (errors.py), once, with a
message that says what happened and the fix.

instructor 1.17 makes N+1 calls for max_retries=N and wraps every final failure in
InstructorRetryException, so the cause is dug out of it. Messages that name the endpoint
show its URL through redact.url; what a provider said is shown shortened and redacted
(failures.py), and its whole body, redacted, goes to the log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from summarizer.config import Settings
from summarizer.errors import (
    GroundingError,
    ModelOutputError,
    ModeUnsupported,
    ProviderError,
    ProviderUnreachable,
    RequestRejected,
    SummarizerError,
    UnreadableAnswer,
)
from summarizer.llm import calls, checks, failures
from summarizer.llm.connect import is_local
from summarizer.plumbing import redact
from summarizer.signals import Signal

log = logging.getLogger("summarizer.llm")


class Translator:
    """Says the failures of one model's calls: `endpoint` as it may be printed, `secret`
    (the API key) removed from everything said."""

    def __init__(self, settings: Settings, endpoint: str, secret: str | None) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self._secret = secret

    def _redact(self, text: str) -> str:
        return redact.text(text, [self._secret])

    def translate(self, exc: BaseException, mode: str) -> SummarizerError | Signal:
        """`exc`, from a call in `mode`, as the project's own error."""
        import instructor.core.exceptions as ie
        import openai

        from summarizer.llm.transport import NotACompletion, TimedOutNoRetry

        chain = _causes(exc)
        for e in chain:
            # Ours, carried through the SDK and instructor (transport.HeldByBook): a signal
            # for the daily run (signals.py) or an error already said in our words.
            if isinstance(e, SummarizerError | Signal):
                return e
        model = self.settings.model
        # Before the SDK's connection error that wraps it: the answer came, unreadable.
        for e in chain:
            if isinstance(e, NotACompletion):
                return UnreadableAnswer(
                    f"model endpoint {self.endpoint} answered HTTP 200 with no chat completion "
                    f"({self._redact(e.why)}) {_attempts()}; check that --base-url is the "
                    "OpenAI-compatible API (usually ending in /v1), not a web page or a proxy's",
                    status=200,
                )
        for e in chain:
            if isinstance(e, openai.APITimeoutError | TimedOutNoRetry | openai.APIConnectionError):
                return self._no_answer(chain)
            if isinstance(e, openai.APIStatusError):
                return self._status_error(e, mode)
            if isinstance(e, ie.IncompleteOutputException):
                return ModelOutputError(
                    f"model output was cut off at the token limit (max_tokens="
                    f"{self.settings.max_tokens}); raise --max-tokens or use a shorter article",
                    raw_output=_raw_output(getattr(e, "last_completion", None)),
                )
        raw = _raw_output(getattr(exc, "last_completion", None))
        attempts = getattr(exc, "n_attempts", "?")
        text = self._redact(str(exc))
        from summarizer.errors import ungrounded

        # By type, not by wording: the grounding check raises UngroundedQuotes.
        if (found := ungrounded(exc)) is not None:
            why = (
                "(--strict)"
                if self.settings.grounding == "fail"
                else "and the output cannot stand without them"
            )
            return GroundingError(
                f"quotes still not found in the article after {attempts} attempts {why}: "
                f"{_short(self._redact('; '.join(found.problems)), 200)}; "
                "re-run without --strict to drop them, or try a stronger model",
                raw_output=raw,
            )
        return ModelOutputError(
            f"model {model!r} gave no valid brief after {attempts} attempts: {_short(text, 200)}; "
            f"try {checks.other_modes(mode)} or a stronger model",
            raw_output=raw,
        )

    def _status_error(self, e: Any, mode: str) -> ProviderError:
        """An HTTP error answer, said as what happened: the request's fault (400/422), the
        endpoint's (5xx after retries), a mode the endpoint cannot do, or a replayed answer."""
        from summarizer.llm.transport import REPLAYED_HEADER

        status = int(e.status_code)
        text = e.response.text
        body = self._redact(text)
        replayed = e.response.headers.get(REPLAYED_HEADER)
        where = (
            f"in a recording replayed from {self.settings.replay_dir} (no endpoint was contacted)"
            if replayed
            else f"at {self.endpoint}"
        )
        log.debug("model endpoint (%s) answered HTTP %s: %s", where, status, body)
        said = failures.read_error(text)
        said_as = f"HTTP {status} ({said.code})" if said.code else f"HTTP {status}"
        message = failures.clean(said.message, [self._secret]).rstrip(".")
        model = self.settings.model
        if failures.refused_mode(status, text, None if mode == "auto" else mode):
            instead = (
                "--mode auto chose it from an earlier probe, which is now forgotten: run "
                "again to probe anew"
                if self.settings.mode == "auto"
                else f"use {checks.other_modes(mode)}, or --mode auto"
            )
            return ModeUnsupported(
                f"model endpoint cannot do --mode {mode}: it answered {said_as} {where}: "
                f"{message}; not retried: {instead}",
                mode=mode, status=status, body=body,
            )  # fmt: skip
        if status in (400, 413, 422):
            if "context" in f"{said.code} {said.message}".lower():
                fix = (
                    "use a shorter article, a lower --max-tokens, or a model with a longer context"
                )
            else:
                fix = (
                    "check the article and settings (a shorter article, --max-tokens, or "
                    f"{checks.other_modes(mode)})"
                )
            return RequestRejected(
                f"model endpoint answered {said_as} {where}: {message}; the request is at "
                f"fault, not the endpoint, so it was not retried: {fix}",
                status=status, body=body,
            )  # fmt: skip
        hint = {
            401: "check OPENAI_API_KEY",
            403: "check the key's permissions",
            404: f"check the model name {model!r} and the base URL",
        }.get(status)
        attempts = calls.trailing_failures() or 1
        tried = "" if replayed else f" after {attempts} attempt{'s' if attempts != 1 else ''}"
        if hint is None and status == 429:
            hint = "rate limited; lower --concurrency, set --rpm, or try later"
        if hint is None:
            hint = (
                "the recorded answer is an error; record it again against a working endpoint"
                if replayed
                else "the endpoint is at fault, not the request; try later"
            )
        return ProviderError(
            f"model endpoint answered {said_as}{tried} {where}: {message}; {hint}",
            status=status, body=body,
        )  # fmt: skip

    def _no_answer(self, chain: list[BaseException]) -> ProviderUnreachable:
        """A request that got no answer, said as what happened, with its attempts."""
        how = failures.connection_failure(chain)
        where, tried = self.endpoint, _attempts()
        if how == "timeout":
            local = is_local(self.settings.base_url)
            fix = (
                "a slow local model: lower --max-tokens (the answer's length is most of the "
                "time; a small CPU model needs far less than 4096) or raise --timeout; not "
                "retried, since the server keeps generating the abandoned answer"
                if local
                else "raise --timeout, lower --max-tokens, or try later"
            )
            message = (
                f"model endpoint {where} timed out after {self.settings.timeout:g}s {tried}; {fix}"
            )
        elif how == "dropped":
            message = (
                f"model endpoint {where} accepted the connection and dropped it before a whole "
                f"answer {tried}; the server may have crashed or run out of memory, or a proxy "
                "cut the connection: check the server's log"
            )
        elif how == "unresolved":
            message = (
                f"cannot reach the model endpoint {where}: its host name does not resolve "
                f"{tried}; check OPENAI_BASE_URL / --base-url"
            )
        elif how == "refused":
            message = (
                f"cannot reach the model endpoint {where}: connection refused {tried}; check "
                "OPENAI_BASE_URL / --base-url and that the server is running"
            )
        else:
            message = (
                f"cannot reach the model endpoint {where} {tried}; check OPENAI_BASE_URL / "
                "--base-url, the network and the server"
            )
        return ProviderUnreachable(message, how=how)


def _attempts() -> str:
    """ "(N attempts)" of the request that just failed, from the current call log."""
    n = calls.trailing_failures() or 1
    return f"({n} attempt{'s' if n != 1 else ''})"


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _raw_output(completion: Any) -> str | None:
    """The model's own words from a failed completion, for debugging."""
    try:
        message = completion.choices[0].message
        if message.tool_calls:
            return str(message.tool_calls[0].function.arguments)
        return str(message.content)
    except (AttributeError, IndexError, TypeError):
        return None if completion is None else _short(json.dumps(str(completion)), 2000)
