"""The recorded-response harness: an HTTP transport under the OpenAI SDK's client.

    live    forwards each request
    record  forwards it, and writes the exchange to the recordings directory
    replay  answers from the recordings; a miss is an error naming the key, the model and
            the first words of the prompt, and how to record it

Every mode logs each exchange (tokens, cached tokens, latency, replayed or not) to the
current CallLog, which is how a brief's provenance counts calls and tokens across reasks
and retries. Usage is read as the provider reports it: a completion without `usage` is
logged as unknown, never as 0 tokens.

In a batch run (`daily --batch`) a `Book` (batch/book.py) sees each chat request first: it
answers it from a collected batch, holds it for the next batch (raising `Deferred`), or
lets it go on as above. The Batch API's own requests (`/files`, `/batches`) are recorded
and replayed like chat requests, keyed by method, path and body (recordings.api_key), but
they are not model calls: no rate limit, no CallLog entry.

Two answers are marked for the layers above. A replayed answer carries
`x-summarizer-replayed`, so an error from a recording says it was replayed. An error that
names the structured-output mode's parameters (`response_format`, `tools`, `tool_choice`)
carries `x-should-retry: false`, which the OpenAI SDK obeys: the endpoint cannot do the
mode, and retrying a 500 about it only wastes time.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx2
import openai

from summarizer.errors import ModelOutputError, ReplayMissError, SummarizerError
from summarizer.llm import calls, failures, recordings, tokens
from summarizer.llm.limiter import RateLimiter
from summarizer.plumbing import redact, untrusted_json
from summarizer.signals import Signal

if TYPE_CHECKING:
    from summarizer.batch.book import Book

TransportMode = Literal["live", "record", "replay"]

# Headers that describe the bytes on the wire; the body handed on is already decoded.
_WIRE_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
REPLAYED_HEADER = "x-summarizer-replayed"
log = logging.getLogger("summarizer.llm")


class HeldByBook(openai.OpenAIError):
    """Carries the Book's decision (a signal, Deferred or BudgetReached, or BatchFailed: its
    __cause__) up through the SDK, which re-raises an OpenAIError as it is: anything else
    raised in a transport it retries, with back-off sleeps, as a connection error.
    instructor wraps it in InstructorRetryException; client.py finds the cause."""


class TimedOutNoRetry(openai.OpenAIError):
    """A timeout the SDK must not retry (its __cause__ is the timeout): a local server
    keeps generating the abandoned answer, so a retry only queues behind it."""


class NotACompletion(Exception):
    """A 200 answer to a chat request that is not a chat completion; a plain Exception, so
    the SDK retries it like a connection fault (a proxy's page may be passing)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class AnswerRefused(openai.OpenAIError):
    """Carries a ModelOutputError (its __cause__) up through the SDK for an answer too deep
    or too large to parse: the SDK would otherwise meet a RecursionError parsing it and
    report "cannot reach the endpoint"."""


def answer_json(content: bytes | str, where: str) -> Any:
    """A model endpoint's answer body parsed: None when it is not JSON (the SDK says so in
    its own words); an answer nested too deep or too large is an invalid model answer."""
    try:
        return untrusted_json.loads(content, what=f"the model endpoint's answer ({where})")
    except untrusted_json.JSONRefused as exc:
        if not exc.hostile:
            return None
        raise AnswerRefused(str(exc)) from ModelOutputError(
            f"{exc}: not a valid model answer; try another --mode or another model"
        )


@dataclass(frozen=True)
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    cached: int = 0
    known: bool = True


# The largest context windows offered are about 10M tokens, so no one call can use more:
# a count past this is an endpoint's bug or a lie, and would book absurd spend.
MAX_CALL_TOKENS = 10_000_000
_said: set[str] = set()  # each kind of impossible usage is logged once per process


def _count(value: Any) -> int | None:
    """A token count as reported: a whole number of tokens, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) else None


def read_usage(status: int, body: Any) -> Usage:
    """Tokens as the provider reported them. An error answer costs nothing; a completion
    without usage, or with usage that cannot be true (negative, past MAX_CALL_TOKENS,
    cached above prompt, not a number), has unknown tokens: trusting it would let an
    endpoint shrink a budget's count or book negative spend."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return Usage(known=status != 200)
    details = usage.get("prompt_tokens_details") or {}
    counts = [
        _count(usage.get("prompt_tokens") or 0),
        _count(usage.get("completion_tokens") or 0),
        _count(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0,
    ]
    tokens_in, tokens_out, cached = counts
    if tokens_in is None or tokens_out is None or cached is None:
        why = "a token count that is not a whole number"
    elif min(tokens_in, tokens_out, cached) < 0:
        why = "a negative token count"
    elif max(tokens_in, tokens_out) > MAX_CALL_TOKENS:
        why = f"more than {MAX_CALL_TOKENS:,} tokens for one call"
    elif cached > tokens_in:
        why = "more cached prompt tokens than prompt tokens"
    else:
        return Usage(tokens_in=tokens_in, tokens_out=tokens_out, cached=cached)
    if why not in _said:
        _said.add(why)
        log.warning(
            "model endpoint reported %s (usage %s): its usage is counted as unknown, and "
            "budgets count the request's own size instead",
            why, redact.text(json.dumps(usage)[:200], []),
        )  # fmt: skip
    return Usage(known=False)


def _without_secrets(content: bytes, request: httpx2.Request) -> bytes:
    """The body to record: byte for byte, unless it echoes a credential (a 401 that repeats
    the key, whole or cut off), which is masked: a recording never holds a secret."""
    auth = request.headers.get("authorization", "")
    secrets = [auth.partition(" ")[2] or None, request.headers.get("api-key")]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return content
    masked = redact.text(text, secrets)
    return content if masked == text else masked.encode("utf-8")


def call_record(
    key: str, model: str, status: int, usage: Usage, latency_ms: float, *, replayed: bool,
    fixture: bool, batched: bool = False, prepaid: bool = False, sizes: tuple[int, int] = (0, 0),
    embedding: bool = False,
) -> calls.CallRecord:  # fmt: skip
    """One exchange as the CallLog (and `history`) counts it. `sizes` are the request's
    and the answer's bytes: a budget's estimate of a call whose usage is unknown."""
    return calls.CallRecord(
        key=key, model=model, status=status, tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out, latency_ms=latency_ms, replayed=replayed,
        fixture=fixture, cached_tokens=usage.cached, usage_known=usage.known,
        batched=batched, prepaid=prepaid, embedding=embedding,
        estimated_in=tokens.estimate_bytes(sizes[0]), estimated_out=tokens.estimate_bytes(sizes[1]),
    )  # fmt: skip


def _is_embedding(request: httpx2.Request) -> bool:
    return request.url.path.endswith("/embeddings")


class HarnessTransport(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        mode: TransportMode,
        *,
        directory: Path | None = None,
        inner: httpx2.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        book: Book | None = None,
        retry_timeouts: bool = True,
    ) -> None:
        if mode != "live" and directory is None:
            raise ValueError(f"{mode} mode needs a recordings directory")
        self.mode = mode
        self.directory = directory
        self._inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self._limiter = limiter
        self._book = book
        self._retry_timeouts = retry_timeouts

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        raw = await request.aread()
        chat = request.url.path.endswith("/chat/completions")
        # Embeddings (continuity.py, `[daily.continuity] embeddings`) are model calls too:
        # keyed by their body, counted, priced, recorded and replayed like a completion.
        embeddings = request.url.path.endswith("/embeddings")
        if chat or embeddings:
            body = recordings.canonical_body(raw)
            key = recordings.request_key(body)
        else:
            body, key = recordings.api_key(
                request.method, request.url.path, list(request.url.params.multi_items()),
                request.headers.get("content-type", ""), raw,
            )  # fmt: skip
        model = str(body.get("model", "?") if isinstance(body, dict) else "?")
        book = self._book if chat else None
        if book is not None:
            try:
                answer = book.route(key, body)  # raises to hold the request for a batch
            except (Signal, SummarizerError) as exc:  # held, over budget, or BatchFailed
                raise HeldByBook(str(exc)) from exc
            if answer is not None:
                usage = read_usage(answer.status, answer_json(answer.body, "a batch's answer"))
                calls.record(call_record(
                    key, model, answer.status, usage, 0.0, replayed=answer.replayed,
                    fixture=answer.fixture, batched=answer.batched, prepaid=True,
                    sizes=(len(raw), len(answer.body or "")),
                ))  # fmt: skip
                return httpx2.Response(
                    answer.status,
                    headers={"content-type": "application/json"},
                    content=answer.body,
                    request=request,
                )
        if self.mode == "replay":
            response = self._replay(request, body, key, model, chat or embeddings)
        else:
            response = await self._forward(request, body, key, model, chat or embeddings)
        if book is not None:
            book.kept(key, response.status_code, await response.aread())
        return response

    def _replay(
        self, request: httpx2.Request, body: Any, key: str, model: str, chat: bool
    ) -> httpx2.Response:
        assert self.directory is not None
        rec = recordings.load(self.directory, key)
        if rec is None:
            what = (
                f"for model {model!r}, prompt {recordings.prompt_start(body)!r}..."
                if chat and "messages" in body
                else f"for model {model!r}, embeddings"
                if chat
                else f"for {request.method} {recordings.api_path(request.url.path)}"
            )
            raise ReplayMissError(
                f"no recording {key} in {self.directory} {what}; record it with --record "
                f"{self.directory} against a live endpoint (same model, prompt and settings)",
                key=key,
            )
        headers = {"content-type": rec.content_type, REPLAYED_HEADER: "1"}
        if rec.origin == "fixture":
            headers[recordings.FIXTURE_HEADER] = "replayed from a recording of fixture output"
        if chat:
            # A recording kept raw (not JSON when recorded) is read like a live answer.
            answer_json(rec.content, f"a recording in {self.directory}")
            calls.record(call_record(
                key, model, rec.status, read_usage(rec.status, rec.body), 0.0, replayed=True,
                fixture=rec.origin == "fixture", sizes=(len(request.content), len(rec.content)),
                embedding=_is_embedding(request),
            ))  # fmt: skip
        return httpx2.Response(rec.status, headers=headers, content=rec.content, request=request)

    async def _forward(
        self, request: httpx2.Request, body: Any, key: str, model: str, chat: bool
    ) -> httpx2.Response:
        if not chat:
            return await self._forward_api(request, body, key)
        if self._limiter is not None:
            # Every attempt counts against the provider's limits: retries and reasks too.
            await self._limiter.acquire(tokens.estimate(json.dumps(body)))
        started = time.perf_counter()
        try:
            upstream = await self._inner.handle_async_request(request)
            content = await upstream.aread()
            await upstream.aclose()
        except Exception as exc:
            latency = (time.perf_counter() - started) * 1000
            failed = call_record(
                key, model, 0, Usage(), latency, replayed=False, fixture=False,
                embedding=_is_embedding(request),
            )  # fmt: skip
            calls.record(failed)
            if isinstance(exc, httpx2.TimeoutException) and not self._retry_timeouts:
                raise TimedOutNoRetry(str(exc) or "timed out") from exc
            raise
        latency_ms = (time.perf_counter() - started) * 1000
        fixture_note = upstream.headers.get(recordings.FIXTURE_HEADER)
        content_type = upstream.headers.get("content-type", "application/json")
        parsed: Any = None
        if "json" in content_type:
            parsed = answer_json(content, redact.url(str(request.url)))
        status = upstream.status_code
        embedding = _is_embedding(request)
        unreadable = (
            failures.not_a_completion(parsed, content) if status == 200 and not embedding else None
        )
        # An answer that is not a completion is no answer (status 0), its cost unknown.
        usage = Usage(known=False) if unreadable else read_usage(status, parsed)
        if self._limiter is not None:
            out = usage.tokens_out if usage.known else tokens.estimate_bytes(len(content))
            await self._limiter.charge(out, sent=started)
        calls.record(call_record(
            key, model, 0 if unreadable else status, usage, latency_ms, replayed=False,
            fixture=fixture_note is not None, sizes=(len(request.content), len(content)),
            embedding=embedding,
        ))  # fmt: skip
        if unreadable:
            raise NotACompletion(unreadable)
        mode_refused = status >= 400 and failures.refused_mode(
            status, content.decode("utf-8", "replace"), failures.request_mode(body)
        )
        # Transient failures are not recorded: a replay should see the answer that succeeded.
        # A refused mode is not transient: its replay must say the same.
        if self.mode == "record" and ((status < 500 and status != 429) or mode_refused):
            self._save(request, key, body, status, content_type, content, fixture_note)
        headers = [
            (k, v) for k, v in upstream.headers.multi_items() if k.lower() not in _WIRE_HEADERS
        ]
        if mode_refused:
            headers.append(("x-should-retry", "false"))
        return httpx2.Response(
            upstream.status_code, headers=headers, content=content, request=request
        )

    async def _forward_api(self, request: httpx2.Request, body: Any, key: str) -> httpx2.Response:
        """A Batch API request (files, batches): forwarded, and recorded when it worked.
        Not recording, the answer streams through: a batch's output file can be hundreds
        of MB, which the caller writes to disk as it comes (batch/api.py)."""
        upstream = await self._inner.handle_async_request(request)
        if self.mode != "record":
            # The raw stream, with the headers that say how to decode it (gzip included).
            return httpx2.Response(
                upstream.status_code,
                headers=upstream.headers,
                stream=upstream.stream,
                request=request,
            )
        content = await upstream.aread()
        await upstream.aclose()
        fixture_note = upstream.headers.get(recordings.FIXTURE_HEADER)
        content_type = upstream.headers.get("content-type", "application/json")
        status = upstream.status_code
        if self.mode == "record" and status < 500 and status != 429:
            self._save(request, key, body, status, content_type, content, fixture_note)
        headers = [
            (k, v) for k, v in upstream.headers.multi_items() if k.lower() not in _WIRE_HEADERS
        ]
        return httpx2.Response(status, headers=headers, content=content, request=request)

    def _save(
        self, request: httpx2.Request, key: str, body: Any, status: int, content_type: str,
        content: bytes, fixture_note: str | None,
    ) -> None:  # fmt: skip
        assert self.directory is not None
        recordings.save(
            self.directory,
            key=key,
            method=request.method,
            path=request.url.path,
            query=list(request.url.params.multi_items()),
            request_body=body,
            status=status,
            content_type=content_type,
            response_body=_without_secrets(content, request),
            origin="fixture" if fixture_note else "live",
            origin_note=fixture_note or f"recorded from {request.url.host}",
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
