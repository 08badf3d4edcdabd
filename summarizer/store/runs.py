"""The store's run tables: runs (a daily run, a CLI brief), the briefs they and the API
made, and every LLM call with its tokens and cost."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from summarizer.plumbing import liveness
from summarizer.store.keep import INSERT_BRIEF
from summarizer.store.sql import INSERT_CALLS, Tables, _now, call_rows, new_id


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


class RunTables(Tables):
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
        with self._one() as db:
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
        if len(rows) == 1:  # the usual case (one call per brief): one statement
            with self._one() as db:
                db.execute(INSERT_CALLS, rows[0])
        elif rows:
            with self._tx() as db:  # several: all or none
                db.executemany(INSERT_CALLS, rows)

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
