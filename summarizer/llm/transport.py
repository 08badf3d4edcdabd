"""The recorded-response harness: an HTTP transport under the OpenAI SDK's client.

    live    forwards each request
    record  forwards it, and writes the exchange to the recordings directory
    replay  answers from the recordings; a miss is an error naming the key, the model and
            the first words of the prompt, and how to record it

Every mode logs each exchange (tokens, latency, replayed or not) to the current CallLog,
which is how a brief's provenance counts calls and tokens across reasks and retries.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

import httpx2

from summarizer import tokens
from summarizer.errors import ReplayMissError
from summarizer.llm import calls, recordings
from summarizer.llm.limiter import RateLimiter

TransportMode = Literal["live", "record", "replay"]

# Headers that describe the bytes on the wire; the body handed on is already decoded.
_WIRE_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


def _usage(body: Any) -> tuple[int, int]:
    try:
        usage = body.get("usage") or {}
        return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    except (AttributeError, TypeError, ValueError):
        return 0, 0


class HarnessTransport(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        mode: TransportMode,
        *,
        directory: Path | None = None,
        inner: httpx2.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        if mode != "live" and directory is None:
            raise ValueError(f"{mode} mode needs a recordings directory")
        self.mode = mode
        self.directory = directory
        self._inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self._limiter = limiter

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = recordings.canonical_body(await request.aread())
        key = recordings.request_key(body)
        model = body.get("model", "?") if isinstance(body, dict) else "?"
        if self.mode == "replay":
            return self._replay(request, body, key, str(model))
        return await self._forward(request, body, key, str(model))

    def _replay(self, request: httpx2.Request, body: Any, key: str, model: str) -> httpx2.Response:
        assert self.directory is not None
        rec = recordings.load(self.directory, key)
        if rec is None:
            raise ReplayMissError(
                f"no recording {key} in {self.directory} for model {model!r}, prompt "
                f"{recordings.prompt_start(body)!r}...; record it with --record "
                f"{self.directory} against a live endpoint (same model, prompt and settings)",
                key=key,
            )
        tin, tout = _usage(rec.body)
        calls.record(
            calls.CallRecord(
                key=key, model=model, status=rec.status, tokens_in=tin, tokens_out=tout,
                latency_ms=0.0, replayed=True, fixture=rec.origin == "fixture",
            )
        )  # fmt: skip
        return httpx2.Response(
            rec.status,
            headers={"content-type": rec.content_type},
            content=rec.content,
            request=request,
        )

    async def _forward(
        self, request: httpx2.Request, body: Any, key: str, model: str
    ) -> httpx2.Response:
        if self._limiter is not None:
            # Every attempt counts against the provider's limits: retries and reasks too.
            await self._limiter.acquire(tokens.estimate(json.dumps(body)))
        started = time.perf_counter()
        try:
            upstream = await self._inner.handle_async_request(request)
            content = await upstream.aread()
            await upstream.aclose()
        except Exception:
            calls.record(
                calls.CallRecord(
                    key=key, model=model, status=0, tokens_in=0, tokens_out=0,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    replayed=False, fixture=False,
                )
            )  # fmt: skip
            raise
        latency_ms = (time.perf_counter() - started) * 1000
        fixture_note = upstream.headers.get(recordings.FIXTURE_HEADER)
        content_type = upstream.headers.get("content-type", "application/json")
        parsed: Any = None
        if "json" in content_type:
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = None
        tin, tout = _usage(parsed)
        if self._limiter is not None:
            await self._limiter.charge(tout, sent=started)
        calls.record(
            calls.CallRecord(
                key=key, model=model, status=upstream.status_code, tokens_in=tin,
                tokens_out=tout, latency_ms=latency_ms, replayed=False,
                fixture=fixture_note is not None,
            )
        )  # fmt: skip
        # Transient failures are not recorded: a replay should see the answer that succeeded.
        if self.mode == "record" and upstream.status_code < 500 and upstream.status_code != 429:
            assert self.directory is not None
            recordings.save(
                self.directory,
                key=key,
                method=request.method,
                path=request.url.path,
                query=list(request.url.params.multi_items()),
                request_body=body,
                status=upstream.status_code,
                content_type=content_type,
                response_body=content,
                origin="fixture" if fixture_note else "live",
                origin_note=fixture_note or f"recorded from {request.url.host}",
            )
        headers = [
            (k, v) for k, v in upstream.headers.multi_items() if k.lower() not in _WIRE_HEADERS
        ]
        return httpx2.Response(
            upstream.status_code, headers=headers, content=content, request=request
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
