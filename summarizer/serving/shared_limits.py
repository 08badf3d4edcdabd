"""The API's token buckets in the store's database, shared by every process and replica.

`serve --workers N` and several replicas behind a load balancer serve one set of API keys;
each keeping its own buckets would let a key make N times its requests a minute, and let a
client guess keys N times as fast. On a PostgreSQL store the buckets live in one table and
each decision is one short transaction under a lock named after the bucket's kind (a
PostgreSQL advisory lock), on the database server's clock, the same for every machine.

A bucket refills completely within a minute, so a row untouched for a minute says no more
than no row at all: such rows are deleted as decisions are made, which keeps the table as
small as the set of callers of the last minute. Callers are stored only as hashes (API
keys are already key ids; client addresses are hashed here).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from summarizer.serving.limits import RateLimiter
from summarizer.store.aio import AsyncStore

# A bucket refills fully in this many seconds (its rate is per minute).
_FULL_AFTER = 60.0
_T = TypeVar("_T")


class SharedRateLimiter(RateLimiter):
    """`RateLimiter`'s buckets in the store (its SQL: store/limits.py). Its calls block on
    the database: the auth middleware awaits them through `off_loop`, in the store's pool."""

    shared = True

    def __init__(self, per_minute: int, astore: AsyncStore, kind: str) -> None:
        super().__init__(per_minute)
        self.astore = astore
        self.kind = kind

    async def off_loop(self, method: Callable[[str], _T], key: str) -> _T:
        return await self.astore.call(method, key)

    def _name(self, key: str) -> str:
        return f"{self.kind}:{hashlib.sha256(key.encode()).hexdigest()[:24]}"

    def _update(self, key: str, take: Callable[[float], float | None]) -> float:
        """The bucket's tokens now; `take(tokens)` gives what to leave in it (None: as is)."""
        return self.astore.store.take_from_bucket(
            self.kind, self._name(key), float(self.per_minute), _FULL_AFTER, take
        )

    def check(self, key_id: str) -> None:
        if self.per_minute <= 0:
            return
        tokens = self._update(key_id, lambda t: t - 1.0 if t >= 1.0 else None)
        if tokens < 1.0:
            raise self.refusal(tokens)

    def blocked(self, key: str) -> int:
        if self.per_minute <= 0:
            return 0
        # A look, not a decision: no lock, one query (asked on every request).
        tokens = self.astore.store.bucket_tokens(
            self._name(key), float(self.per_minute), _FULL_AFTER
        )
        return 0 if tokens >= 1.0 else self._wait(tokens)

    def spend(self, key: str) -> None:
        if self.per_minute <= 0:
            return
        self._update(key, lambda t: max(0.0, t - 1.0))


def limiters_for(
    astore: AsyncStore, requests: int, failures: int
) -> tuple[RateLimiter, RateLimiter]:
    """(requests per API key, failed authentications per client address): in the store
    when several processes share it (PostgreSQL); in memory otherwise (SQLite), where the
    service runs in one process."""
    if astore.shared:
        return (
            SharedRateLimiter(requests, astore, "api-key"),
            SharedRateLimiter(failures, astore, "auth-failures"),
        )
    return RateLimiter(requests), RateLimiter(failures)
