"""The one place that reads keys, base URL and timeouts, builds the client, and asks the model.

`LLM.extract()` sends messages with a Pydantic `response_model` through instructor over
the OpenAI SDK, whose HTTP client always runs on the harness transport. HTTP faults (429
with Retry-After, 5xx, timeouts) are retried by the SDK; invalid or ungrounded output is
retried by instructor as a reask. Whatever still fails is translated here, once, into the
project's own errors (errors.py): instructor 1.17 makes N+1 calls for max_retries=N and
wraps every final failure in InstructorRetryException, so the cause is dug out of it.

instructor runs over checks.guarded (its `create` function): refusals, truncation and the
wrong tool call are settled there, before instructor parses anything, and never reasked.
Messages that name the endpoint show its URL through redact.url; what a provider said is
shown shortened and redacted (failures.py), and its whole body, redacted, goes to the log.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from summarizer import attempts as attempt_count
from summarizer import redact
from summarizer.attempts import HOOK as ATTEMPT_HOOK
from summarizer.attempts import started as attempt_started
from summarizer.config import Settings
from summarizer.errors import (
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
from summarizer.llm import calls, checks, failures
from summarizer.signals import Signal

if TYPE_CHECKING:
    import httpx2

    from summarizer.batch.book import Book

T = TypeVar("T", bound=BaseModel)

NO_ENDPOINT = (
    "no LLM endpoint configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL "
    "(Ollama, vLLM, any OpenAI-compatible server), or pass --base-url; to try it offline, "
    "use --replay seeds/recordings"
)
# Placeholder for servers that take no key (Ollama, llama.cpp); the SDK insists on one.
_NO_KEY = "no-key-needed"
_REPLAY_BASE_URL = "http://replay.invalid/v1"
_OPENAI_BASE_URL = "https://api.openai.com/v1"
log = logging.getLogger("summarizer.llm")


class LLM:
    """The model behind one run or one service. `lazy=True` defers loading openai and
    instructor (~0.7 s) and building the client to the first call, so a run that finds
    everything in its cache never pays for them; configuration errors are raised at once
    either way."""

    def __init__(
        self,
        settings: Settings,
        *,
        inner_transport: httpx2.AsyncBaseTransport | None = None,
        lazy: bool = False,
        book: Book | None = None,
    ) -> None:
        self.settings = settings
        self._book = book
        if settings.replay_dir is not None:
            if not settings.replay_dir.is_dir():
                raise ConfigError(
                    f"{settings.replay_dir}: recordings directory not found; check --replay"
                )
        elif not settings.has_endpoint:
            raise ConfigError(NO_ENDPOINT)
        if settings.record_dir is not None:
            # Made now, so a run whose every call fails still leaves the directory, and its
            # replay says "no recording" (exit 5), not "directory not found".
            try:
                settings.record_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"{settings.record_dir}: cannot create the recordings directory "
                    f"({exc.strerror}); check --record"
                ) from None
        self._inner_transport = inner_transport
        self._secret = settings.api_key.get_secret_value() if settings.api_key else None
        self._openai: Any = None
        self._clients: dict[tuple[str, bool], Any] = {}
        self._limiter: Any = None
        # --mode auto: resolved once per LLM (from the store or a probe), under a lock.
        self._resolved: tuple[str, bool] | None = None
        self._resolving = asyncio.Lock()
        # The one bound on calls in flight, however they are nested (articles, chunks, stories).
        self._slots = asyncio.Semaphore(settings.concurrency)
        if not lazy:
            self._connect()

    def _connect(self) -> Any:
        """The SDK client over the harness transport, built once."""
        if self._openai is not None:
            return self._openai
        # Heavy imports live here, not at module import, so `summarizer --help` stays fast,
        # and of the SDKs only what a call uses (llm/lean.py).
        from summarizer.llm.lean import defer_unused_sdk_modules

        defer_unused_sdk_modules()
        import httpx2
        import openai

        from summarizer.llm.limiter import RateLimiter
        from summarizer.llm.transport import HarnessTransport

        _skip_final_collection()
        settings = self.settings
        if settings.replay_dir is not None:
            transport = HarnessTransport("replay", directory=settings.replay_dir, book=self._book)
            base_url: str | None = settings.base_url or _REPLAY_BASE_URL
            # Replay is deterministic: a retry would get the same answer.
            http_retries = 0
        else:
            # No limits configured, no limiter: the transport then skips the per-call estimate.
            limits = RateLimiter(
                settings.rpm, settings.tpm, window=settings.rate_window, log=_shared_log(settings)
            )
            limiter = limits if limits.active else None
            self._limiter = limiter
            # One pool for the whole run: connections are reused across articles, and it is
            # sized to the concurrency so no call waits for a connection.
            pool = httpx2.Limits(max_connections=max(settings.concurrency, 10))
            inner = self._inner_transport or httpx2.AsyncHTTPTransport(limits=pool)
            # A local server (one slot, often) keeps generating an abandoned answer: a
            # retry after a timeout would queue behind it and time out too.
            retry_timeouts = not is_local(settings.base_url)
            if settings.record_dir is not None:
                transport = HarnessTransport(
                    "record", directory=settings.record_dir, inner=inner, limiter=limiter,
                    book=self._book, retry_timeouts=retry_timeouts,
                )  # fmt: skip
            else:
                transport = HarnessTransport(
                    "live", inner=inner, limiter=limiter, book=self._book,
                    retry_timeouts=retry_timeouts,
                )  # fmt: skip
            base_url = settings.base_url
            http_retries = settings.http_retries
        http = httpx2.AsyncClient(transport=transport, timeout=settings.timeout)
        self._openai = openai.AsyncOpenAI(
            api_key=self._secret or _NO_KEY,
            base_url=base_url,
            http_client=http,
            max_retries=http_retries,
            timeout=settings.timeout,
        )
        return self._openai

    def _instructor(self, mode: str, merge: bool) -> Any:
        """instructor in `mode` over the SDK, with checks.guarded as its create function:
        the same wiring as instructor.from_openai, with our checks in the seam."""
        key = (mode, merge)
        if key not in self._clients:
            import instructor

            sdk = self._connect()
            imode = {
                "tools": instructor.Mode.TOOLS,
                "json_schema": instructor.Mode.JSON_SCHEMA,
                "md_json": instructor.Mode.MD_JSON,
            }[mode]
            create = checks.guarded(sdk.chat.completions.create, mode=mode, merge=merge)
            client: Any = instructor.AsyncInstructor(
                client=sdk, create=instructor.patch(create=create, mode=imode), mode=imode
            )
            # Counts attempts for the grounding policy (attempts.py holds the arithmetic).
            client.on(ATTEMPT_HOOK, attempt_started)
            self._clients[key] = client
        return self._clients[key]

    @property
    def sdk(self) -> Any:
        """The OpenAI SDK client over the harness transport (the Batch API uses it)."""
        return self._connect()

    @property
    def endpoint(self) -> str:
        """The endpoint's URL as it may be printed and stored: without credentials."""
        if self.settings.replay_dir is not None and not self.settings.base_url:
            return f"recordings in {self.settings.replay_dir}"
        return redact.url(self.settings.base_url or _OPENAI_BASE_URL)

    async def resolved_mode(self) -> tuple[str, bool]:
        """(mode, merge the system prompt) to use: as set, or for --mode auto as probed
        (once per endpoint and model, remembered in the store)."""
        merge = self.settings.system_prompt == "merge"
        if self.settings.mode != "auto":
            return self.settings.mode, merge
        async with self._resolving:
            if self._resolved is None:
                from summarizer.llm import probe

                found = probe.remembered(self, self.endpoint)
                if found is None:
                    # The probe's attempts are not the brief's: count them apart.
                    with attempt_count.counting(0):
                        found = await probe.probe(self)
                    probe.remember(self, self.endpoint, found)
                    log.info(
                        "--mode auto: %s for %s at %s%s", found.mode, self.settings.model,
                        self.endpoint, " (system prompt merged)" if found.merge else "",
                    )  # fmt: skip
                self._resolved = (found.mode, found.merge)
        return self._resolved[0], self._resolved[1] or merge

    async def extract(self, response_model: type[T], messages: list[dict[str, str]]) -> T:
        async with self._translated(self.settings.mode):
            mode, merge = await self.resolved_mode()
        calls.note_mode(mode)
        try:
            return await self.ask(
                response_model, messages, mode=mode, merge=merge, reasks=self.settings.max_reasks
            )
        except ModeUnsupported:
            if self.settings.mode == "auto":
                # The endpoint changed since it was probed: forget the answer, so the next
                # run probes again rather than failing the same way.
                from summarizer.llm import probe

                probe.forget(self, self.endpoint)
                self._resolved = None  # later articles of this run probe again
            raise

    async def ask(
        self,
        response_model: type[T],
        messages: list[dict[str, str]],
        *,
        mode: str,
        merge: bool,
        reasks: int,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> T:
        """One structured answer. `max_tokens` and `timeout` override the settings for
        this request only (the --mode auto probe asks short questions)."""
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": max_tokens or self.settings.max_tokens,
        }
        if timeout is not None:
            kwargs["timeout"] = timeout
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        async with self._slots, self._translated(mode):
            # No context= on purpose: it would render the article through Jinja (prompting.py).
            client = self._instructor(mode, merge)
            result: T = await client.chat.completions.create(
                response_model=_prepared(response_model),
                messages=messages,
                max_retries=reasks,
                **kwargs,
            )
        return result

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        """The endpoint's embeddings of `texts`, in order (`/v1/embeddings`, through the same
        transport as every call: recorded, replayed, counted and priced)."""
        async with self._slots, self._translated(self.settings.mode):
            answer = await self._connect().embeddings.create(
                model=model, input=texts, encoding_format="float"
            )
        return [list(d.embedding) for d in sorted(answer.data, key=lambda d: d.index)]

    async def aclose(self) -> None:
        if self._openai is not None:
            await self._openai.close()
        if self._limiter is not None:
            await asyncio.to_thread(self._limiter.close)

    def translated(self) -> AbstractAsyncContextManager[None]:
        """Failures of a call made with `sdk` directly (the Batch API's), said as ours."""
        return self._translated("auto" if self.settings.mode == "auto" else self.settings.mode)

    def _redact(self, text: str) -> str:
        return redact.text(text, [self._secret])

    @asynccontextmanager
    async def _translated(self, mode: str) -> AsyncIterator[None]:
        try:
            yield
        except (SummarizerError, Signal):
            raise
        except Exception as exc:
            raise self._translate(exc, mode) from exc

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

    def _translate(self, exc: BaseException, mode: str) -> SummarizerError | Signal:
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
        from summarizer.grounding import ungrounded

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


