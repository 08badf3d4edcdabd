"""`daily --on-workers`: the per-article map step on the queue, briefed by workers on any
machine; the run itself collects, waits, then reduces (story synthesis) as usual.

Each article is stored (`documents`) and queued as one job naming it, its kind, its cache
key and the settings that shape its brief (model, mode, language, grounding, limits: never
a key or an endpoint, which each worker has of its own). A worker briefs it through the
one briefing path (queue.py's `brief_article`, `briefing.brief_and_keep`) and keeps the
result under that cache key, where the run finds it, exactly as it finds what an earlier
run kept; or it stores why it could not (`map_failures`), and the run lists the article
under "Not included". A worker that dies mid-article loses that attempt only: its job is
queued again by the stalled sweep (queue.py) and another worker briefs it.

The run waits by polling the store for all its pending articles at once (one query a
second, whatever the number of articles), and says every minute what it is waiting for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pydantic import BaseModel

from summarizer.config import Settings
from summarizer.errors import WorkerFailed
from summarizer.sources.ingest import Document
from summarizer.store import Store

log = logging.getLogger("summarizer.daily")

POLL_S = 1.0
# The settings that shape an article's brief, sent with each job (see module docstring).
SHAPING = (
    "model", "mode", "language", "grounding", "max_article_tokens", "max_reasks",
    "max_tokens", "temperature", "kind", "timeout", "http_retries",
)  # fmt: skip


def shaping(settings: Settings) -> dict[str, Any]:
    return {k: v for k, v in settings.model_dump(mode="json").items() if k in SHAPING}


class RemoteMap:
    """The run's side: queue articles, then wait for each one's result."""

    def __init__(self, store: Store, run_id: str, settings: Settings) -> None:
        from summarizer.store.tasks import ARTICLE_TASK, queue_for

        queue = queue_for(store)
        if queue is None:
            from summarizer.errors import ConfigError

            raise ConfigError(
                "--on-workers needs a PostgreSQL store (SUMMARIZER_DATABASE_URL or --store "
                "postgresql://...) and `summarizer worker` processes"
            )
        self.queue = queue
        self.task = ARTICLE_TASK
        self.store = store
        self.run_id = run_id
        self.shaping = shaping(settings)
        self._waiting: dict[tuple[str, str], asyncio.Future[str]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RemoteMap:
        await self.queue.open()
        self._poller = asyncio.create_task(self._poll())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        await self.queue.close()

    async def brief(self, doc: Document, kind: str, key: str, model: type[BaseModel]) -> BaseModel:
        """Queue one article and wait for its result (raises WorkerFailed)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[(doc.sha256, key)] = future
        await asyncio.to_thread(self.store.put_document, doc)
        await self.queue.defer(
            self.task, run_id=self.run_id, doc_sha256=doc.sha256, kind=kind, key=key,
            shaping=self.shaping,
        )  # fmt: skip
        return model.model_validate_json(await future)

    async def _poll(self) -> None:
        said = time.monotonic()
        while True:
            await asyncio.sleep(POLL_S)
            pending = [k for k, f in self._waiting.items() if not f.done()]
            if not pending:
                continue
            try:
                failed = await asyncio.to_thread(self.store.map_failures, self.run_id)
                by_key: dict[str, list[str]] = {}
                for sha, key in pending:
                    by_key.setdefault(key, []).append(sha)
                found: dict[tuple[str, str], str] = {}
                for key, shas in by_key.items():
                    got = await asyncio.to_thread(self.store.get_extractions, key, shas)
                    found.update({(sha, key): body for sha, body in got.items()})
            except Exception:  # a database hiccup: try again at the next poll
                log.exception("could not read the workers' results; retrying")
                continue
            for k in pending:
                if k in found:
                    self._waiting[k].set_result(found[k])
                elif k[0] in failed:
                    self._waiting[k].set_exception(WorkerFailed(failed[k[0]]))
            left = sum(1 for f in self._waiting.values() if not f.done())
            if left and time.monotonic() - said > 60:
                said = time.monotonic()
                log.info("waiting for %d article(s) from the workers (summarizer worker)", left)
