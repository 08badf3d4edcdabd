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

from summarizer.service.limits import RateLimiter
from summarizer.store import Store

# A bucket refills fully in this many seconds (its rate is per minute).
_FULL_AFTER = 60.0


class SharedRateLimiter(RateLimiter):
    """`RateLimiter`'s buckets in the store. Its calls block on the database: the auth
    middleware runs them in a worker thread (`shared = True`)."""

    shared = True

    def __init__(self, per_minute: int, store: Store, kind: str) -> None:
        super().__init__(per_minute)
        self.store = store
        self.kind = kind

    def _name(self, key: str) -> str:
        return f"{self.kind}:{hashlib.sha256(key.encode()).hexdigest()[:24]}"

    def _update(self, key: str, take: Callable[[float], float | None]) -> float:
        """The bucket's tokens now; `take(tokens)` gives what to leave in it (None: as is)."""
        store = self.store
        name = self._name(key)
        with store.exclusive_tx(f"bucket:{self.kind}", durable=False) as db:
            now = float(db.execute(store.dialect.now_sql).fetchone()[0])
            db.execute(
                "DELETE FROM rate_buckets WHERE name LIKE ? AND at < ?",
                (f"{self.kind}:%", now - _FULL_AFTER),
            )
            row = db.execute(
                "SELECT tokens, at FROM rate_buckets WHERE name = ?", (name,)
            ).fetchone()
            full = float(self.per_minute)
            tokens = (
                full
                if row is None
                else min(full, float(row[0]) + (now - float(row[1])) * full / _FULL_AFTER)
            )
            left = take(tokens)
            if left is not None:
                db.execute(
                    "INSERT INTO rate_buckets (name, tokens, at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
                    (name, left, now),
                )
        return tokens

    def check(self, key_id: str) -> None:
        if self.per_minute <= 0:
            return
        tokens = self._update(key_id, lambda t: t - 1.0 if t >= 1.0 else None)
        if tokens < 1.0:
            raise self.refusal(tokens)

    def blocked(self, key: str) -> int:
        if self.per_minute <= 0:
            return 0
        tokens = self._update(key, lambda t: None)
        return 0 if tokens >= 1.0 else self._wait(tokens)

    def spend(self, key: str) -> None:
        if self.per_minute <= 0:
            return
        self._update(key, lambda t: max(0.0, t - 1.0))


def limiters_for(store: Store, requests: int, failures: int) -> tuple[RateLimiter, RateLimiter]:
    """(requests per API key, failed authentications per client address): in the database
    on a PostgreSQL store, which several processes share; in memory on SQLite, where the
    service runs in one process."""
    if store.dialect.name == "postgresql":
        return (
            SharedRateLimiter(requests, store, "api-key"),
            SharedRateLimiter(failures, store, "auth-failures"),
        )
    return RateLimiter(requests), RateLimiter(failures)
