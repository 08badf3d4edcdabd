"""The rate-limit window log in the store's database, shared by every process using it.

Two API replicas, a worker and a cron `daily` on three machines, all calling one provider
with one key, each keeping its own window would together send up to N times the limit and
provoke 429s. Here each send is decided inside one transaction that holds a lock named
after the scope (a PostgreSQL advisory lock; SQLite's write lock): expire old rows, read
the window, compute the wait with the same arithmetic as the in-memory log, and record
the send only when it fits; when its answer is in, the send is stamped again with the
moment the request actually left. Times are the database server's clock, one for all.
The commit does not wait for the disk: a send is stamped before it leaves, so a slow
commit would put sends closer together at the provider than in the log (and a log entry
lost in a database crash only lets one window be a little fuller).

Each decision is a few milliseconds of database work (its SQL is the store's:
store/limits.py), awaited through the store's async facade so the event loop keeps serving
while it waits on the network.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import threading
import time

from summarizer.llm.limiter import RateLimiter, wait_time
from summarizer.store import Store
from summarizer.store.aio import AsyncStore

# A send is stamped when it is decided and counted by the provider when it arrives. Across
# processes that delay varies more than within one: up to 45 ms between two processes on
# this 2-core test machine (measured against the loopback server's arrival times), plus
# network time between machines. A wider margin than in-process keeps every window under
# the limit at a cost of 0.25% of a 60 s window's throughput.
SHARED_MARGIN = 0.15
# The id of this task's last send: a call's send and its answer run in one task.
_last_send: contextvars.ContextVar[int | None] = contextvars.ContextVar("last_send", default=None)


def scope_for(base_url: str | None, api_key: str | None) -> str:
    """One window per endpoint and key (a hash: the key itself is never stored)."""
    material = f"{base_url or 'default'}\0{api_key or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


class StoreWindow:
    """A `WindowLog` in a store. Given a URL, it opens the store on first use, off the
    event loop, so building an LLM client never waits on the database."""

    def __init__(self, store: Store | str, scope: str) -> None:
        self._target = store if isinstance(store, str) else ""
        self._store = store if isinstance(store, Store) else None
        self._owns_store = self._store is None
        self._astore: AsyncStore | None = None
        self._opening = threading.Lock()
        self.scope = scope

    def _open(self) -> AsyncStore:
        with self._opening:
            if self._astore is None:
                if self._store is None:
                    self._store = Store(self._target)
                self._astore = AsyncStore(self._store)
            return self._astore

    async def _facade(self) -> AsyncStore:
        if self._astore is not None:
            return self._astore
        return await asyncio.to_thread(self._open)  # opening connects: off the loop too

    async def try_send(self, limiter: RateLimiter, tokens: int) -> float:
        astore = await self._facade()
        margin = max(limiter.margin, SHARED_MARGIN)

        def decide(now: float, sent: list[float], charges: list[tuple[float, int]]) -> float:
            return wait_time(limiter, now, sent, charges, tokens, margin)

        wait, send_id = await astore.window_send(
            self.scope, limiter.window + margin, tokens, decide
        )
        if send_id is not None:
            _last_send.set(send_id)
        return wait

    async def charge(self, tokens: int, sent: float | None = None) -> None:
        send_id = _last_send.get()
        _last_send.set(None)
        # The send was stamped when it was decided; the request left later (this process's
        # event loop, a thread hop, a connection). It is stamped again with when it left
        # (server time now, less the time since), never earlier: the window then holds
        # what the provider counted, not what was decided.
        since_sent = time.perf_counter() - sent if sent is not None else None
        astore = await self._facade()
        await astore.window_charge(self.scope, tokens, send_id, since_sent)

    def close(self) -> None:
        if self._astore is not None:
            self._astore.close()
            self._astore = None
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None
