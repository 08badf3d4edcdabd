"""Prometheus metrics for one app: requests, latencies, LLM tokens and cost, errors.

Each app owns a CollectorRegistry, so two apps in one process (tests, or the API and the
bot side by side) never share or double-register counters. Routes are labelled by their
template (/v1/jobs/{job_id}), never by the concrete path, to keep label sets small.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from pydantic import BaseModel

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self, prefix: str = "summarizer") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            f"{prefix}_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            f"{prefix}_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        self.briefs = Counter(
            f"{prefix}_briefs", "Briefs made, by front door.", ["origin"], registry=r
        )
        self.tokens = Counter(
            f"{prefix}_llm_tokens",
            "LLM tokens spent, reasks included, by direction (in = prompt, out = completion).",
            ["direction"],
            registry=r,
        )
        self.calls = Counter(f"{prefix}_llm_calls", "HTTP calls to the LLM endpoint.", registry=r)
        self.cost = Counter(
            f"{prefix}_llm_cost_usd", "Estimated LLM cost in USD (known prices only).", registry=r
        )
        self.errors = Counter(
            f"{prefix}_errors",
            "Failures answered to a caller, by error type.",
            ["type"],
            registry=r,
        )
        self.disconnects = Counter(
            f"{prefix}_client_disconnects",
            "Requests whose client went away before the answer was sent, by route template "
            "(counted here, not as errors or 500s).",
            ["method", "route"],
            registry=r,
        )
        self.jobs_running = Gauge(
            f"{prefix}_jobs_in_progress", "Background jobs queued or running.", registry=r
        )

    def observe_brief(self, brief: BaseModel, origin: str) -> None:
        from summarizer.core.pipeline import provenance_of

        p = provenance_of(brief)  # any kind's output carries its provenance
        self.briefs.labels(origin).inc()
        # Unknown usage adds nothing here; summarizer_... counts stay what endpoints reported.
        self.tokens.labels("in").inc(p.tokens_in or 0)
        self.tokens.labels("out").inc(p.tokens_out or 0)
        self.calls.inc(p.llm_calls)
        if p.cost_usd:
            self.cost.inc(p.cost_usd)

    def observe_error(self, type_: str) -> None:
        self.errors.labels(type_).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request, including those refused before routing."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        answered = False
        gone = False

        async def receive_and_note() -> Message:
            nonlocal gone
            message = await receive()
            if message["type"] == "http.disconnect" and not answered:
                gone = True
            return message

        async def send_and_note(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
            await send(message)

        try:
            await self.app(scope, receive_and_note, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "?")
            if gone:
                # The client left before its answer: not a server error, and no status.
                self.metrics.disconnects.labels(method, template).inc()
            else:
                self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
