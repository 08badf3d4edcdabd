"""The embedded backend: one SQLite file, the default for a laptop or a single cron host.

The database runs in WAL mode with synchronous=NORMAL: a run killed half-way loses at most
its last uncommitted write, and never leaves the file corrupt. Python's sqlite3 opens no
transaction before DDL, so each migration step is wrapped in an explicit `BEGIN IMMEDIATE`
... `COMMIT`: the step and its `_migrations` row commit together or not at all, and the
write lock taken at BEGIN keeps a second process from running the same step beside it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from summarizer.errors import ConfigError, StorageError
from summarizer.store.base import Store
from summarizer.store.migrations import SQLITE
from summarizer.store.sql import Connection, is_database_url

BUSY_TIMEOUT_S = 30.0

# Primary result codes (the low byte of sqlite_errorcode): https://sqlite.org/rescode.html
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = (
    3, 5, 6, 8, 10, 11, 13, 14, 26,
)  # fmt: skip


def describe(exc: BaseException, label: str) -> StorageError | None:
    """A storage fault reported by SQLite, as what it is; None for anything else (a bug)."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    what = {
        _FULL: "the disk is full (or the store reached its size limit); free some space and "
        "run again: nothing already stored is lost",
        _IOERR: f"I/O error reading or writing the store ({exc}); check the disk and its "
        "mount, then run again",
        _READONLY: "the store is read-only; give this user write access to the file and its "
        "folder, or point --store elsewhere",
        _PERM: "permission denied on the store; give this user access to the file and its folder",
        _BUSY: f"the store stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s; run "
        "again when that process is done",
        _LOCKED: "the store is locked by another connection; run again when it is done",
        _CORRUPT: f"the store file is damaged ({exc}); restore it from a backup",
        _CANTOPEN: f"cannot open the store file ({exc}); check --store and the folder's permissions",
    }.get(code)
    return None if what is None else StorageError(f"{label}: {what}")


class SQLiteStore(Store):
    dialect = SQLITE

    @classmethod
    def opens(cls, target: object) -> bool:
        return isinstance(target, str | os.PathLike) and not is_database_url(target)

    def __init__(self, target: Path | str, *, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        path = Path(target)
        self.path = path
        self.label = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # The API serves from worker threads; a lock keeps writes one at a time.
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=busy_timeout)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{path}: cannot open the store ({exc}); check --store") from None
        self._lock = threading.RLock()
        self._db.row_factory = sqlite3.Row
        try:
            try:
                self._wal(busy_timeout)
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA foreign_keys=ON")
            except sqlite3.DatabaseError as exc:
                code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
                if code == _NOTADB:
                    raise ConfigError(
                        f"{path}: not a summarizer store ({exc}); point --store at another file"
                    ) from None
                raise self._storage_error(exc) or exc from None
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def _wal(self, busy_timeout: float) -> None:
        """Switch to WAL. Two processes creating a new store at once can get SQLITE_BUSY
        here at once, without SQLite's busy handler being consulted: retry, within the
        same time budget as any other lock wait."""
        deadline = time.monotonic() + busy_timeout
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
                if code != _BUSY or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _storage_error(self, exc: BaseException) -> StorageError | None:
        return describe(exc, self.label)

    @contextmanager
    def hold_lock(self, name: str) -> Iterator[bool]:
        # A lock file beside the store (one per name): the OS frees it when the holder dies.
        from filelock import FileLock, Timeout

        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        lock = FileLock(f"{self.path}.{digest}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            known = self._storage_error(exc)
            if known is None:
                raise
            raise known from None

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._lock, self._errors(), self._db:
            yield self._db

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._lock, self._errors():
            yield self._db

    @contextmanager
    def exclusive_tx(self, name: str, *, durable: bool = True) -> Iterator[Connection]:
        # BEGIN IMMEDIATE takes SQLite's one write lock: exclusive for every name at once.
        with self._errors(), self._migration_tx() as db:
            yield db

    @contextmanager
    def _migration_tx(self) -> Iterator[Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()
