"""The store's rate-limit tables, shared by every process on one store: the API's token
buckets (`rate_buckets`, service/shared_limits.py) and the provider's send window
(`rate_events`, llm/shared_window.py).

Each decision is one short transaction under a lock named after what it decides on
(`exclusive_tx`: a PostgreSQL advisory lock, SQLite's write lock), on the database
server's clock, which every machine sharing the store reads alike. The commit does not
wait for the disk: a decision lost in a server crash only lets one window be a little
fuller. What to decide is the caller's (a function given the rows); the SQL is here.
"""

from __future__ import annotations

from collections.abc import Callable

from summarizer.store.sql import Connection, Tables

#: decide(now, send times, [(charge time, tokens)]) -> seconds to wait (<= 0: send now).
Decide = Callable[[float, list[float], list[tuple[float, int]]], float]


class LimitTables(Tables):
    def _clock(self, db: Connection) -> float:
        """The database server's clock, in epoch seconds."""
        return float(db.execute(self.dialect.now_sql).fetchone()[0])

    # the API's token buckets -----------------------------------------------------------

    def _bucket(
        self, db: Connection, name: str, full: float, full_after: float
    ) -> tuple[float, float, bool]:
        """(server time now, the tokens in bucket `name` now, whether it has a row), in one
        round trip."""
        row = db.execute(
            f"SELECT {self.dialect.now_expr}, "
            "(SELECT tokens FROM rate_buckets WHERE name = ?), "
            "(SELECT at FROM rate_buckets WHERE name = ?)",
            (name, name),
        ).fetchone()
        now = float(row[0])
        if row[1] is None:
            return now, full, False
        return now, min(full, float(row[1]) + (now - float(row[2])) * full / full_after), True

    def bucket_tokens(self, name: str, full: float, full_after: float) -> float:
        """The tokens in bucket `name` now (it refills to `full` in `full_after` seconds),
        read without taking any: one query, no lock."""
        with self._read() as db:
            return self._bucket(db, name, full, full_after)[1]

    def take_from_bucket(
        self, kind: str, name: str, full: float, full_after: float,
        take: Callable[[float], float | None],
    ) -> float:  # fmt: skip
        """The tokens in bucket `name` now, before `take(tokens)` says what to leave in it
        (None: as it is). Buckets of `kind` untouched for `full_after` seconds are full
        again, so their rows are deleted."""
        with self.exclusive_tx(f"bucket:{kind}", durable=False) as db:
            now, tokens, kept = self._bucket(db, name, full, full_after)
            new = not kept
            left = take(tokens)
            if left is not None:
                db.execute(
                    "INSERT INTO rate_buckets (name, tokens, at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
                    (name, left, now),
                )
            # Rows of buckets full again are swept when a new caller's row is added, not on
            # every decision: only new rows grow the table, which so stays as small as the
            # set of callers of the last minute.
            if new and left is not None:
                db.execute(
                    "DELETE FROM rate_buckets WHERE name LIKE ? AND at < ?",
                    (f"{kind}:%", now - full_after),
                )
        return tokens

    # the provider's send window --------------------------------------------------------

    def window_send(
        self, scope: str, keep: float, tokens: int, decide: Decide
    ) -> tuple[float, int | None]:
        """Decide one send in window `scope`: rows older than `keep` seconds go, `decide`
        reads the rest; a send that may go now is logged with its `tokens`. Returns (wait,
        the logged send's id, or None when it must wait)."""
        with self.exclusive_tx(f"rate:{scope}", durable=False) as db:
            now = self._clock(db)
            db.execute("DELETE FROM rate_events WHERE scope = ? AND at <= ?", (scope, now - keep))
            rows = db.execute(
                "SELECT at, requests, tokens FROM rate_events WHERE scope = ? ORDER BY at",
                (scope,),
            ).fetchall()
            sent = [float(r[0]) for r in rows if r[1]]
            charges = [(float(r[0]), int(r[2])) for r in rows if r[2]]
            wait = decide(now, sent, charges)
            if wait > 0:
                return wait, None
            row = db.execute(
                "INSERT INTO rate_events (scope, at, requests, tokens) "
                "VALUES (?, ?, 1, ?) RETURNING id",
                (scope, now, tokens),
            ).fetchone()
            return wait, int(row[0])

    def window_charge(
        self, scope: str, tokens: int, send_id: int | None, since_sent: float | None
    ) -> None:
        """A send's answer is in: send `send_id` is stamped again with when it left (now,
        less `since_sent` seconds; never earlier than it was), and `tokens` it used beyond
        its estimate are logged."""
        with self.exclusive_tx(f"rate:{scope}", durable=False) as db:
            now = self._clock(db)
            if send_id is not None:
                at = now - since_sent if since_sent is not None else now
                db.execute(
                    "UPDATE rate_events SET at = ? WHERE id = ? AND at < ?", (at, send_id, at)
                )
            if tokens > 0:
                db.execute(
                    "INSERT INTO rate_events (scope, at, requests, tokens) VALUES (?, ?, 0, ?)",
                    (scope, now, tokens),
                )
