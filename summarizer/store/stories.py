"""The store's tables of stories that continue across daily runs, and their open
questions (daily/follow.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from summarizer.store.sql import Tables, _now


class StoryTables(Tables):
    # stories that continue, and their open questions (daily/follow.py) ---------------

    def replace_story_days(self, day: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """The stories of `day`'s brief: (story_id, first_day, title, brief_json) each. A
        rerun of the day replaces them, so a story of an earlier run of it does not linger."""
        now = _now()
        with self._tx() as db:
            db.execute("DELETE FROM story_days WHERE day = ?", (day,))
            if rows:
                db.executemany(
                    "INSERT INTO story_days (story_id, day, first_day, title, brief_json, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [(sid, day, first, title, body, now) for sid, first, title, body in rows],
                )

    def story_candidates(self, before: str, since: str) -> list[dict[str, Any]]:
        """Each story's latest day in [since, before): what a run on `before` may continue.
        Later days are never read, so a backfill does not see the future."""
        with self._read() as db:
            rows = db.execute(
                "SELECT story_id, day, first_day, brief_json FROM story_days s "
                "WHERE day >= ? AND day < ? AND day = (SELECT MAX(day) FROM story_days t "
                "WHERE t.story_id = s.story_id AND t.day < ?) ORDER BY day, story_id",
                (since, before, before),
            ).fetchall()
        return [dict(r) for r in rows]

    def story_days(self, story_id: str, before: str | None = None) -> list[dict[str, Any]]:
        """A story's briefs, oldest first (only days before `before` when given)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT story_id, day, first_day, title, brief_json FROM story_days "
                "WHERE story_id = ? AND day < ? ORDER BY day",
                (story_id, before or "9999-99-99"),
            ).fetchall()
        return [dict(r) for r in rows]

    def questions(self, story_id: str | None = None) -> list[dict[str, Any]]:
        """Every question in the ledger (of one story), oldest first."""
        where, params = ("WHERE story_id = ? ", (story_id,)) if story_id else ("", ())
        with self._read() as db:
            rows = db.execute(
                "SELECT id, story_id, question, first_day, answer, answered_day, quote, source, "
                f"dropped_day, reason FROM questions {where}ORDER BY first_day, id",
                params,
            ).fetchall()
        return [dict(r) for r in rows]

    def add_question(self, qid: str, story_id: str, question: str, day: str) -> None:
        """Ask a question on `day`; asked again (a rerun, or a backfill of an earlier day)
        it keeps its id and the earliest day."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO questions (id, story_id, question, first_day, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "first_day = excluded.first_day, updated_at = excluded.updated_at "
                "WHERE excluded.first_day < questions.first_day",
                (qid, story_id, question, day, _now()),
            )

    def answer_question(
        self, qid: str, day: str, *, answer: str, quote: str, source: str | None
    ) -> None:
        """Answered on `day` (a question asked before it). The same answer again (a rerun)
        changes nothing; a backfill of an earlier day that answers it moves the answer there."""
        with self._tx() as db:
            db.execute(
                "UPDATE questions SET answer = ?, answered_day = ?, quote = ?, source = ?, "
                "updated_at = ? WHERE id = ? AND first_day < ? "
                "AND (answered_day IS NULL OR answered_day >= ?)",
                (answer, day, quote, source, _now(), qid, day, day),
            )

    def drop_question(self, qid: str, day: str, reason: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE questions SET dropped_day = ?, reason = ?, updated_at = ? "
                "WHERE id = ? AND first_day < ? AND (dropped_day IS NULL OR dropped_day >= ?)",
                (day, reason, _now(), qid, day, day),
            )
