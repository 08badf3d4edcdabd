"""The one place that reads keys, base URL and timeouts, builds the client, and asks the model.

`LLM.extract()` sends messages with a Pydantic `response_model` through instructor over
the OpenAI SDK, whose HTTP client always runs on the harness transport. HTTP faults (429
with Retry-After, 5xx, timeouts) are retried by the SDK; invalid or ungrounded output is
retried by instructor as a reask. Whatever still fails is translated here, once, into the
project's own errors (errors.py): instructor 1.17 makes N+1 calls for max_retries=N and
wraps every final failure in InstructorRetryException, so the cause is dug out of it.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import gc
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from summarizer.attempts import HOOK as ATTEMPT_HOOK
from summarizer.attempts import started as attempt_started
from summarizer.config import Settings
from summarizer.errors import (
    ConfigError,
    GroundingError,
    ModelOutputError,
    ProviderError,
    ProviderUnreachable,
    SummarizerError,
)

if TYPE_CHECKING:
    import httpx2

T = TypeVar("T", bound=BaseModel)

NO_ENDPOINT = (
    "no LLM endpoint configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL "
    "(Ollama, vLLM, any OpenAI-compatible server), or pass --base-url; to try it offline, "
    "use --replay seeds/recordings"
)
# Placeholder for servers that take no key (Ollama, llama.cpp); the SDK insists on one.
_NO_KEY = "no-key-needed"
_REPLAY_BASE_URL = "http://replay.invalid/v1"


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
    ) -> None:
        self.settings = settings
        if settings.replay_dir is not None:
            if not settings.replay_dir.is_dir():
                raise ConfigError(
                    f"{settings.replay_dir}: recordings directory not found; check --replay"
                )
        elif not settings.has_endpoint:
            raise ConfigError(NO_ENDPOINT)
        self._inner_transport = inner_transport
        self._secret = settings.api_key.get_secret_value() if settings.api_key else None
        self._openai: Any = None
        self._client: Any = None
        self._limiter: Any = None
        # The one bound on calls in flight, however they are nested (articles, chunks, stories).
        self._slots = asyncio.Semaphore(settings.concurrency)
        if not lazy:
            self._connect()

    def _connect(self) -> Any:
        """The instructor client over the SDK over the harness transport, built once."""
        if self._client is not None:
            return self._client
        # Heavy imports live here, not at module import, so `summarizer --help` stays fast.
        import httpx2
        import instructor
        import openai

        from summarizer.llm.limiter import RateLimiter
        from summarizer.llm.transport import HarnessTransport

        _skip_final_collection()
        settings = self.settings
        if settings.replay_dir is not None:
            transport = HarnessTransport("replay", directory=settings.replay_dir)
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
            if settings.record_dir is not None:
                transport = HarnessTransport(
                    "record", directory=settings.record_dir, inner=inner, limiter=limiter
                )
            else:
                transport = HarnessTransport("live", inner=inner, limiter=limiter)
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
        modes = {
            "tools": instructor.Mode.TOOLS,
            "json_schema": instructor.Mode.JSON_SCHEMA,
            "md_json": instructor.Mode.MD_JSON,
        }
        self._client = instructor.from_openai(self._openai, mode=modes[settings.mode])
        # Counts attempts for the grounding policy (attempts.py holds the arithmetic).
        self._client.on(ATTEMPT_HOOK, attempt_started)
        return self._client

    async def extract(self, response_model: type[T], messages: list[dict[str, str]]) -> T:
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": self.settings.max_tokens,
        }
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        async with self._slots, self._translated():
            # No context= on purpose: it would render the article through Jinja (prompting.py).
            client = self._connect()
            result: T = await client.chat.completions.create(
                response_model=_prepared(response_model),
                messages=messages,
                max_retries=self.settings.max_reasks,
                **kwargs,
            )
        return result

    async def aclose(self) -> None:
        if self._openai is not None:
            await self._openai.close()
        if self._limiter is not None:
            await asyncio.to_thread(self._limiter.close)

    def _redact(self, text: str) -> str:
        if self._secret and len(self._secret) >= 4:
            text = text.replace(self._secret, "[REDACTED]")
        return text

    @asynccontextmanager
    async def _translated(self) -> AsyncIterator[None]:
        try:
            yield
        except SummarizerError:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: BaseException) -> SummarizerError:
        import instructor.core.exceptions as ie
        import openai

        chain = _causes(exc)
        for e in chain:
            if isinstance(e, SummarizerError):
                return e
        model = self.settings.model
        for e in chain:
            if isinstance(e, openai.APITimeoutError):
                return ProviderUnreachable(
                    f"model endpoint timed out after {self.settings.timeout:g}s "
                    f"({self.settings.http_retries} retries); raise --timeout or try later"
                )
            if isinstance(e, openai.APIConnectionError):
                return ProviderUnreachable(
                    f"cannot reach the model endpoint {self._openai.base_url}; check "
                    "OPENAI_BASE_URL / --base-url and that the server is running"
                )
            if isinstance(e, openai.APIStatusError):
                body = self._redact(_short(e.response.text))
                hint = {
                    401: "check OPENAI_API_KEY",
                    403: "check the key's permissions",
                    404: f"check the model name {model!r} and the base URL",
                    429: "rate limited after retries; lower --concurrency or try later",
                }.get(e.status_code, "the endpoint failed after retries; try later")
                return ProviderError(
                    f"model endpoint answered HTTP {e.status_code}: {body}; {hint}",
                    status=e.status_code,
                    body=body,
                )
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
            "try another --mode (json_schema, md_json) or a stronger model",
            raw_output=raw,
        )


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
