"""The model behind a run: `LLM` asks it for structured answers, one bound on calls in
flight, the --mode auto probe resolved once, and every failure said as the project's own.

`LLM.extract()` sends messages with a Pydantic `response_model` through instructor over
the OpenAI SDK, whose HTTP client always runs on the harness transport. HTTP faults (429
with Retry-After, 5xx, timeouts) are retried by the SDK; invalid or ungrounded output is
retried by instructor as a reask. Whatever still fails is translated once (translate.py).
Reading keys, base URL and timeouts and building the client is connect.py's;
`is_local` is importable from here too, as it always was.

instructor runs over checks.guarded (its `create` function): refusals, truncation and the
wrong tool call are settled there, before instructor parses anything, and never reasked.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from summarizer.config import Settings
from summarizer.errors import ModeUnsupported, SummarizerError
from summarizer.llm import attempts as attempt_count
from summarizer.llm import calls, checks, connect
from summarizer.llm.attempts import HOOK as ATTEMPT_HOOK
from summarizer.llm.attempts import started as attempt_started
from summarizer.llm.connect import OPENAI_BASE_URL, is_local
from summarizer.llm.translate import Translator
from summarizer.plumbing import redact
from summarizer.signals import Signal

__all__ = ["LLM", "is_local"]

if TYPE_CHECKING:
    import httpx2

    from summarizer.batch.book import Book

T = TypeVar("T", bound=BaseModel)

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
        connect.check(settings)
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
        self._openai, self._limiter = connect.build(
            self.settings, inner_transport=self._inner_transport, book=self._book,
            secret=self._secret,
        )  # fmt: skip
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
        return redact.url(self.settings.base_url or OPENAI_BASE_URL)

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

    @asynccontextmanager
    async def _translated(self, mode: str) -> AsyncIterator[None]:
        try:
            yield
        except (SummarizerError, Signal):
            raise
        except Exception as exc:
            raise self._translate(exc, mode) from exc

    def _translate(self, exc: BaseException, mode: str) -> SummarizerError | Signal:
        return Translator(self.settings, self.endpoint, self._secret).translate(exc, mode)


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
