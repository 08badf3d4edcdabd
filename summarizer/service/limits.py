"""What a request may be: its size, its rate, its documents. Every refusal is an ApiError
with a 4xx status and a one-line message that names the limit and how to stay under it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# ApiError is defined with every other error (errors.py) and re-exported here.
from summarizer.errors import ApiError as ApiError
from summarizer.errors import InputError
from summarizer.ingest import Document, document_from_bytes


def error_body(type_: str, message: str) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message}}


class BodySizeLimit:
    """Refuse a request body over `max_bytes` with 413, before any handler parses it.

    The body is read here, up to the limit, and handed on whole: a handler never sees a
    truncated body, and a chunked upload without Content-Length is bounded too.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # from here on only http.disconnect can come

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        payload = json.dumps(
            error_body(
                "PayloadTooLarge",
                f"request body is over the {self.max_bytes:,}-byte limit; send fewer or "
                "shorter documents, or several requests",
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class RateLimiter:
    """A token bucket per API key: `per_minute` requests, refilled evenly over a minute.

    In memory, per process: behind several workers each counts on its own.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        """Take one token for `key_id`, or raise ApiError 429 with Retry-After."""
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                wait = max(1, int((1.0 - tokens) / rate + 0.999))
                raise ApiError(
                    429,
                    "RateLimited",
                    f"over {self.per_minute} requests per minute for this API key; "
                    f"retry in {wait}s",
                    headers={"Retry-After": str(wait)},
                )
            self._buckets[key_id] = (tokens - 1.0, now)


def check_counts(n_documents: int, n_urls: int, *, max_documents: int) -> None:
    total = n_documents + n_urls
    if total == 0:
        raise ApiError(422, "InvalidRequest", "nothing to brief; give at least one document or URL")
    if total > max_documents:
        raise ApiError(
            422,
            "TooManyDocuments",
            f"{total} documents and URLs is over the limit of {max_documents} per request; "
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
