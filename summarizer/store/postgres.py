"""The shared backend: every table on PostgreSQL, through psycopg 3 and a connection pool.

Several API replicas, workers and cron hosts on several machines use one database. The
shared SQL of the store's tables is written with `?` placeholders; the only rewriting done here is
`?` -> `%s` (and a literal `%` doubled), in one cached function. Migrations run on a
connection of their own, each step in one transaction that first takes a transaction-level
advisory lock, so two processes starting at once apply each step exactly once.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from summarizer.errors import ConfigError, StorageError
from summarizer.plumbing import redact
from summarizer.store.base import Store
from summarizer.store.migrations import POSTGRES
from summarizer.store.sql import Connection, Cursor, is_database_url

POOL_MAX = 10  # connections per process: API threads, the daily map step, workers
CONNECT_TIMEOUT_S = 10
ASYNC_THREADS = 4
# pg_advisory_xact_lock key that serialises migrations (any fixed 64-bit number will do).
MIGRATION_LOCK = 0x5355_4D4D_0001


def lock_key(name: str) -> int:
    """An advisory lock key (a signed 64-bit number) for a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class _Row:
    """A result row read by name or by position, as sqlite3.Row is, so the shared SQL code
    is the same on both backends (`r["id"]`, `r[0]`, `dict(r)`)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._index[key] if isinstance(key, str) else key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Any:
    index = {c.name: i for i, c in enumerate(cursor.description or ())}
    return lambda values: _Row(values, index)


@functools.lru_cache(maxsize=256)
def to_pg(sql: str) -> str:
    """The shared SQL's `?` placeholders as psycopg's `%s`. The shared SQL holds no `?`
    inside a literal (checked by the conformance tests, which run every statement)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Conn:
    """A psycopg connection speaking the shared SQL."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cur: Cursor = self._conn.execute(to_pg(sql), params)
        return cur

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        with self._conn.cursor() as cur:
            cur.executemany(to_pg(sql), rows)


def describe(exc: BaseException, label: str) -> StorageError | None:
    """A storage fault reported by PostgreSQL or the pool, as what it is; None for a bug."""
    import psycopg
    from psycopg_pool import PoolTimeout

    if isinstance(exc, PoolTimeout):
        return StorageError(
            f"{label}: no database connection came free within {CONNECT_TIMEOUT_S} s; check that "
            "the server is up and not at max_connections"
        )
    if not isinstance(exc, psycopg.Error):
        return None
    state = exc.sqlstate or ""
    detail = redact.text(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    what = {
        "53100": "the database server's disk is full; free space on it and run again: "
        "nothing already stored is lost",
        "25006": "the database is read-only (a standby, or default_transaction_read_only); "
        "point the URL at the primary",
        "55P03": "a row or table is locked by another session; run again when it is done",
        "40P01": "deadlock with another session; run again",
        "57P01": "the database server is shutting down; run again when it is back",
        "57P03": "the database server is not accepting connections yet; run again shortly",
        "3D000": f"the database does not exist ({detail}); create it first (createdb)",
        "28000": f"the server refused the login ({detail}); check the URL's user and pg_hba.conf",
        "28P01": "the server refused the password; check the URL's credentials",
    }.get(state)
    if what is None and state.startswith("58"):
        what = f"I/O error on the database server ({detail}); check its disk, then run again"
    if what is None and state.startswith("53"):
        what = f"the database server is out of resources ({detail}); run again later"
    if what is None and isinstance(exc, psycopg.OperationalError) and not state:
        what = f"cannot reach the database ({detail}); check that PostgreSQL runs and the URL"
    return None if what is None else StorageError(f"{label}: {what}")


class PostgresStore(Store):
    dialect = POSTGRES
    shared = True

    @classmethod
    def opens(cls, target: object) -> bool:
        return is_database_url(target)

    def __init__(self, target: str, *, pool_max: int = POOL_MAX) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise ConfigError(
                f"{redact.url(target)}: a PostgreSQL store needs psycopg; "
                "pip install 'summarizer[postgres]'"
            ) from None

        self.url = self.database_url = target
        self.label = redact.url(target)
        # Threads for AsyncStore: calls are a round trip or a few, so 4 keep the server busy
        # for 8 clients; more only add GIL hand-offs (15% more CPU a brief at 10, measured).
        self.threads = min(pool_max, ASYNC_THREADS)
        try:
            # A first connection of its own: a clear error when the server is unreachable,
            # instead of a pool that retries in the background and times out.
            self._migration_conn = psycopg.connect(
                target, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, row_factory=_row_factory
            )
        except psycopg.Error as exc:
            raise self._storage_error(exc) or exc from None
        try:
            self._migrate()
        finally:
            self._migration_conn.close()
        # psycopg's pool logs its own reconnection attempts; our errors say what happened.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        self._pool = ConnectionPool(
            target,
            min_size=1,
            max_size=pool_max,
            timeout=CONNECT_TIMEOUT_S,
            kwargs={"row_factory": _row_factory, "connect_timeout": CONNECT_TIMEOUT_S},
            open=True,
            name="summarizer-store",
        )

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    def _storage_error(self, exc: BaseException) -> StorageError | None:
        return describe(exc, self.label)

    @contextmanager
    def hold_lock(self, name: str) -> Iterator[bool]:
        # A session-level advisory lock on a connection kept for the block. Advisory locks
        # are per database, so the key needs only the name; a killed holder's connection
        # closes and the server releases its lock.
        key = lock_key(name)
        with self._errors(), self._pool.connection() as conn:
            row: Any = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            held = bool(row[0])
            conn.commit()  # the lock outlives the transaction; no transaction stays open
            try:
                yield held
            finally:
                if held:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                    conn.commit()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            yield
        except (psycopg.Error, PoolTimeout) as exc:
            known = self._storage_error(exc)
            if known is None:
                raise
            raise known from None

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        # The pool's connection block commits on success and rolls back on an error.
        with self._errors(), self._pool.connection() as conn:
            yield _Conn(conn)

    @contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        # Each statement its own transaction: one round trip, where psycopg's default
        # (a transaction opened by the first statement) adds a BEGIN and a COMMIT. Round
        # trips are what a store call costs here (a read is ~0.1 ms of server work), more
        # so on a busy machine where each one waits for the server process to be scheduled.
        with self._autocommit_conn() as conn:
            yield _Conn(conn)

    @contextmanager
    def _autocommit_conn(self) -> Iterator[Any]:
        with self._errors(), self._pool.connection() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                if not conn.broken:
                    conn.autocommit = False  # as the pool lends it to `_tx`

    def _read(self) -> AbstractContextManager[Connection]:
        # Reads need no transaction: each query sees a consistent snapshot of its own.
        return self._autocommit()

    def _one(self) -> AbstractContextManager[Connection]:
        return self._autocommit()

    @contextmanager
    def exclusive_tx(self, name: str, *, durable: bool = True) -> Iterator[Connection]:
        # BEGIN and the lock in one round trip (psycopg would send BEGIN on its own): with
        # no parameters psycopg sends the text as one simple query, so the key is a literal
        # (an integer computed here, never caller text). durable=False: a commit that does
        # not wait for the WAL flush (ms, not tens of ms).
        begin = f"BEGIN; SELECT pg_advisory_xact_lock({int(lock_key(name))})"
        if not durable:
            begin += ", set_config('synchronous_commit', 'off', true)"
        with self._autocommit_conn() as conn:
            conn.execute(begin)
            try:
                yield _Conn(conn)
            except BaseException:
                if not conn.broken:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _migration_tx(self) -> Iterator[Connection]:
        conn = self._migration_conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            yield _Conn(conn)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if getattr(self, "_pool", None) is None:  # during migrations, before the pool opens
            with self._errors():
                return list(_Conn(self._migration_conn).execute(sql, params).fetchall())
        return super().query(sql, params)