def _attempts() -> str:
    """ "(N attempts)" of the request that just failed, from the current call log."""
    n = calls.trailing_failures() or 1
    return f"({n} attempt{'s' if n != 1 else ''})"


def is_local(base_url: str | None) -> bool:
    """True for an endpoint on this machine or the local network (llama.cpp, Ollama,
    vLLM next door): loopback, private and link-local addresses, `localhost`, and host
    names without a dot (a container's service name)."""
    import ipaddress
    from urllib.parse import urlsplit

    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if not host:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or host.endswith(".localhost") or "." not in host
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _shared_log(settings: Settings) -> Any:
    """On a PostgreSQL store, the rate-limit window is shared by every process using it."""
    from summarizer.store import is_database_url

    if not (settings.rpm or settings.tpm) or not is_database_url(settings.database_url):
        return None
    from summarizer.llm.shared_window import StoreWindow, scope_for

    key = settings.api_key.get_secret_value() if settings.api_key else None
    return StoreWindow(str(settings.database_url), scope_for(settings.base_url, key))


@functools.cache
def _skip_final_collection() -> None:
    """At exit, skip the garbage collector's last pass over what openai and instructor
    imported (tens of thousands of pydantic classes and their schemas): ~0.3 s of every
    command that made a call, spent after its work is done. gc.freeze() moves every object
    alive at that point to the permanent generation, which the final collection does not
    walk; memory goes back to the system with the process either way."""
    atexit.register(gc.freeze)


@functools.cache
def _prepared(response_model: type[T]) -> type[T]:
    """The response model as instructor wraps it, wrapped once.

    instructor wraps a plain model in a new ResponseSchema subclass on every call, which
    misses its own schema cache (keyed by class): a fresh class and a fresh JSON schema per
    call, ~2 ms of CPU. A model that is already a ResponseSchema is used as it is, so
    wrapping it here once gives the same class, the same schema and the same request body
    on every call.
    """
    import instructor

    return instructor.openai_schema(response_model)


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
