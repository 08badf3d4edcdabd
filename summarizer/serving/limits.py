"""What a request may be: its size, its rate, its documents. Every refusal is an ApiError
with a 4xx status and a one-line message that names the limit and how to stay under it.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from summarizer.errors import ApiError as ApiError
from summarizer.errors import InputError

# ApiError is defined with every other error (errors.py) and re-exported here.
from summarizer.plumbing import untrusted_json
from summarizer.sources.ingest import Document, document_from_bytes

if TYPE_CHECKING:
    from summarizer.serving.jobs import BriefRequest

_T = TypeVar("_T")


def error_body(type_: str, message: str) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message}}


async def send_error_start(
    send: Send, status: int, type_: str, message: str, *, close: bool = False
) -> bytes:
    """Start an error answer from ASGI middleware (before any app answered): the status
    and headers for `error_body(type_, message)`, whose bytes are returned to send."""
    payload = json.dumps(error_body(type_, message)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    return payload


# A refused body is still read and thrown away, up to these bounds, before the connection
# closes: a client that sends its whole body before reading (urllib, requests) would
# otherwise meet a closed socket ("connection reset") instead of the 413. nginx calls this
# a lingering close. Past the bounds the connection is simply closed.
LINGER_BYTES = 32 * 1024 * 1024
LINGER_SECONDS = 10.0


class BodySizeLimit:
    """Refuse a request body over `max_bytes` with 413, before any handler parses it.

    The body is read here, up to the limit, and handed on whole: a handler never sees a
    truncated body, and a chunked upload without Content-Length is counted as it streams.
    An oversize body is never held: what comes past the limit is discarded as it arrives.
    `paths` limits it to those path prefixes (None: every path).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, paths: tuple[str, ...] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            self.paths is not None and not scope["path"].startswith(self.paths)
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            # A client waiting for "100 Continue" has sent no body: there is none to drain.
            waiting = headers.get(b"expect", b"").lower() == b"100-continue"
            size = int(declared) if declared.isdigit() else LINGER_BYTES + 1
            await self._refuse(send, receive, drain=not waiting and size <= LINGER_BYTES)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                del body[:]  # never hold more than the limit
                await self._refuse(send, receive, drain=more)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # from here on only http.disconnect can come

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, receive: Receive, *, drain: bool) -> None:
        payload = await send_error_start(
            send, 413, "PayloadTooLarge",
            f"request body is over the {self.max_bytes:,}-byte limit; send fewer or "
            "shorter documents, or several requests",
            close=True,
        )  # fmt: skip
        # The answer goes out first (a client that reads while it sends sees it at once);
        # the response stays open while the rest of the body is read and dropped.
        await send({"type": "http.response.body", "body": payload, "more_body": True})
        if drain:
            await _discard(receive)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _discard(receive: Receive) -> None:
    """Read and drop the rest of a request body, within LINGER_BYTES and LINGER_SECONDS."""
    read = 0
    with anyio.move_on_after(LINGER_SECONDS):
        while read <= LINGER_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            read += len(message.get("body", b""))
            if not message.get("more_body", False):
                return


class RateLimiter:
    """A token bucket per key: `per_minute` tokens, refilled evenly over a minute.

    In memory, per process: right for one process on SQLite. On a PostgreSQL store, where
    several API processes and replicas serve one set of keys, `SharedRateLimiter`
    (service/shared_limits.py) keeps the same buckets in the database. Used for requests
    per API key, and for failed authentications per client address.
    """

    # Whether a decision goes to the database (`off_loop` then runs it in the store's pool).
    shared = False

    # Buckets kept at most; past it the full ones (idle callers) are forgotten, so a
    # caller cycling through addresses cannot grow the table without end.
    MAX_BUCKETS = 10_000

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.per_minute), now))
        return min(float(self.per_minute), tokens + (now - at) * self.per_minute / 60.0)

    def _wait(self, tokens: float) -> int:
        return max(1, int((1.0 - tokens) / (self.per_minute / 60.0) + 0.999))

    async def off_loop(self, method: Callable[[str], _T], key: str) -> _T:
        """One of this limiter's decisions (`check`, `blocked`, `spend`), awaited: in
        memory it is made at once, on the loop."""
        return method(key)

    def check(self, key_id: str) -> None:
        """Take one token for `key_id`, or raise ApiError 429 with Retry-After."""
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens = self._tokens(key_id, now)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                raise self.refusal(tokens)
            self._buckets[key_id] = (tokens - 1.0, now)

    def refusal(self, tokens: float) -> ApiError:
        """The 429 for a key whose bucket holds `tokens` (under one)."""
        wait = self._wait(tokens)
        return ApiError(
            429,
            "RateLimited",
            f"over {self.per_minute} requests per minute for this API key; retry in {wait}s",
            headers={"Retry-After": str(wait)},
        )

    def blocked(self, key: str) -> int:
        """Seconds until `key` has a token again; 0 when it has one now (none is taken)."""
        if self.per_minute <= 0:
            return 0
        with self._lock:
            tokens = self._tokens(key, time.monotonic())
        return 0 if tokens >= 1.0 else self._wait(tokens)

    def spend(self, key: str) -> None:
        """Take a token from `key` if it has one (a failure to count, not a request)."""
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) >= self.MAX_BUCKETS:
                full = [k for k in self._buckets if self._tokens(k, now) >= self.per_minute]
                for k in full:
                    del self._buckets[k]
            self._buckets[key] = (max(0.0, self._tokens(key, now) - 1.0), now)


