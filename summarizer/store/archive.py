"""The store read as an archive: the days with a daily brief, the stories across days and
what each day's calls cost. The reader's site (summarizer/site/) is built from these."""

from __future__ import annotations

from typing import Any

from summarizer.store.sql import Tables


class ArchiveTables(Tables):
    def daily_days(self, since: str | None = None) -> list[dict[str, Any]]:
        """Each day that has a daily brief (its latest run's, when the day was rerun),
        newest first: day, brief id, body JSON. `since` keeps days on or after it."""
        with self._read() as db:
            rows = db.execute(
                "SELECT b.day, b.id, b.body_json FROM briefs b WHERE b.kind = 'daily' "
                "AND b.day IS NOT NULL AND b.day >= ? AND b.created_at = (SELECT MAX(c.created_at) "
                "FROM briefs c WHERE c.kind = 'daily' AND c.day = b.day) ORDER BY b.day DESC",
                (since or "",),
            ).fetchall()
        seen: set[str] = set()
        out = []
        for r in rows:  # two runs finished in the same second: the first row stands
            if r["day"] not in seen:
                seen.add(r["day"])
                out.append({"day": r["day"], "id": r["id"], "body_json": r["body_json"]})
        return out

    def story_index(self) -> list[dict[str, Any]]:
        """Every story: id, first and last day, days briefed and its latest title."""
        with self._read() as db:
            rows = db.execute(
                "SELECT s.story_id, MIN(s.first_day) AS first_day, MAX(s.day) AS last_day, "
                "COUNT(*) AS days, (SELECT t.title FROM story_days t WHERE t.story_id = "
                "s.story_id ORDER BY t.day DESC LIMIT 1) AS title FROM story_days s "
                "GROUP BY s.story_id ORDER BY MAX(s.day) DESC, s.story_id"
            ).fetchall()
        return [dict(r) for r in rows]

    def spend_by_day(self, since: str | None = None) -> list[dict[str, Any]]:
        """LLM calls per UTC day (when they were made) and front door, oldest first: calls,
        replayed calls, tokens in and out, cost in USD and how many calls had no known
        cost (tokens or price unknown: counted apart, never as 0)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT SUBSTR(created_at, 1, 10) AS day, COALESCE(origin, 'daily') AS origin, "
                "COUNT(*) AS calls, SUM(CASE WHEN replayed = 1 THEN 1 ELSE 0 END) AS replayed, "
                "SUM(tokens_in) AS tokens_in, SUM(tokens_out) AS tokens_out, "
                "SUM(cost_usd) AS cost_usd, "
                "SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unknown_cost "
                "FROM llm_calls WHERE created_at >= ? GROUP BY 1, 2 ORDER BY 1, 2",
                (since or "",),
            ).fetchall()
        return [
            {
                "day": str(r["day"]),
                "origin": str(r["origin"]),
                "calls": int(r["calls"]),
                "replayed": int(r["replayed"] or 0),
                "tokens_in": None if r["tokens_in"] is None else int(r["tokens_in"]),
                "tokens_out": None if r["tokens_out"] is None else int(r["tokens_out"]),
                "cost_usd": None if r["cost_usd"] is None else float(r["cost_usd"]),
                "unknown_cost": int(r["unknown_cost"] or 0),
            }
            for r in rows
        ]
