"""The work behind the front doors: brief a document, fetch a URL, run a job.

The HTTP API and the Slack bot both go through `Briefer`, which calls the same library
function as the CLI (`pipeline.brief_document`) with one LLM built once and reused, and
keeps every brief in the store the CLI uses. Background jobs run in-process as asyncio
tasks; their state lives in the store, so a restart loses no finished brief, and
`fail_unfinished_jobs` at start-up marks what a dead process left behind.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Coroutine, Sequence
from typing import Any, Literal

import httpx2
from pydantic import BaseModel, ConfigDict, Field

from summarizer.config import Settings
from summarizer.errors import InputError, SummarizerError
from summarizer.ingest import Document
from summarizer.llm.client import LLM
from summarizer.pipeline import brief_document, provenance_of
from summarizer.render.generic import title_of
from summarizer.service.metrics import Metrics
from summarizer.store import Store

log = logging.getLogger("summarizer.service")

RESTARTED = "server restarted before the job finished; resubmit"
STOPPED = "server stopped before the job finished; resubmit"
INTERNAL = "internal error while briefing; the server log has the details"

JobStatus = Literal["queued", "running", "succeeded", "partial", "failed"]


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="The article text (UTF-8, not empty).")
    title: str | None = Field(None, max_length=1000, description="The article's title.")
    url: str | None = Field(None, max_length=2048, description="Where the text came from.")


class BriefRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentIn] = Field(
        default_factory=list, description="Articles given as text; each gets its own brief."
    )
    urls: list[str] = Field(
        default_factory=list, description="Article URLs to fetch; each gets its own brief."
    )
    kind: str = Field(
        default="brief",
        description="What to make for each document: brief, timeline, ... (GET /v1/kinds).",
    )


class ErrorDetail(BaseModel):
    type: str = Field(description="What kind of error, e.g. InputError, RateLimited.")
    message: str = Field(description="One line for a person: what failed and what to do.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class JobFailure(ErrorDetail):
    source: str = Field(description="The document (documents[i]) or URL that failed.")


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus
    status_url: str = Field(description="Poll this for the result.")


class JobView(BaseModel):
    job_id: str
    status: JobStatus = Field(description="partial: some documents were briefed, some failed.")
    created_at: str
    updated_at: str
    brief_ids: list[str] = Field(description="Briefs made, in request order (documents, urls).")
    brief_urls: list[str]
    failures: list[JobFailure] = Field(description="Documents or URLs that failed, and why.")
    error: ErrorDetail | None = Field(description="Why the job failed as a whole, if it did.")


class _PublicOnly(httpx2.AsyncBaseTransport):
    """Refuse hosts on loopback, private, link-local or reserved networks, on every hop
    (fetch follows redirects itself, so each one passes through here)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.host
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, request.url.port or 443)
        except OSError:
            raise InputError(f"{request.url}: host {host} not found; check the URL") from None
        for info in infos:
            addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
                addr = addr.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
            if not addr.is_global:
                raise InputError(
                    f"{request.url}: {host} is a private or local address; "
                    "the service only fetches public pages"
                )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Briefer:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        metrics: Metrics,
        *,
        allow_private_urls: bool = False,
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.allow_private_urls = allow_private_urls
        self.llm = LLM(settings)  # raises ConfigError at once when no endpoint is set
        self._sem: asyncio.Semaphore | None = None
        self._http: httpx2.AsyncClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._jobs: dict[str, asyncio.Task[Any]] = {}

    # one brief, one URL --------------------------------------------------------------

    async def brief(
        self, doc: Document, origin: str, kind: str | None = None
    ) -> tuple[str, BaseModel]:
        """Brief one document as `kind` (default: the settings') and store it. Returns
        (brief id, output)."""
        if self._sem is None:  # made here so it belongs to the serving event loop
            self._sem = asyncio.Semaphore(self.settings.concurrency)
        async with self._sem:
            brief = await brief_document(doc, self.settings, llm=self.llm, kind=kind)
        self.metrics.observe_brief(brief, origin)
        self.store.put_document(doc)
        # Stored under its kind, as `summarizer brief` stores it: history and show see both.
        p = provenance_of(brief)
        brief_id = self.store.put_brief(p.kind, brief.model_dump_json(), title=title_of(brief))
        return brief_id, brief

    async def load_url(self, url: str) -> Document:
        """Fetch and extract one article: the single place the service and the bot fetch."""
        from summarizer.fetch import FetchLimits, new_client
        from summarizer.sources import load_url

        limits = FetchLimits.from_settings(self.settings)
        if self._http is None:
            inner = httpx2.AsyncHTTPTransport()
            transport = inner if self.allow_private_urls else _PublicOnly(inner)
            self._http = new_client(limits, transport=transport)
        return await load_url(url, client=self._http, limits=limits)

    # background work ------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` in the background; the set holds a reference so it is not collected."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def submit_job(self, request: BriefRequest, docs: Sequence[Document], owner: str) -> str:
        job_id = self.store.create_job(request.model_dump_json(), owner=owner)
        self.metrics.jobs_running.inc()
        task = self.spawn(self._run_job(job_id, list(docs), list(request.urls), request.kind))
        self._jobs[job_id] = task
        task.add_done_callback(lambda _t: self._jobs.pop(job_id, None))
        return job_id

    async def _run_job(
        self, job_id: str, docs: list[Document], urls: list[str], kind: str = "brief"
    ) -> None:
        items: list[tuple[str, Document | str]] = [
            *((f"documents[{i}]", d) for i, d in enumerate(docs)),
            *((u, u) for u in urls),
        ]

        async def one(item: Document | str) -> str:
            doc = item if isinstance(item, Document) else await self.load_url(item)
            brief_id, _ = await self.brief(doc, "api", kind)
            return brief_id

        try:
            self.store.update_job(job_id, "running")
            results = await asyncio.gather(*(one(x) for _, x in items), return_exceptions=True)
            ids: list[str] = []
            failures: list[dict[str, str]] = []
            for (label, _), result in zip(items, results, strict=True):
                if isinstance(result, str):
                    ids.append(result)
                elif isinstance(result, SummarizerError):
                    failures.append(
                        {"source": label, "type": type(result).__name__, "message": str(result)}
                    )
                    self.metrics.observe_error(type(result).__name__)
                else:
                    log.error("job %s: %s failed", job_id, label, exc_info=result)
                    failures.append({"source": label, "type": "InternalError", "message": INTERNAL})
                    self.metrics.observe_error("InternalError")
            status = "succeeded" if not failures else "partial" if ids else "failed"
            self.store.update_job(
                job_id,
                status,
                # The jobs table has one brief_id column: a job's ids go there comma-joined
                # (ids are hex, so a comma never occurs in one).
                brief_id=",".join(ids) or None,
                error=json.dumps({"failures": failures}) if failures else None,
            )
        except asyncio.CancelledError:
            self.store.update_job(job_id, "failed", error=STOPPED)
            raise
        except Exception:
            log.exception("job %s failed", job_id)
            self.store.update_job(job_id, "failed", error=INTERNAL)
        finally:
            self.metrics.jobs_running.dec()

    def job_view(self, job_id: str, owner: str) -> JobView | None:
        """The job as its owner sees it; None when missing or someone else's."""
        row = self.store.get_job(job_id)
        if row is None or row.get("owner") != owner:
            return None
        ids = [i for i in (row.get("brief_id") or "").split(",") if i]
        failures: list[JobFailure] = []
        error: ErrorDetail | None = None
        raw = row.get("error")
        if raw:
            try:
                failures = [JobFailure(**f) for f in json.loads(raw)["failures"]]
            except (ValueError, KeyError, TypeError):
                # A plain reason: written by fail_unfinished_jobs or a stopped server.
                error = ErrorDetail(type="JobInterrupted", message=raw)
        if row["status"] == "failed" and error is None and failures:
            error = ErrorDetail(type=failures[0].type, message=failures[0].message)
        return JobView(
            job_id=row["id"],
            status=row["status"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            brief_ids=ids,
            brief_urls=[f"/v1/briefs/{i}" for i in ids],
            failures=failures,
            error=error,
        )

    async def aclose(self) -> None:
        """Stop: unfinished jobs are marked failed (the caller may resubmit), then the
        LLM and fetch clients close."""
        tasks = list(self._tasks)
        jobs = list(self._jobs)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A job cancelled before it ever ran had no chance to record that itself.
        for job_id in jobs:
            row = self.store.get_job(job_id)
            if row is not None and row["status"] in ("queued", "running"):
                self.store.update_job(job_id, "failed", error=STOPPED)
        if self._http is not None:
            await self._http.aclose()
        await self.llm.aclose()
