"""The store for async callers: `AsyncStore` runs each of a `Store`'s calls off the event
loop, in a thread pool of its own sized to what the store can do at once.

The HTTP API, the Slack bot, the queue's workers and the shared rate limits reach the store
only through this facade, so a slow disk or a distant database never stalls the loop that
serves every other request, and calls from many requests run side by side on PostgreSQL
(whose commits then share one flush of the log) instead of one after another on the loop.

Why threads, not psycopg's AsyncConnectionPool: the SQL of every table is written once, as
synchronous methods that the CLI and cron call directly; an async driver would need each
method written twice (and SQLite has no async driver: aiosqlite is a thread too). psycopg 3
connections and its ConnectionPool are thread-safe (the pool hands each thread its own
connection), and sqlite3's one connection is kept to one call at a time by the backend's
lock. Measured on the 2-core test machine: the hop to a pool thread costs ~50-80 us a
call, against ~0.15 ms for a read and ~0.3-4 ms for a commit on a loopback PostgreSQL;
POST brief on PostgreSQL with 8 clients went from 51 to 58-65 briefs a second once the
store left the loop (bench/service_briefs.py; docs/store.md has the figures).

The pool has `store.threads` threads (PostgreSQL: 4, within its connection pool's size:
more only add hand-offs of the interpreter lock; SQLite: one, since its one connection
serves one call at a time anyway), so calls wait in the executor's queue, not holding a
thread or a connection. A call already running when its
caller is cancelled runs to its end (a thread cannot be interrupted); every write is one
transaction, so it is then either wholly done or not at all.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

from summarizer.store.base import Store

P = ParamSpec("P")
T = TypeVar("T")


def _off_loop(
    method: Callable[Concatenate[Store, P], T],
) -> Callable[Concatenate[AsyncStore, P], Coroutine[Any, Any, T]]:
    """`Store.method` as a coroutine method of AsyncStore, run in its pool. The method is
    looked up on the store itself, so a backend's own version is the one that runs."""
    name = method.__name__

    @functools.wraps(method)
    async def run(self: AsyncStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        bound: Callable[P, T] = getattr(self.store, name)
        return await self.call(bound, *args, **kwargs)

    return run


class AsyncStore:
    """`await astore.put_brief(...)`: a `Store`'s methods, awaited. `call(fn, ...)` runs
    anything else that works on the store (`ledger.story(store, id)`) the same way."""

    def __init__(self, store: Store, *, threads: int | None = None) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(
            max_workers=threads or max(1, store.threads), thread_name_prefix="store"
        )

    @property
    def label(self) -> str:
        return self.store.label

    @property
    def shared(self) -> bool:
        return self.store.shared

    @property
    def database_url(self) -> str | None:
        return self.store.database_url

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in the store's pool. Context variables travel with it."""
        ctx = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, functools.partial(ctx.run, fn, *args, **kwargs)
        )

    def close(self) -> None:
        """Stop the pool (waiting for calls in flight). The store stays open: its owner
        closes it."""
        self._pool.shutdown(wait=True)

    # a brief kept whole (briefing/keep.py)
    keep_brief = _off_loop(Store.keep_brief)

    # documents and results
    put_document = _off_loop(Store.put_document)
    get_document = _off_loop(Store.get_document)
    get_extraction = _off_loop(Store.get_extraction)
    get_extractions = _off_loop(Store.get_extractions)
    put_extraction = _off_loop(Store.put_extraction)
    put_map_failure = _off_loop(Store.put_map_failure)
    # runs, briefs, calls
    start_run = _off_loop(Store.start_run)
    finish_run = _off_loop(Store.finish_run)
    put_brief = _off_loop(Store.put_brief)
    get_brief = _off_loop(Store.get_brief)
    get_brief_owned = _off_loop(Store.get_brief_owned)
    find_brief = _off_loop(Store.find_brief)
    list_briefs = _off_loop(Store.list_briefs)
    record_calls = _off_loop(Store.record_calls)
    # chat events
    claim_event = _off_loop(Store.claim_event)
    # API jobs and the processes running them
    register_worker = _off_loop(Store.register_worker)
    heartbeat = _off_loop(Store.heartbeat)
    retire_worker = _off_loop(Store.retire_worker)
    create_job = _off_loop(Store.create_job)
    update_job = _off_loop(Store.update_job)
    finish_job = _off_loop(Store.finish_job)
    set_job_result = _off_loop(Store.set_job_result)
    job_results = _off_loop(Store.job_results)
    get_job = _off_loop(Store.get_job)
    reap_jobs = _off_loop(Store.reap_jobs)
    # shared rate limits
    take_from_bucket = _off_loop(Store.take_from_bucket)
    window_send = _off_loop(Store.window_send)
    window_charge = _off_loop(Store.window_charge)


async def off_loop(
    store: Store | AsyncStore, fn: Callable[Concatenate[Store, P], T], /,
    *args: P.args, **kwargs: P.kwargs,
) -> T:  # fmt: skip
    """`fn(store, ...)` off the event loop, for library code that serves both kinds of
    caller (briefing/keep.py): in an AsyncStore's own pool (the API, the bot, MCP), or in
    a thread for a plain Store (the CLI's and daily's, whose loop serves no one else)."""
    # Looked up on the store itself, as AsyncStore's methods are: a backend's own wins.
    if isinstance(store, AsyncStore):
        return await store.call(getattr(store.store, fn.__name__), *args, **kwargs)
    return await asyncio.to_thread(getattr(store, fn.__name__), *args, **kwargs)
