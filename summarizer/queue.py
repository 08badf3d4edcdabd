"""API jobs on a real task queue when the store is PostgreSQL: procrastinate, on the same
database (its own `procrastinate_*` tables beside the store's).

Why procrastinate: it is async and native to PostgreSQL (LISTEN/NOTIFY to wake workers,
`SELECT ... FOR UPDATE SKIP LOCKED` to hand each job to one worker), with retries, locks
and worker heartbeats, and needs no second server. The job's own state (status, briefs,
failures) stays in the store's `jobs` table, so any API replica answers any job's status.

What happens when a worker dies (kill -9, a lost machine): its heartbeat stops; every
live worker sweeps for jobs whose worker has been silent longer than `stalled_after` and
puts them back on the queue, where another worker takes them up. Nothing is doubled: the
worker briefs through `QueueBriefer`, which reuses the stored result of every document the
dead worker had finished (the same per-article cache `daily` uses), so only the article
in flight at the kill is asked of the model again. No process ever fails another live
process's job: an API process no longer marks unfinished jobs failed at start-up here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from pydantic import BaseModel

from summarizer.ingest import Document
from summarizer.service.jobs import Briefer, BriefRequest
from summarizer.store.postgres import lock_key

log = logging.getLogger("summarizer.queue")

QUEUE = "briefs"
TASK = "summarizer.brief_job"
SLACK_TASK = "summarizer.slack_brief"
STALLED_AFTER_S = 30.0


def make_app(database_url: str) -> Any:
    """The procrastinate App on the store's database, with the job task registered."""
    import procrastinate

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=database_url, min_size=1, max_size=4)
    )

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    async def brief_job(context: Any, job_id: str) -> None:
        briefer: QueueBriefer = context.additional_context["briefer"]
        await briefer.run_stored_job(job_id)

    from summarizer.daily import on_workers

    app.task(name=on_workers.TASK, queue=QUEUE, pass_context=True)(on_workers.brief_article)

    @app.task(name=SLACK_TASK, queue=QUEUE, pass_context=True)
    async def slack_brief(
        context: Any,
        text: str,
        channel: str,
        thread_ts: str | None,
        response_url: str | None,
        kind: str | None = None,
    ) -> None:
        bot = context.additional_context.get("slack")
        if bot is None:
            # Failed, not lost: procrastinate keeps it, and the log says what to fix.
            raise RuntimeError(
                "a Slack brief reached a worker without SLACK_BOT_TOKEN; give workers the bot's token"
            )
        await bot.run_queued(text, channel, thread_ts, response_url, kind)

    return app


async def ensure_schema(database_url: str) -> None:
    """Create procrastinate's tables once, whoever starts first (under an advisory lock)."""
    import psycopg
    from procrastinate.schema import SchemaManager

    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    async with conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("procrastinate"),))
        cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
        row = await cur.fetchone()
        if not (row and row[0]):
            await conn.execute(SchemaManager.get_schema())


