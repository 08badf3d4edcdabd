"""The store interface: documents, per-article results, briefs, runs, LLM calls, deliveries,
API jobs and seen chat events, shared by the CLI, cron, the HTTP API and the bot.

`Store` is what callers depend on. `Store(target)` opens the backend the target names: a
path is an embedded SQLite file (the default, one machine), a `postgresql://` URL a
PostgreSQL database that several processes and machines share. Both backends run the SQL
below, written once in the subset the two engines share (`?` placeholders, `ON CONFLICT`,
explicit column lists); a backend supplies connections, transactions, migrations and the
translation of its engine's failures into `StorageError` (disk full, I/O error, read-only,
locked, unreachable), so a caller never sees a driver's exception for a storage fault.

The methods are grouped by the tables they use: this module holds documents, results,
runs, briefs, calls, deliveries and chat events; API jobs live in store/jobs.py,
continuing stories in store/stories.py, Batch API batches in store/batches.py, a brief
kept with its document and calls in one transaction in store/keep.py, and the archive the
reader's site reads in store/archive.py, mixed into `Store`; store/sql.py holds what they
all share.

Every write is its own short transaction, so a re-run resumes from whatever a killed run
finished. The calls are synchronous, and async callers run them with `asyncio.to_thread`,
so a slow disk or a distant database never stalls an event loop. Why not async methods:
the CLI's callers are synchronous, sqlite3 has no async driver (aiosqlite is a thread
too), and one interface serves both. Measured on the 2-core test machine: a brief read
takes 7 us on SQLite and 160 us on a loopback PostgreSQL (a write 12 us and 0.9 ms), and
the hop to a thread adds about 55 us, small beside a PostgreSQL round trip and beside a
network one that may take milliseconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarizer import liveness
from summarizer.errors import StorageError
from summarizer.store.archive import ArchiveTables
from summarizer.store.batches import BatchTables
from summarizer.store.jobs import JobTables
from summarizer.store.keep import (
    INSERT_BRIEF,
    INSERT_DOCUMENT,
    PUT_EXTRACTION,
    KeepTables,
    document_row,
)
from summarizer.store.migrations import MIGRATIONS, Dialect
from summarizer.store.sql import (
    INSERT_CALLS,
    Connection,
    Cursor,
    _now,
    call_rows,
    is_database_url,
    new_id,
)
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


@dataclass(frozen=True)
class Row:
    """A stored run, brief or job, as plain data for listings."""

    id: str
    kind: str
    created_at: str
    status: str
    title: str | None = None
    day: str | None = None
    detail: str | None = None


class Store(JobTables, StoryTables, BatchTables, KeepTables, ArchiveTables):
    """The store every caller uses. `Store(path)` or `Store("postgresql://...")` opens the
    matching backend (as `pathlib.Path` picks its flavour), so callers never name one.
    A backend implements the methods that raise NotImplementedError here; the rest is
    shared. (Not an ABC: mypy refuses `Store(...)` on an abstract class, and that call is
    the one way callers open a store.)"""

    label: str  # how messages name this store: a path, or a URL without its password
    dialect: Dialect

    def __new__(cls, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:
            target = args[0] if args else kwargs.get("target")
            if is_database_url(target):
                from summarizer.store.postgres import PostgresStore

                cls = PostgresStore
            else:
                from summarizer.store.sqlite import SQLiteStore

                cls = SQLiteStore
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

    # documents and per-article results ------------------------------------------------

    def put_document(self, doc: Any) -> None:
        with self._tx() as db:
            db.execute(INSERT_DOCUMENT, document_row(doc))

    def get_extraction(self, doc_sha256: str, cache_key: str) -> str | None:
        with self._read() as db:
            row = db.execute(
                "SELECT brief_json FROM extractions WHERE doc_sha256 = ? AND cache_key = ?",
                (doc_sha256, cache_key),
            ).fetchone()
        return None if row is None else str(row[0])

    def put_extraction(self, doc_sha256: str, cache_key: str, brief_json: str) -> None:
        with self._tx() as db:
            db.execute(PUT_EXTRACTION, (doc_sha256, cache_key, brief_json, _now()))

    def get_document(self, doc_sha256: str) -> dict[str, Any] | None:
        """A stored document's fields (text, title, url, path, published), or None."""
        with self._read() as db:
            row = db.execute(
                "SELECT text, title, url, path, published FROM documents WHERE sha256 = ?",
                (doc_sha256,),
            ).fetchone()
        return None if row is None else dict(row)

    def get_extractions(self, cache_key: str, doc_sha256s: Sequence[str]) -> dict[str, str]:
        """sha256 -> result, for those of the documents that have one under `cache_key`."""
        if not doc_sha256s:
            return {}
        marks = ", ".join("?" * len(doc_sha256s))
        with self._read() as db:
            rows = db.execute(
                "SELECT doc_sha256, brief_json FROM extractions "
                f"WHERE cache_key = ? AND doc_sha256 IN ({marks})",
                (cache_key, *doc_sha256s),
            ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    # articles briefed elsewhere (daily --on-workers) ------------------------------------

    def put_map_failure(self, run_id: str, doc_sha256: str, error: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO map_failures (run_id, doc_sha256, error) VALUES (?, ?, ?) "
                "ON CONFLICT (run_id, doc_sha256) DO UPDATE SET error = excluded.error",
                (run_id, doc_sha256, error),
            )

    def map_failures(self, run_id: str) -> dict[str, str]:
        """sha256 -> why a worker could not brief it, for one run."""
        with self._read() as db:
            rows = db.execute(
                "SELECT doc_sha256, error FROM map_failures WHERE run_id = ?", (run_id,)
            ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def run_spend(self, run_id: str) -> tuple[int, int | None, int | None]:
        """(calls, tokens in, tokens out) recorded so far for a run; tokens None (unknown)
        when a call was stored without usage."""
        with self._read() as db:
            row = db.execute(
                "SELECT COUNT(*), SUM(tokens_in), SUM(tokens_out), COUNT(tokens_in) "
                "FROM llm_calls WHERE run_id = ?",
                (run_id,),
            ).fetchone()
        if int(row[3]) < int(row[0]):
            return int(row[0]), None, None
        return int(row[0]), int(row[1] or 0), int(row[2] or 0)

    # runs, briefs and LLM calls -------------------------------------------------------

    def start_run(self, kind: str, day: str | None, detail: dict[str, Any]) -> str:
        run_id = new_id()
        owner = liveness.me()
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (id, kind, day, started_at, status, detail_json, pid, host, "
                "proc_start) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)",
                (run_id, kind, day, _now(), json.dumps(detail, default=str), owner.pid,
                 owner.host, owner.start),
            )  # fmt: skip
        return run_id

    def finish_run(
        self, run_id: str, status: str, *, error: str | None = None, brief_id: str | None = None
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, error = ?, brief_id = ? WHERE id = ?",
                (status, _now(), error, brief_id, run_id),
            )

    def put_brief(
        self, kind: str, body_json: str, *, title: str | None, day: str | None = None,
        run_id: str | None = None, owner: str | None = None, source_key: str | None = None,
    ) -> str:  # fmt: skip
        """Store a brief. `owner` is the API key id that made it (None: made outside the
        API); `source_key` names the document, kind and settings, for `find_brief`."""
        brief_id = new_id()
        with self._tx() as db:
            db.execute(
                INSERT_BRIEF,
                (brief_id, kind, _now(), title, day, run_id, body_json, owner, source_key),
            )
        return brief_id

    def get_brief_owned(self, brief_id: str) -> tuple[str, str, str | None] | None:
        """(kind, body_json, owner), or None. owner None: made outside the API."""
        with self._read() as db:
            row = db.execute(
                "SELECT kind, body_json, owner FROM briefs WHERE id = ?", (brief_id,)
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), row[2])

    def find_brief(self, owner: str, source_key: str) -> tuple[str, str, str] | None:
        """(id, kind, body_json) of the newest brief `owner` made from the same document as
        the same kind with the same settings, or None."""
        with self._read() as db:
            row = db.execute(
                "SELECT id, kind, body_json FROM briefs WHERE owner = ? AND source_key = ? "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (owner, source_key),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]))

    def get_brief(self, brief_id: str) -> tuple[str, str] | None:
        """(kind, body_json), or None."""
        with self._read() as db:
            row = db.execute(
                "SELECT kind, body_json FROM briefs WHERE id = ?", (brief_id,)
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def list_briefs(self, limit: int = 20, kind: str | None = None) -> list[Row]:
        """Newest first; `kind` keeps one kind ("brief" includes the older "article" rows)."""
        kinds = ["brief", "article"] if kind == "brief" else [kind]
        where = f"WHERE kind IN ({', '.join('?' * len(kinds))}) " if kind else ""
        with self._read() as db:
            rows = db.execute(
                f"SELECT id, kind, created_at, title, day FROM briefs {where}"
                "ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (*(kinds if kind else ()), limit),
            ).fetchall()
        return [
            Row(r["id"], r["kind"], r["created_at"], "stored", r["title"], r["day"]) for r in rows
        ]

    def list_runs(self, limit: int = 20) -> list[Row]:
        """Newest first. A run still marked running whose process is gone (killed with -9,
        or the machine went down) is listed as 'interrupted'."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, kind, started_at, status, day, error, brief_id, pid, host, proc_start "
                "FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        out = []
        for r in rows:
            status, error = r["status"], r["error"]
            if status == "running":
                alive = liveness.state(r["pid"], r["host"], r["proc_start"])
                if alive == "gone":
                    status = "interrupted"
                    error = f"process {r['pid']} ended without finishing the run"
                elif alive == "alive":
                    error = f"process {r['pid']}"
                elif r["host"]:
                    error = f"process {r['pid']} on host {r['host']}"
            out.append(
                Row(r["id"], r["kind"], r["started_at"], status, r["brief_id"], r["day"], error)
            )
        return out

    def record_calls(
        self, run_id: str | None, records: Any, price: Any, origin: str = "daily"
    ) -> None:
        """Store CallRecords; `price(model, tokens_in, tokens_out, cached, batched=)` gives
        each call's cost. `origin` is the front door that paid: daily, brief (the CLI), api
        or slack. A completion without usage is stored with NULL tokens and cost: unknown,
        not 0."""
        rows = call_rows(run_id, records, price, origin)
        if rows:
            with self._tx() as db:
                db.executemany(INSERT_CALLS, rows)

    # endpoint modes (--mode auto) ----------------------------------------------------

    def get_endpoint_mode(self, endpoint: str, model: str) -> tuple[str, str] | None:
        """(mode, system_prompt) found by an earlier probe, or None."""
        with self._read() as db:
            row = db.execute(
                "SELECT mode, system_prompt FROM endpoint_modes WHERE endpoint = ? AND model = ?",
                (endpoint, model),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def put_endpoint_mode(self, endpoint: str, model: str, mode: str, system_prompt: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO endpoint_modes (endpoint, model, mode, system_prompt, probed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (endpoint, model) DO UPDATE SET "
                "mode = excluded.mode, system_prompt = excluded.system_prompt, "
                "probed_at = excluded.probed_at",
                (endpoint, model, mode, system_prompt, _now()),
            )

    def forget_endpoint_mode(self, endpoint: str, model: str) -> None:
        with self._tx() as db:
            db.execute(
                "DELETE FROM endpoint_modes WHERE endpoint = ? AND model = ?", (endpoint, model)
            )

    # deliveries: at most once ---------------------------------------------------------
    def spend(self) -> list[tuple[str, int, int, int, float | None, int]]:
        """LLM spend by front door: (origin, calls, tokens in, tokens out, cost in USD,
        calls without usage). Tokens and cost sum the calls that reported them; cost is
        None when no call had a known price; the last count says how many calls are not
        in those sums (their usage is unknown, not 0)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT COALESCE(origin, 'daily'), COUNT(*), SUM(tokens_in), SUM(tokens_out), "
                "SUM(cost_usd), COUNT(*) - COUNT(tokens_in) FROM llm_calls GROUP BY 1 ORDER BY 1"
            ).fetchall()
        return [
            (str(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0), r[4], int(r[5])) for r in rows
        ]

    # deliveries: at most once per day and destination ---------------------------------

    def claim_delivery(self, day: str, target: str, *, force: bool = False) -> str | None:
        """Claim the right to deliver `day` to `target` (a destination key, never a secret:
        daily/deliver.py names a webhook by a hash of its URL). Returns None when claimed,
        else the existing status ('sent', or 'pending' when an earlier run died mid-send:
        whether that message went out is unknown, so it is not sent again without force)."""
        now = _now()
        with self._tx() as db:
            if force:
                db.execute(
                    "INSERT INTO deliveries (day, target, status, brief_id, updated_at) "
                    "VALUES (?, ?, 'pending', NULL, ?) ON CONFLICT (day, target) DO UPDATE SET "
                    "status = 'pending', brief_id = NULL, updated_at = excluded.updated_at",
                    (day, target, now),
                )
                return None
            # One atomic claim: of two processes racing, exactly one inserts the row.
            claimed = db.execute(
                "INSERT INTO deliveries (day, target, status, brief_id, updated_at) "
                "VALUES (?, ?, 'pending', NULL, ?) ON CONFLICT DO NOTHING",
                (day, target, now),
            ).rowcount
            if claimed == 1:
                return None
            row = db.execute(
                "SELECT status FROM deliveries WHERE day = ? AND target = ?", (day, target)
            ).fetchone()
        return "pending" if row is None else str(row[0])

    def delivery_status(self, day: str, target: str) -> str | None:
        with self._read() as db:
            row = db.execute(
                "SELECT status FROM deliveries WHERE day = ? AND target = ?", (day, target)
            ).fetchone()
        return None if row is None else str(row[0])

    def mark_delivered(self, day: str, target: str, brief_id: str | None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE deliveries SET status = 'sent', brief_id = ?, updated_at = ? "
                "WHERE day = ? AND target = ?",
                (brief_id, _now(), day, target),
            )

    def release_delivery(self, day: str, target: str) -> None:
        """The send failed before anything went out: a later run may try again."""
        with self._tx() as db:
            db.execute(
                "DELETE FROM deliveries WHERE day = ? AND target = ? AND status = 'pending'",
                (day, target),
            )

    # chat events: each handled once ---------------------------------------------------

    def claim_event(self, source: str, event_id: str) -> bool:
        """True the first time (source, event_id) is seen; False for a retry or replay."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO seen_events (source, event_id, seen_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (source, event_id, _now()),
            )
        return cur.rowcount == 1
