"""What every part of the store shares: the connection a backend hands the SQL, and the
ids and times it writes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from summarizer.store.migrations import Dialect


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What a backend hands the shared SQL: rows read by name (`r["id"]`) or position."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]], /) -> Any: ...


def is_database_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    return uuid.uuid4().hex[:16]


INSERT_CALLS = (
    "INSERT INTO llm_calls (run_id, key, model, status, tokens_in, tokens_out, cost_usd, "
    "latency_ms, replayed, created_at, origin, batched) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def call_rows(run_id: str | None, records: Any, price: Any, origin: str) -> list[tuple[Any, ...]]:
    """llm_calls rows for CallRecords (see Store.record_calls)."""
    return [
        (run_id, r.key, r.model, r.status,
         r.tokens_in if r.usage_known else None, r.tokens_out if r.usage_known else None,
         0.0 if r.replayed else (
             price(r.model, r.tokens_in, r.tokens_out, r.cached_tokens, batched=r.batched)
             if r.usage_known else None
         ),
         r.latency_ms, int(r.replayed), _now(), origin, int(r.batched))
        for r in records
    ]  # fmt: skip


class Tables:
    """What a group of tables' methods (store/jobs.py, store/stories.py, store/batches.py)
    needs of the store they are mixed into: its short write and read transactions, its
    exclusive ones, and the few words its engine spells its own way."""

    dialect: Dialect

    def _tx(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _one(self) -> AbstractContextManager[Connection]:
        """A connection for one write statement, which is its own transaction (on
        PostgreSQL: no BEGIN and COMMIT round trips around it)."""
        return self._tx()

    def exclusive_tx(
        self, name: str, *, durable: bool = True
    ) -> AbstractContextManager[Connection]:
        raise NotImplementedError
