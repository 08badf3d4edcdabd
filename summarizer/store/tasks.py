"""The task queue's deferring side: jobs put on procrastinate's queue, on the store's own
PostgreSQL database (its `procrastinate_*` tables beside the store's).

Why procrastinate: it is async and native to PostgreSQL (LISTEN/NOTIFY to wake workers,
`SELECT ... FOR UPDATE SKIP LOCKED` to hand each job to one worker), with retries, locks
and worker heartbeats, and needs no second server. The job's own state (status, briefs,
failures) stays in the store's `jobs` table, so any API replica answers any job's status.

Jobs are deferred by task name, so the processes that only put work on the queue (the
API, the Slack bot, a `daily --on-workers` run) need nothing of the code that runs it:
the tasks themselves are registered by the workers (workers/queue.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from summarizer.store.postgres import lock_key

if TYPE_CHECKING:
    import procrastinate

QUEUE = "briefs"
TASK = "summarizer.brief_job"  # an API job: run_stored_job(job_id)
SLACK_TASK = "summarizer.slack_brief"  # a Slack brief, acked and de-duplicated first
ARTICLE_TASK = "summarizer.brief_article"  # one article of a `daily --on-workers` run


def connect(database_url: str) -> procrastinate.App:
    """A procrastinate App on the store's database, with no task of its own."""
    import procrastinate

    return procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=database_url, min_size=1, max_size=4)
    )


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
    """Puts jobs on the queue for any worker. Opened for as long as its user serves."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.app = connect(database_url)

    async def open(self) -> None:
        await ensure_schema(self.database_url)
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def defer(self, task: str, **arguments: Any) -> None:
        await self.app.configure_task(task, queue=QUEUE).defer_async(**arguments)

    async def submit(self, store: Any, request_json: str, owner: str) -> str:
        """Record an API job in the store (`store`: a Store's AsyncStore), then put it on
        the queue for any worker."""
        job_id: str = await store.create_job(request_json, owner)
        await self.defer(TASK, job_id=job_id)
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
        await self.defer(
            SLACK_TASK,
            text=text, channel=channel, thread_ts=thread_ts, response_url=response_url, kind=kind,
        )  # fmt: skip


def queue_for(store: Any) -> JobQueue | None:
    """The queue on a store several processes share (PostgreSQL); None on one served by
    one process (SQLite), where jobs stay in-process. `store`: a Store or an AsyncStore."""
    url = store.database_url
    return JobQueue(url) if store.shared and url else None
