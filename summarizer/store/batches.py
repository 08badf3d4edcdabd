"""The store's tables of batches sent to a provider's Batch API (`daily --batch`, batch/).

A batch is written before it is created at the provider (status `submitting`, with its
uploaded input file), so a run killed between the two finds it and adopts the batch the
provider made instead of submitting its requests twice. It is open until collected:
`collected_at` is set, in the same transaction as its requests' answers, once the batch
has ended (completed, failed, expired or cancelled) and its files were read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from summarizer.store.sql import INSERT_CALLS, Tables, _now, call_rows


@dataclass(frozen=True)
class AnswerRow:
    """What a batch said to one request: an HTTP answer (`outcome` "answer", with its
    status and body) or none ("error", with why in `detail`)."""

    key: str
    outcome: str
    status: int | None
    body: str | None
    detail: str | None
    replayed: bool = False
    fixture: bool = False


class BatchTables(Tables):
    # batches submitted to a provider's Batch API (batch/) ------------------------------

    def add_batch(
        self, batch: str, *, scope: str, endpoint: str, model: str, input_file_id: str,
        requests: Sequence[tuple[str, str]],
    ) -> None:  # fmt: skip
        """A batch about to be created at the provider: its uploaded input file and its
        requests, (key, label) each."""
        now = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO batches (id, scope, endpoint, model, input_file_id, status, "
                "requests, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'submitting', ?, ?, ?)",
                (batch, scope, endpoint, model, input_file_id, len(requests), now, now),
            )
            db.executemany(
                "INSERT INTO batch_requests (batch, key, label) VALUES (?, ?, ?)",
                [(batch, key, label) for key, label in requests],
            )

    def set_batch(
        self, batch: str, *, status: str, batch_id: str | None = None, detail: str | None = None
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE batches SET status = ?, batch_id = COALESCE(?, batch_id), "
                "detail = COALESCE(?, detail), updated_at = ? WHERE id = ?",
                (status, batch_id, detail, _now(), batch),
            )

    def open_batches(self, scope: str) -> list[dict[str, Any]]:
        """The scope's batches not yet collected, oldest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, scope, endpoint, model, input_file_id, batch_id, status, detail, "
                "requests, created_at FROM batches WHERE scope = ? AND collected_at IS NULL "
                "ORDER BY created_at, id",
                (scope,),
            ).fetchall()
        return [dict(r) for r in rows]

    def batches(self, scope: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Batches, newest first (of one scope when given)."""
        where, params = ("WHERE scope = ? ", (scope,)) if scope else ("", ())
        with self._read() as db:
            rows = db.execute(
                "SELECT id, scope, endpoint, model, batch_id, status, detail, requests, "
                f"created_at, collected_at FROM batches {where}"
                "ORDER BY created_at DESC, id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [dict(r) for r in rows]

    def batch_count(self, scope: str) -> int:
        with self._read() as db:
            row = db.execute("SELECT COUNT(*) FROM batches WHERE scope = ?", (scope,)).fetchone()
        return int(row[0])

    def batch_requests(self, batch: str) -> list[tuple[str, str]]:
        """(key, label) of each request of a batch."""
        with self._read() as db:
            rows = db.execute(
                "SELECT key, label FROM batch_requests WHERE batch = ? ORDER BY key", (batch,)
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def collect_batch(
        self, batch: str, *, status: str, detail: str | None, answers: Sequence[AnswerRow],
        run_id: str | None = None, charges: Sequence[Any] = (), price: Any = None,
    ) -> None:  # fmt: skip
        """Each request's answer (or why it has none), the batch collected, and what its
        answers cost (CallRecords, priced by `price`, recorded under `run_id` for `history`),
        all in one transaction: a run killed here leaves the batch to collect again."""
        now = _now()
        with self._tx() as db:
            if charges:
                db.executemany(INSERT_CALLS, call_rows(run_id, charges, price, "daily"))
            db.executemany(
                "UPDATE batch_requests SET outcome = ?, status = ?, body = ?, detail = ?, "
                "replayed = ?, fixture = ? WHERE batch = ? AND key = ?",
                [
                    (a.outcome, a.status, a.body, a.detail, int(a.replayed), int(a.fixture),
                     batch, a.key)
                    for a in answers
                ],
            )  # fmt: skip
            db.execute(
                "UPDATE batches SET status = ?, detail = COALESCE(?, detail), updated_at = ?, "
                "collected_at = ? WHERE id = ?",
                (status, detail, now, now, batch),
            )

    def batch_answers(self, scope: str) -> list[AnswerRow]:
        """Every collected answer and failure of the scope's batches, oldest batch first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT r.key, r.outcome, r.status, r.body, r.detail, r.replayed, r.fixture "
                "FROM batch_requests r JOIN batches b ON b.id = r.batch "
                "WHERE b.scope = ? AND r.outcome IS NOT NULL ORDER BY b.created_at, b.id",
                (scope,),
            ).fetchall()
        return [_answer_row(r) for r in rows]

    def batch_keys_open(self, scope: str, endpoint: str) -> set[str]:
        """Keys of requests in the scope's batches still running at `endpoint`."""
        with self._read() as db:
            rows = db.execute(
                "SELECT r.key FROM batch_requests r JOIN batches b ON b.id = r.batch "
                "WHERE b.scope = ? AND b.endpoint = ? AND b.collected_at IS NULL",
                (scope, endpoint),
            ).fetchall()
        return {str(r[0]) for r in rows}

    def put_live_answer(self, scope: str, key: str, status: int, body: str) -> None:
        """An answer a batch run got live, kept for its later rounds and runs."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO batch_live (scope, key, status, body, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING",
                (scope, key, status, body, _now()),
            )

    def live_answers(self, scope: str) -> list[tuple[str, int, str]]:
        """(key, status, body) of each answer the scope's batch runs got live."""
        with self._read() as db:
            rows = db.execute(
                "SELECT key, status, body FROM batch_live WHERE scope = ?", (scope,)
            ).fetchall()
        return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


def _answer_row(r: Any) -> AnswerRow:
    def text(v: Any) -> str | None:
        return None if v is None else str(v)

    status = None if r[2] is None else int(r[2])
    return AnswerRow(str(r[0]), str(r[1]), status, text(r[3]), text(r[4]), bool(r[5]), bool(r[6]))
