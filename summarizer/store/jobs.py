"""The store's API job tables: jobs, the workers (processes) that run them, and each job's
per-document results."""

from __future__ import annotations

import time
from typing import Any

from summarizer.plumbing import liveness
from summarizer.store.sql import Tables, _now, new_id


class JobTables(Tables):
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
        with self._one() as db:
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
        with self._read() as db:
            rows = db.execute(
                "SELECT position, source, brief_id, error_type, error FROM job_results "
                "WHERE job_id = ? ORDER BY position",
                (job_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
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
                or (r["host"] == host and liveness.pid_alive(int(r["pid"])) is False)
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
