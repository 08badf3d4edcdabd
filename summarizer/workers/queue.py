"""Queue workers: the processes that run the jobs the API, the Slack bot and `daily
--on-workers` put on procrastinate's queue (store/tasks.py, which defers them by name).

What happens when a worker dies (kill -9, a lost machine): its heartbeat stops; every
live worker sweeps for jobs whose worker has been silent longer than `stalled_after` and
puts them back on the queue, where another worker takes them up. Nothing is doubled: the
retried job keeps every document the dead worker had finished, with its brief id, and a
brief that worker kept but had not listed yet is found again by its key's own cache
(briefing/keep.py), so only the article in flight at the kill is asked of the model again.
No process ever fails another live process's job: an API process no longer marks
unfinished jobs failed at start-up here.

A worker runs what the API's `Briefer` (service/jobs.py) gives it, through `JobRunner`,
and a `daily --on-workers` run's articles (`brief_article`) through `brief_and_keep`: the
queue depends on the briefing path, never on the API or on daily.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Protocol

from summarizer.config import Settings
from summarizer.sources.ingest import Document
from summarizer.store import Store
from summarizer.store.tasks import ARTICLE_TASK, QUEUE, SLACK_TASK, TASK, connect, ensure_schema

log = logging.getLogger("summarizer.workers.queue")

STALLED_AFTER_S = 30.0


class JobRunner(Protocol):
    """What a worker needs of the API's job runner (service/jobs.py's `Briefer`)."""

    settings: Settings
    store: Store

    async def run_stored_job(self, job_id: str) -> None: ...

    async def aclose(self) -> None: ...


def make_app(database_url: str) -> Any:
    """The procrastinate App on the store's database, with the workers' tasks registered."""
    app = connect(database_url)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    async def brief_job(context: Any, job_id: str) -> None:
        briefer: JobRunner = context.additional_context["briefer"]
        await briefer.run_stored_job(job_id)

    app.task(name=ARTICLE_TASK, queue=QUEUE, pass_context=True)(brief_article)

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


async def brief_article(
    context: Any, run_id: str, doc_sha256: str, kind: str, key: str, shaping: dict[str, Any]
) -> None:
    """A `daily --on-workers` article (the worker's side): brief one stored article and
    keep it under the run's cache key, where the run finds it (daily/on_workers.py), or
    keep why it could not be (`map_failures`). An article an earlier attempt finished is
    not asked again (the local scope's cache, briefing/keep.py)."""
    from summarizer.briefing.keep import brief_and_keep
    from summarizer.errors import SummarizerError
    from summarizer.llm.client import LLM

    runner: JobRunner = context.additional_context["briefer"]
    store = runner.store
    row = await asyncio.to_thread(store.get_document, doc_sha256)
    if row is None:
        await asyncio.to_thread(store.put_map_failure, run_id, doc_sha256, "not in the store")
        return
    doc = Document(text=row["text"], title=row["title"], url=row["url"], path=row["path"])
    # The run's settings that shape a brief, on this worker's endpoint and key; one client
    # per such settings, reused by every article this worker briefs with them.
    settings = runner.settings.model_copy(update=shaping)
    llms: dict[str, LLM] = context.additional_context.setdefault("llms", {})
    which = json.dumps(shaping, sort_keys=True)
    if which not in llms:
        llms[which] = LLM(settings, lazy=True)
    try:
        await brief_and_keep(
            doc, settings=settings, llm=llms[which], store=store, origin="daily", kind=kind,
            run_id=run_id, key=key, listed=False,
        )  # fmt: skip
    except SummarizerError as exc:
        await asyncio.to_thread(store.put_map_failure, run_id, doc_sha256, str(exc))
    except Exception:
        log.exception("article %s of run %s failed on this worker", doc_sha256[:12], run_id)
        await asyncio.to_thread(
            store.put_map_failure, run_id, doc_sha256,
            "internal error on a worker; its log has the details",
        )  # fmt: skip


async def run_worker(
    database_url: str,
    briefer: JobRunner,
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
