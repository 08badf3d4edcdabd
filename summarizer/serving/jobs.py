"""The work behind the front doors: brief a document, fetch a URL, run a job.

The HTTP API, the Slack bot and the queue's workers all go through `Briefer`, which
briefs through the path every front door takes (`briefing.brief_and_keep`) with one LLM
built once and reused: every brief is kept in the store the CLI uses, with every LLM call
and its tokens and cost, as `daily` keeps its own. Background jobs run in-process as
asyncio tasks. Their state lives in the store behind its job methods (the seam another
store reimplements): the process holds a lease it renews (`register_worker`,
`heartbeat`); each document's result is stored the moment it is known; and a job is
failed by another process only once the process that ran it is gone (`reap_jobs`). A
resubmitted document, same key and same settings, gets its stored brief back instead of
paying again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from summarizer.briefing.keep import brief_and_keep
from summarizer.config import Settings
from summarizer.errors import SummarizerError
from summarizer.llm.client import LLM
from summarizer.plumbing import liveness
from summarizer.serving.answers import log_failure, public_message
from summarizer.serving.metrics import Metrics
from summarizer.sources.ingest import Document
from summarizer.store import Store
from summarizer.store.aio import AsyncStore

if TYPE_CHECKING:
    from summarizer.core.kinds import KindRegistry
    from summarizer.sources.loader import Loader

log = logging.getLogger("summarizer.service")

RESTARTED = (
    "the server process running the job stopped before it finished; resubmit (documents "
    "already briefed are listed here and reused)"
)
STOPPED = (
    "server stopped before the job finished; resubmit (documents already briefed are "
    "listed here and reused)"
)
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
        # Every store call of the API and the bot goes through this one facade, off the loop.
        self.astore = AsyncStore(store)
        self.metrics = metrics
        self.allow_private_urls = allow_private_urls
        self.llm = LLM(settings)  # raises ConfigError at once when no endpoint is set
        self._sem: asyncio.Semaphore | None = None
        self._loader: Loader | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._jobs: dict[str, asyncio.Task[Any]] = {}
        self._worker: str | None = None
        self._lease: asyncio.Task[None] | None = None

    # one brief, one URL --------------------------------------------------------------

    async def brief(
        self, doc: Document, origin: str, kind: str | None = None, owner: str | None = None
    ) -> tuple[str, BaseModel]:
        """Brief one document as `kind` (default: the settings') and store it. Returns
        (brief id, output).

        With an `owner` (an API key id) the brief is that key's, and a brief the same key
        made of the same document as the same kind with the same settings is returned
        instead of a new one; never another key's (briefing/keep.py). Without one (the
        Slack bot) the model is asked every time. Every LLM call is recorded in the store
        under `origin`, the brief made or not."""
        if self._sem is None:  # made here so it belongs to the serving event loop
            self._sem = asyncio.Semaphore(self.settings.concurrency)
        kept = await brief_and_keep(
            doc, settings=self.settings, llm=self.llm, store=self.astore, origin=origin,
            kind=kind, owner=owner, reuse=owner is not None, limit=self._sem,
        )  # fmt: skip
        if not kept.reused:
            self.metrics.observe_brief(kept.output, origin)
        assert kept.brief_id is not None, "a front door's briefs are listed"
        return kept.brief_id, kept.output

    async def load_url(self, url: str) -> Document:
        """Fetch and extract one article: the single place the service and the bot fetch."""
        from summarizer.sources.loader import Loader

        if self._loader is None:
            # Public addresses only (checked and pinned per hop, summarizer.sources.addresses).
            self._loader = Loader.from_settings(
                self.settings, public_only=not self.allow_private_urls
            )
        return await self._loader.page(url)

    # background work ------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` in the background; the set holds a reference so it is not collected."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start_jobs(self, lease_seconds: float) -> None:
        """Become a worker: take a lease in the store, renew it every quarter lease, and
        on each renewal fail the jobs of workers that are gone (this one's included
        never: it is alive). Jobs left by gone workers are failed at once."""
        host = liveness.host_identity()
        self._worker = await self.astore.register_worker(host, os.getpid())
        failed = await self.astore.reap_jobs(lease_seconds, host, RESTARTED)
        if failed:
            log.warning("%d job(s) of a stopped server process marked failed", failed)

        async def renew(worker: str) -> None:
            while True:
                await asyncio.sleep(lease_seconds / 4)
                try:
                    await self.astore.heartbeat(worker)
                    n = await self.astore.reap_jobs(lease_seconds, host, RESTARTED)
                    if n:
                        log.warning("%d job(s) of a stopped server process marked failed", n)
                except Exception:  # a busy or failing store must not end the lease loop
                    log.exception("renewing the job lease failed; retrying")

        self._lease = asyncio.get_running_loop().create_task(renew(self._worker))

    async def submit_job(self, request: BriefRequest, docs: Sequence[Document], owner: str) -> str:
        job_id = await self.astore.create_job(
            request.model_dump_json(), owner=owner, worker=self._worker
        )
        self.metrics.jobs_running.inc()
        task = self.spawn(
            self._run_job(job_id, list(docs), list(request.urls), request.kind, owner)
        )
        self._jobs[job_id] = task
        task.add_done_callback(lambda _t: self._jobs.pop(job_id, None))
        return job_id

    async def _run_job(
        self,
        job_id: str,
        docs: list[Document],
        urls: list[str],
        kind: str = "brief",
        owner: str | None = None,
        finished: dict[int, bool] | None = None,
    ) -> None:
        """Brief each item, storing each result the moment it is known. `finished`:
        positions already done by an earlier attempt (True: briefed), left as they are."""
        done_before = finished or {}
        items: list[tuple[str, Document | str]] = [
            *((f"documents[{i}]", d) for i, d in enumerate(docs)),
            *((u, u) for u in urls),
        ]

        async def one(position: int, label: str, item: Document | str) -> bool:
            """Brief one item and store its result at once, whatever happens to the rest."""
            if position in done_before:
                return done_before[position]
            try:
                doc = item if isinstance(item, Document) else await self.load_url(item)
                brief_id, _ = await self.brief(doc, "api", kind, owner)
            except SummarizerError as exc:
                log_failure(exc, f"job {job_id}: {label}")
                self.metrics.observe_error(type(exc).__name__)
                await self.astore.set_job_result(
                    job_id, position, label, error_type=type(exc).__name__,
                    error=public_message(exc),
                )  # fmt: skip
                return False
            except Exception:
                log.exception("job %s: %s failed", job_id, label)
                self.metrics.observe_error("InternalError")
                await self.astore.set_job_result(
                    job_id, position, label, error_type="InternalError", error=INTERNAL
                )
                return False
            await self.astore.set_job_result(job_id, position, label, brief_id=brief_id)
            return True

        try:
            await self.astore.update_job(job_id, "running")
            done = await asyncio.gather(*(one(n, lb, x) for n, (lb, x) in enumerate(items)))
            status = "succeeded" if all(done) else "partial" if any(done) else "failed"
            await self.astore.finish_job(job_id, status)
        except asyncio.CancelledError:
            await self.astore.finish_job(job_id, "failed", error=STOPPED)
            raise
        except Exception:
            log.exception("job %s failed", job_id)
            await self.astore.finish_job(job_id, "failed", error=INTERNAL)
        finally:
            self.metrics.jobs_running.dec()

    async def run_stored_job(self, job_id: str) -> None:
        """Run a job another process recorded in the store (a queue worker's side). A job
        retried after its worker died keeps what that worker finished: every document
        with a result keeps it, its brief id included, and only the others are briefed (a
        brief kept but not yet listed when the worker died is found again by its key)."""
        row = await self.astore.get_job(job_id)
        if row is None or row["status"] in ("succeeded", "partial", "failed"):
            return  # finished (a retried job whose first run completed) or gone
        request = BriefRequest.model_validate_json(row["request_json"])
        docs = [Document(text=d.text, title=d.title, url=d.url) for d in request.documents]
        results = await self.astore.job_results(job_id)
        finished = {int(r["position"]): r["brief_id"] is not None for r in results}
        self.metrics.jobs_running.inc()  # _run_job counts it down when done
        await self._run_job(
            job_id, docs, list(request.urls), request.kind, row.get("owner"), finished
        )

    async def job_view(self, job_id: str, owner: str, *, admin: bool = False) -> JobView | None:
        """The job as its owner (or an admin) sees it; None when missing or another's."""
        row = await self.astore.get_job(job_id)
        if row is None or (row.get("owner") != owner and not admin):
            return None
        ids: list[str] = []
        failures: list[JobFailure] = []
        for r in await self.astore.job_results(job_id):
            if r["brief_id"]:
                ids.append(r["brief_id"])
            else:
                failures.append(
                    JobFailure(source=r["source"], type=r["error_type"], message=r["error"])
                )
        # Jobs from before per-document results kept their ids comma-joined in brief_id.
        ids += [i for i in (row.get("brief_id") or "").split(",") if i and i not in ids]
        error: ErrorDetail | None = None
        raw = row.get("error")
        if raw:
            try:
                failures += [JobFailure(**f) for f in json.loads(raw)["failures"]]
            except (ValueError, KeyError, TypeError):
                # A plain reason: the job's process stopped, or an internal error.
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
        """Stop: unfinished jobs are marked failed (their finished documents stay listed,
        and a resubmission reuses them), the lease is given up, the clients close."""
        if self._lease is not None:
            self._lease.cancel()
            await asyncio.gather(self._lease, return_exceptions=True)
        tasks = list(self._tasks)
        jobs = list(self._jobs)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A job cancelled before it ever ran had no chance to record that itself.
        for job_id in jobs:
            await self.astore.finish_job(job_id, "failed", error=STOPPED)
        if self._worker is not None:
            await self.astore.retire_worker(self._worker)
        if self._loader is not None:
            await self._loader.aclose()
        await self.llm.aclose()
        await asyncio.to_thread(self.astore.close)  # calls still in flight finish first


class KindView(BaseModel):
    """A kind as a caller sees it (GET /v1/kinds, MCP's `kinds` tool)."""

    name: str = Field(description="What a request's `kind` names.")
    description: str = Field(description="What it makes.")
    prompt_name: str = Field(description="Its prompt template.")
    prompt_version: str = Field(description="The template's version.")
    json_schema: dict[str, Any] = Field(description="JSON Schema of its output.")


def kind_views(registry: KindRegistry) -> list[KindView]:
    """The kinds a caller can ask for: those made from an article (not syntheses)."""
    return [
        KindView(
            name=k.name,
            description=k.description,
            prompt_name=registry.prompt(k).name,
            prompt_version=registry.prompt(k).version,
            json_schema=k.json_schema(),
        )
        for k in registry
        if k.takes == "article"
    ]
