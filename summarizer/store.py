"""The SQLite store: documents, per-article results, briefs, runs, LLM calls, deliveries,
API jobs and seen chat events. One file, shared by the CLI, cron, the HTTP API and the bot.

Migrations are an append-only list of named steps; each runs once, in its own transaction,
and is recorded in `_migrations`. Never edit or reorder a step that has shipped: add one.

The database runs in WAL mode with synchronous=NORMAL: a run killed half-way loses at
most its last uncommitted write, and never leaves the file corrupt. Every write is its own
short transaction, so a re-run resumes from whatever the killed run finished.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from summarizer.errors import ConfigError

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE documents (
            sha256 TEXT PRIMARY KEY, url TEXT, path TEXT, title TEXT, published TEXT,
            text TEXT NOT NULL, first_seen TEXT NOT NULL
        );
        CREATE TABLE extractions (
            doc_sha256 TEXT NOT NULL, cache_key TEXT NOT NULL, brief_json TEXT NOT NULL,
            created_at TEXT NOT NULL, PRIMARY KEY (doc_sha256, cache_key)
        );
        CREATE TABLE runs (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, day TEXT, started_at TEXT NOT NULL,
            finished_at TEXT, status TEXT NOT NULL, detail_json TEXT, error TEXT, brief_id TEXT
        );
        CREATE INDEX runs_started ON runs (started_at);
        CREATE TABLE briefs (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL, title TEXT,
            day TEXT, run_id TEXT, body_json TEXT NOT NULL
        );
        CREATE INDEX briefs_created ON briefs (created_at);
        CREATE TABLE llm_calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, key TEXT, model TEXT,
            status INTEGER, tokens_in INTEGER, tokens_out INTEGER, cost_usd REAL,
            latency_ms REAL, replayed INTEGER, created_at TEXT NOT NULL
        );
        CREATE TABLE deliveries (
            day TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL, brief_id TEXT,
            updated_at TEXT NOT NULL, PRIMARY KEY (day, target)
        );
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, request_json TEXT NOT NULL, brief_id TEXT, error TEXT,
            owner TEXT
        );
        CREATE TABLE seen_events (
            source TEXT NOT NULL, event_id TEXT NOT NULL, seen_at TEXT NOT NULL,
            PRIMARY KEY (source, event_id)
        );
        """,
    ),
    (
        # (Numbered 0003: the PostgreSQL store's branch adds a 0002 of its own; written in
        # SQL both engines share, so it moves there as it is.)
        # The API's side: who owns a brief (a hash of its API key, never the key), which
        # document and settings made it (so a resubmission reuses it), the front door that
        # paid for each LLM call, and job leases (workers with a heartbeat) plus each job's
        # per-document results, written as each document finishes.
        "0003_api_owners_leases_results",
        """
        ALTER TABLE briefs ADD COLUMN owner TEXT;
        ALTER TABLE briefs ADD COLUMN source_key TEXT;
        CREATE INDEX briefs_source ON briefs (owner, source_key);
        ALTER TABLE llm_calls ADD COLUMN origin TEXT;
        ALTER TABLE jobs ADD COLUMN worker TEXT;
        CREATE TABLE workers (
            id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
            started_at TEXT NOT NULL, heartbeat REAL NOT NULL
        );
        CREATE TABLE job_results (
            job_id TEXT NOT NULL, position INTEGER NOT NULL, source TEXT NOT NULL,
            brief_id TEXT, error_type TEXT, error TEXT, PRIMARY KEY (job_id, position)
        );
        """,
    ),
]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


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


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # The API serves from worker threads; a lock keeps writes one at a time.
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{path}: cannot open the store ({exc}); check --store") from None
        self._lock = threading.RLock()
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{path}: not a summarizer store ({exc}); move it aside") from None

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:
            yield self._db

    def _migrate(self) -> None:
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, at TEXT)")
            done = {r[0] for r in db.execute("SELECT name FROM _migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self._tx() as db:
                for statement in filter(str.strip, sql.split(";")):
                    db.execute(statement)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, _now()))

    # documents and per-article results ------------------------------------------------

    def put_document(self, doc: Any) -> None:
        published = doc.published.isoformat() if doc.published else None
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                (doc.sha256, doc.url, doc.path, doc.title, published, doc.text, _now()),
            )

    def get_extraction(self, doc_sha256: str, cache_key: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT brief_json FROM extractions WHERE doc_sha256 = ? AND cache_key = ?",
                (doc_sha256, cache_key),
            ).fetchone()
        return None if row is None else str(row[0])

    def put_extraction(self, doc_sha256: str, cache_key: str, brief_json: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO extractions VALUES (?, ?, ?, ?)",
                (doc_sha256, cache_key, brief_json, _now()),
            )

    # runs, briefs and LLM calls -------------------------------------------------------

    def start_run(self, kind: str, day: str | None, detail: dict[str, Any]) -> str:
        run_id = new_id()
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (id, kind, day, started_at, status, detail_json) "
                "VALUES (?, ?, ?, ?, 'running', ?)",
                (run_id, kind, day, _now(), json.dumps(detail, default=str)),
            )
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
        API); `source_key` names the document and settings, for `find_brief`."""
        brief_id = new_id()
        with self._tx() as db:
            db.execute(
                "INSERT INTO briefs (id, kind, created_at, title, day, run_id, body_json, owner, "
                "source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (brief_id, kind, _now(), title, day, run_id, body_json, owner, source_key),
            )
        return brief_id

    def get_brief_owned(self, brief_id: str) -> tuple[str, str, str | None] | None:
        """(kind, body_json, owner), or None. owner None: made outside the API."""
        with self._lock:
            row = self._db.execute(
                "SELECT kind, body_json, owner FROM briefs WHERE id = ?", (brief_id,)
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), row[2])

    def find_brief(self, owner: str, source_key: str) -> tuple[str, str] | None:
        """(id, body_json) of the newest brief `owner` made from the same document with
        the same settings, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, body_json FROM briefs WHERE owner = ? AND source_key = ? "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (owner, source_key),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def get_brief(self, brief_id: str) -> tuple[str, str] | None:
        """(kind, body_json), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT kind, body_json FROM briefs WHERE id = ?", (brief_id,)
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def list_briefs(self, limit: int = 20) -> list[Row]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, created_at, title, day FROM briefs "
                "ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            Row(r["id"], r["kind"], r["created_at"], "stored", r["title"], r["day"]) for r in rows
        ]

    def list_runs(self, limit: int = 20) -> list[Row]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, started_at, status, day, error, brief_id FROM runs "
                "ORDER BY started_at DESC, rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            Row(
                r["id"],
                r["kind"],
                r["started_at"],
                r["status"],
                r["brief_id"],
                r["day"],
                r["error"],
            )
            for r in rows
        ]

    def record_calls(
        self, run_id: str | None, records: Any, price: Any, origin: str = "daily"
    ) -> None:
        """Store CallRecords; `price(model, tokens_in, tokens_out)` gives each call's cost.
        `origin` is the front door that paid: daily, brief (the CLI), api or slack."""
        rows = [
            (run_id, r.key, r.model, r.status, r.tokens_in, r.tokens_out,
             0.0 if r.replayed else price(r.model, r.tokens_in, r.tokens_out),
             r.latency_ms, int(r.replayed), _now(), origin)
            for r in records
        ]  # fmt: skip
        if rows:
            with self._tx() as db:
                db.executemany(
                    "INSERT INTO llm_calls (run_id, key, model, status, tokens_in, tokens_out, "
                    "cost_usd, latency_ms, replayed, created_at, origin) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )

    def spend(self) -> list[tuple[str, int, int, int, float | None]]:
        """LLM spend by front door: (origin, calls, tokens in, tokens out, cost in USD;
        None when no call had a known price)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT COALESCE(origin, 'daily'), COUNT(*), SUM(tokens_in), SUM(tokens_out), "
                "SUM(cost_usd) FROM llm_calls GROUP BY 1 ORDER BY 1"
            ).fetchall()
        return [(str(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0), r[4]) for r in rows]

    # deliveries: at most once ---------------------------------------------------------

    def claim_delivery(self, day: str, target: str, *, force: bool = False) -> str | None:
        """Claim the right to deliver `day` to `target`. Returns None when claimed, else the
        existing status ('sent', or 'pending' when an earlier run died mid-send: whether
        that message went out is unknown, so it is not sent again without force)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT status FROM deliveries WHERE day = ? AND target = ?", (day, target)
            ).fetchone()
            if row is not None and not force:
                return str(row[0])
            db.execute(
                "INSERT OR REPLACE INTO deliveries VALUES (?, ?, 'pending', NULL, ?)",
                (day, target, _now()),
            )
        return None

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

    # API jobs ------------------------------------------------------------------------
    #
    # A job runs in the process that accepted it. That process is a `worker`: a row with
    # its host, pid and a heartbeat it renews while it lives. A job is failed by someone
    # else only when its worker is gone (`reap_jobs`); each document's result is written
    # the moment it is known (`set_job_result`), so nothing finished is ever lost.

    def register_worker(self, host: str, pid: int) -> str:
        worker_id = new_id()
        with self._tx() as db:
            db.execute(
                "INSERT INTO workers (id, host, pid, started_at, heartbeat) VALUES (?, ?, ?, ?, ?)",
                (worker_id, host, pid, _now(), time.time()),
            )
        return worker_id

    def heartbeat(self, worker_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE workers SET heartbeat = ? WHERE id = ?", (time.time(), worker_id))

    def retire_worker(self, worker_id: str) -> None:
        """A worker stopping cleanly: its row goes (its jobs were finished or failed first)."""
        with self._tx() as db:
            db.execute("DELETE FROM workers WHERE id = ?", (worker_id,))

    def create_job(
        self, request_json: str, owner: str | None = None, worker: str | None = None
    ) -> str:
        job_id = new_id()
        now = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, status, created_at, updated_at, request_json, owner, "
                "worker) VALUES (?, 'queued', ?, ?, ?, ?, ?)",
                (job_id, now, now, request_json, owner, worker),
            )
        return job_id

    def update_job(
        self, job_id: str, status: str, *, brief_id: str | None = None, error: str | None = None
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status = ?, brief_id = ?, error = ?, updated_at = ? WHERE id = ?",
                (status, brief_id, error, _now(), job_id),
            )

    def finish_job(self, job_id: str, status: str, error: str | None = None) -> bool:
        """Move an unfinished job to its final status. False when it was already final
        (failed by a reaper that judged its worker gone): a job's status never flips."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET status = ?, error = ?, updated_at = ? "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (status, error, _now(), job_id),
            )
        return cur.rowcount == 1

    def set_job_result(
        self, job_id: str, position: int, source: str, *, brief_id: str | None = None,
        error_type: str | None = None, error: str | None = None,
    ) -> None:  # fmt: skip
        with self._tx() as db:
            db.execute(
                "INSERT INTO job_results (job_id, position, source, brief_id, error_type, error) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, position) DO UPDATE SET "
                "source = excluded.source, brief_id = excluded.brief_id, "
                "error_type = excluded.error_type, error = excluded.error",
                (job_id, position, source, brief_id, error_type, error),
            )

    def job_results(self, job_id: str) -> list[dict[str, Any]]:
        """Each finished document of a job, in request order: source, brief_id or
        error_type and error."""
        with self._lock:
            rows = self._db.execute(
                "SELECT position, source, brief_id, error_type, error FROM job_results "
                "WHERE job_id = ? ORDER BY position",
                (job_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else dict(row)

    def reap_jobs(self, lease_seconds: float, host: str, reason: str) -> int:
        """Fail the unfinished jobs whose worker is gone: its heartbeat is older than
        `lease_seconds`, or it ran on this `host` under a pid that no longer exists, or it
        left no worker row (it stopped, or predates leases). Returns how many."""
        stale = time.time() - lease_seconds
        with self._tx() as db:
            rows = db.execute(
                "SELECT j.id, w.host, w.pid, w.heartbeat FROM jobs j "
                "LEFT JOIN workers w ON w.id = j.worker WHERE j.status IN ('queued', 'running')"
            ).fetchall()
            gone = [
                r["id"]
                for r in rows
                if r["heartbeat"] is None
                or r["heartbeat"] < stale
                or (r["host"] == host and not _pid_alive(int(r["pid"])))
            ]
            now = _now()
            db.executemany(
                "UPDATE jobs SET status = 'failed', error = ?, updated_at = ? "
                "WHERE id = ? AND status IN ('queued', 'running')",
                [(reason, now, job_id) for job_id in gone],
            )
            # Workers long silent are gone too; their rows only slow the join down.
            db.execute("DELETE FROM workers WHERE heartbeat < ?", (stale - lease_seconds,))
        return len(gone)

    def fail_unfinished_jobs(self, reason: str) -> int:
        """Fail every queued or running job, whoever runs it (for tools that know no
        worker is alive; the API uses `reap_jobs`)."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET status = 'failed', error = ?, updated_at = ? "
                "WHERE status IN ('queued', 'running')",
                (reason, _now()),
            )
        return cur.rowcount

    # chat events: each handled once ---------------------------------------------------

    def claim_event(self, source: str, event_id: str) -> bool:
        """True the first time (source, event_id) is seen; False for a retry or replay."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO seen_events VALUES (?, ?, ?)", (source, event_id, _now())
            )
        return cur.rowcount == 1
