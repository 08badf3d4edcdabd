"""The store interface: what the CLI, cron, the HTTP API, workers and the bot keep, behind
one class, `Store`, whatever the backend.

`Store(target)` opens the backend the target names: a path is an embedded SQLite file (the
default, one machine), a `postgresql://` URL a PostgreSQL database that several processes
and machines share. This module does not import its backends: each registers itself with
`Store` when its module is imported, and store/open.py (imported by the package) imports
them all. Both backends run the same SQL, written once in the subset the two engines share
(`?` placeholders, `ON CONFLICT`, explicit column lists); a backend supplies connections,
transactions, migrations and the translation of its engine's failures into `StorageError`
(disk full, I/O error, read-only, locked, unreachable), so a caller never sees a driver's
exception for a storage fault. What differs between backends is said by the store's
capabilities (`shared`, `database_url`, `threads`), never by callers naming an engine.

The methods are grouped by the tables they use, each group a module mixed into `Store`:
documents and results (store/documents.py), runs, briefs and LLM calls (store/runs.py),
deliveries, chat events and endpoint modes (store/deliveries.py), API jobs (store/jobs.py),
continuing stories (store/stories.py), Batch API batches (store/batches.py), shared
rate limits (store/limits.py), a brief kept with its document and calls in one
transaction (store/keep.py) and the archive the reader's site reads (store/archive.py);
store/sql.py holds what they all share.

Every write is its own short transaction, so a re-run resumes from whatever a killed run
finished. The calls are synchronous; async callers go through `AsyncStore`
(store/aio.py), which runs them off the event loop.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar

from summarizer.errors import ConfigError, StorageError
from summarizer.store.archive import ArchiveTables
from summarizer.store.batches import BatchTables
from summarizer.store.deliveries import DeliveryTables
from summarizer.store.documents import DocumentTables
from summarizer.store.jobs import JobTables
from summarizer.store.keep import KeepTables
from summarizer.store.limits import LimitTables
from summarizer.store.migrations import MIGRATIONS, Dialect
from summarizer.store.runs import Row, RunTables
from summarizer.store.sql import Connection, Cursor, _now, is_database_url, new_id
from summarizer.store.stories import StoryTables

__all__ = [
    "Connection",
    "Cursor",
    "Row",
    "Store",
    "default_store_path",
    "is_database_url",
    "new_id",
]


def default_store_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "summarizer" / "summarizer.db"


class Store(
    DocumentTables, RunTables, DeliveryTables, JobTables, StoryTables, BatchTables, LimitTables,
    KeepTables, ArchiveTables,
):  # fmt: skip
    """The store every caller uses. `Store(path)` or `Store("postgresql://...")` opens the
    matching backend (as `pathlib.Path` picks its flavour), so callers never name one.
    A backend implements the methods that raise NotImplementedError here; the rest is
    shared. (Not an ABC: mypy refuses `Store(...)` on an abstract class, and that call is
    the one way callers open a store.)"""

    label: str  # how messages name this store: a path, or a URL without its password
    dialect: Dialect
    # Capabilities: what a caller may rely on, whatever the backend.
    #: Several processes and machines share this store: the API's jobs go to its queue and
    #: its rate limits live in it. False: one process serves it (SQLite).
    shared: ClassVar[bool] = False
    #: The database URL a job queue or another process connects to; None for a file.
    database_url: str | None = None
    #: How many calls can run at once (its connections); `AsyncStore` uses that many threads.
    threads: int = 1

    # The backends, each registered by its module (see __init_subclass__).
    _backends: ClassVar[list[type[Store]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "opens" in cls.__dict__:  # a backend: `Store(target)` may pick it
            Store._backends.append(cls)

    @classmethod
    def opens(cls, target: object) -> bool:
        """Whether this backend opens `target` (each backend says so for its own)."""
        return False

    def __new__(cls, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:
            target = args[0] if args else kwargs.get("target")
            found = [b for b in Store._backends if b.opens(target)]
            if not found:
                raise ConfigError(
                    f"{target!r}: no store backend opens it; give a file path or a "
                    "postgresql:// URL"
                )
            cls = found[0]
        return super().__new__(cls)

    def __init__(self, target: Path | str, **options: Any) -> None:
        """Open the store at `target` (a backend's __init__ does the work), creating it and
        applying pending migrations. Options are the backend's (busy_timeout, pool_max)."""

    def close(self) -> None:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:
        """A connection for reads."""
        raise NotImplementedError

    def _migration_tx(self) -> AbstractContextManager[Connection]:
        """One explicit transaction that no other process's migration runs beside."""
        raise NotImplementedError

    def exclusive_tx(
        self, name: str, *, durable: bool = True
    ) -> AbstractContextManager[Connection]:
        """One write transaction that no other process's `exclusive_tx(name)` runs beside
        (on any machine sharing the store): for read-decide-write steps such as a shared
        rate-limit window. `durable=False` may lose the transaction in a server crash, in
        exchange for a commit that does not wait for the disk."""
        raise NotImplementedError

    def _storage_error(self, exc: BaseException) -> StorageError | None:
        """The engine's failure as a StorageError, or None when it is a bug (keep it)."""
        raise NotImplementedError

    def hold_lock(self, name: str) -> AbstractContextManager[bool]:
        """Try to hold the lock `name` of this store for the block, without waiting: yields
        True when held, False when another process (on any machine sharing the store)
        holds it. A holder that dies releases it. The daily run lock is `daily:DAY`."""
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        # A plain read first: opening an up-to-date store takes no write lock, so a read-only
        # store still serves `history` and `show`, and a busy one does not stall start-up.
        try:
            done = set(self.migrations_done())
        except StorageError:
            raise
        except Exception:
            done = set()  # no _migrations table yet: a new store
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            try:
                with self._migration_tx() as db:
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, at TEXT)"
                    )
                    # Checked inside the transaction: another process may have just run it.
                    if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                        continue
                    for statement in self.dialect.statements(sql):
                        db.execute(statement)
                    db.execute("INSERT INTO _migrations (name, at) VALUES (?, ?)", (name, _now()))
            except Exception as exc:
                known = self._storage_error(exc)
                cause = known.message if known else f"{type(exc).__name__}: {exc}"
                cause = cause.removeprefix(f"{self.label}: ")
                raise StorageError(
                    f"{self.label}: migration {name} failed: {cause}; it was rolled back whole "
                    "and the store is as it was before it"
                ) from None

    def migrations_done(self) -> list[str]:
        return [str(r[0]) for r in self.query("SELECT name FROM _migrations ORDER BY name")]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of a read-only query, for tools (`store migrate`'s counts) and tests."""
        with self._read() as db:
            return list(db.execute(sql, params).fetchall())