class JobQueue:
    """The API's side: defer jobs. Opened in the API's lifespan."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.app = make_app(database_url)

    async def open(self) -> None:
        await ensure_schema(self.database_url)
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def submit(self, briefer: Briefer, request: BriefRequest, owner: str) -> str:
        """Record the job in the store, then put it on the queue for any worker."""
        job_id = await asyncio.to_thread(briefer.store.create_job, request.model_dump_json(), owner)
        await self.app.configure_task(TASK).defer_async(job_id=job_id)
        return job_id

    async def defer_slack(
        self,
        *,
        text: str,
        channel: str,
        thread_ts: str | None = None,
        response_url: str | None = None,
        kind: str | None = None,
    ) -> None:
        """A Slack brief for any worker (the request was acked and de-duplicated first)."""
        await self.app.configure_task(SLACK_TASK).defer_async(
            text=text, channel=channel, thread_ts=thread_ts, response_url=response_url, kind=kind
        )


def queue_for(store: Any) -> JobQueue | None:
    """The queue on a store several processes share (PostgreSQL); None on one served by
    one process (SQLite), where jobs stay in-process. `store`: a Store or an AsyncStore."""
    url = store.database_url
    return JobQueue(url) if store.shared and url else None


class QueueBriefer(Briefer):
    """A worker's Briefer: a document already briefed as the same kind under the same
    settings (by a worker that died, or an earlier job) is taken from the store instead
    of the model."""

    async def brief(
        self, doc: Document, origin: str, kind: str | None = None, owner: str | None = None
    ) -> tuple[str, BaseModel]:
        from summarizer.daily.steps import cache_key
        from summarizer.kinds import registry_for
        from summarizer.pipeline import provenance_of
        from summarizer.render.generic import title_of

        key = cache_key(self.settings, kind)
        cached = await asyncio.to_thread(self.store.get_extraction, doc.sha256, key)
        if cached is not None:
            model = registry_for(self.settings).get(kind or self.settings.kind).output_model
            output = model.model_validate_json(cached)
            await asyncio.to_thread(self.store.put_document, doc)
            brief_id = await asyncio.to_thread(
                lambda: self.store.put_brief(
                    provenance_of(output).kind, cached, title=title_of(output), owner=owner,
                    source_key=f"{doc.sha256}:{key}" if owner is not None else None,
                )
            )  # fmt: skip
            return brief_id, output
        brief_id, output = await super().brief(doc, origin, kind, owner)
        await asyncio.to_thread(
            self.store.put_extraction, doc.sha256, key, output.model_dump_json()
        )
        return brief_id, output

    async def run_stored_job(self, job_id: str) -> None:
        row = await asyncio.to_thread(self.store.get_job, job_id)
        if row is None or row["status"] in ("succeeded", "partial", "failed"):
            return  # finished (a retried job whose first run completed) or gone
        request = BriefRequest.model_validate_json(row["request_json"])
        docs = [Document(text=d.text, title=d.title, url=d.url) for d in request.documents]
        self.metrics.jobs_running.inc()  # _run_job counts it down when done
        await self._run_job(job_id, docs, list(request.urls), request.kind, row.get("owner"))


async def run_worker(
    database_url: str,
    briefer: QueueBriefer,
    *,
    concurrency: int = 4,
    stalled_after: float = STALLED_AFTER_S,
    slack: Any = None,
) -> None:
    """Run queue workers until cancelled (SIGINT/SIGTERM: procrastinate stops gracefully)."""
    await ensure_schema(database_url)
    app = make_app(database_url)
    context: dict[str, Any] = {"briefer": briefer, "slack": slack, "llms": {}}
    async with app.open_async():
        sweeper = asyncio.create_task(_retry_stalled(app, stalled_after))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                additional_context=context,
                update_heartbeat_interval=max(stalled_after / 5, 0.5),
                # New jobs wake a worker at once (LISTEN/NOTIFY); a job put back by the
                # stalled sweep sends no notification, so it waits for this poll.
                fetch_job_polling_interval=1.0,
                stalled_worker_timeout=stalled_after,
            )
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await briefer.aclose()
            for llm in context["llms"].values():  # daily articles' clients, one per settings
                await llm.aclose()


async def _retry_stalled(app: Any, stalled_after: float) -> None:
    """Put back on the queue the jobs of workers silent for longer than `stalled_after`."""
    while True:
        await asyncio.sleep(max(stalled_after / 2, 0.5))
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=QUEUE, seconds_since_heartbeat=stalled_after
            )
        except Exception:  # a database hiccup must not end the sweeping
            log.exception("could not sweep for stalled jobs")
            continue
        for job in stalled:
            try:
                await app.job_manager.retry_job(job)
            except Exception:  # another worker's sweep queued it first
                log.debug("job %s: already queued again by another worker", job.id)
            else:
                log.warning("job %s: its worker stopped answering; queued again", job.id)