def check_counts(
    n_documents: int, n_urls: int, *, max_documents: int, empty_ok: bool = False
) -> None:
    total = n_documents + n_urls
    if total == 0 and not empty_ok:
        raise ApiError(422, "InvalidRequest", "nothing to brief; give at least one document or URL")
    if total > max_documents:
        raise ApiError(
            422,
            "TooManyDocuments",
            f"{total:,} documents and URLs is over the limit of {max_documents} per request; "
            "split them over several requests",
        )


def to_document(
    text: str,
    *,
    index: int,
    title: str | None,
    url: str | None,
    max_chars: int,
    max_bytes: int,
) -> Document:
    """One request document, held to the same checks as a file (ingest.py) plus length."""
    name = f"documents[{index}]"
    if len(text) > max_chars:
        raise ApiError(
            422,
            "DocumentTooLong",
            f"{name}.text: {len(text):,} characters is over the {max_chars:,}-character "
            "limit; split the article",
        )
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON can carry lone surrogates (\ud800) that no UTF-8 text contains.
        raise ApiError(
            422, "InvalidInput", f"{name}.text: is not valid Unicode text; send UTF-8 text"
        ) from None
    try:
        return document_from_bytes(data, name, max_bytes=max_bytes, title=title, url=url)
    except InputError as exc:
        raise ApiError(422, "InputError", str(exc)) from None


def check_urls(urls: Sequence[str]) -> None:
    """Only the form is checked here; fetching (and any failure of it) happens in the job."""
    for i, url in enumerate(urls):
        if not url.startswith(("http://", "https://")) or len(url) > 2048 or " " in url:
            raise ApiError(
                422,
                "InvalidURL",
                f"urls[{i}]: not an http(s) URL; give a full address like "
                "https://example.com/article",
            )


class SyncQueue:
    """Bounds the synchronous briefs in a process: `running` at once (the model slots)
    plus `waiting` queued behind them. One more is refused at once with 503 and a
    Retry-After estimated from how long recent briefs took, instead of waiting unbounded."""

    def __init__(self, running: int, waiting: int) -> None:
        self.running = running
        self.capacity = running + waiting
        self.in_flight = 0
        self._seconds = 5.0  # a moving average of recent briefs' duration

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.in_flight >= self.capacity:
            wait = max(1, math.ceil(self._seconds * self.capacity / self.running))
            raise ApiError(
                503,
                "Busy",
                f"{self.in_flight} briefs are being made or waiting, the most this server "
                f"takes at once; retry in {wait}s, or send the documents as a job",
                headers={"Retry-After": str(wait)},
            )
        self.in_flight += 1
        start = time.monotonic()
        try:
            yield
        finally:
            self.in_flight -= 1
            self._seconds = 0.8 * self._seconds + 0.2 * (time.monotonic() - start)


def parse_brief_request(
    raw: bytes, *, max_documents: int, max_chars: int, max_bytes: int
) -> tuple[BriefRequest, list[Document]]:
    """A request body to its request and documents, cheapest checks first: the JSON, then
    the number of documents (before any per-document work: 190,000 tiny documents must
    cost no more than 2), then the schema, the URLs' form and each document. CPU-bound:
    the API runs it in a worker thread, off the event loop."""
    from summarizer.serving.jobs import BriefRequest

    try:
        data = untrusted_json.loads(raw, what="request body")
    except untrusted_json.JSONRefused as exc:
        fix = "send it less deeply nested" if exc.why == "depth" else "check its syntax"
        raise ApiError(400, "MalformedJSON", f"{exc}; {fix}") from None
    if isinstance(data, dict):
        docs, urls = data.get("documents"), data.get("urls")
        check_counts(
            len(docs) if isinstance(docs, list) else 0,
            len(urls) if isinstance(urls, list) else 0,
            max_documents=max_documents,
            empty_ok=True,  # the schema check below names what is wrong with it
        )
    try:
        request = BriefRequest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err.get("loc", ())) or "request"
        raise ApiError(422, "InvalidRequest", f"{where}: {err.get('msg', 'invalid')}") from None
    check_counts(len(request.documents), len(request.urls), max_documents=max_documents)
    check_urls(request.urls)
    documents = [
        to_document(d.text, index=i, title=d.title, url=d.url, max_chars=max_chars,
                    max_bytes=max_bytes)
        for i, d in enumerate(request.documents)
    ]  # fmt: skip
    return request, documents
