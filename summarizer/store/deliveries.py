"""The store's at-most-once tables: a daily brief's delivery per destination, each chat
event handled once, and what an endpoint was found to do (`--mode auto`, probed once)."""

from __future__ import annotations

from summarizer.store.sql import Tables, _now


class DeliveryTables(Tables):
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
        with self._one() as db:
            cur = db.execute(
                "INSERT INTO seen_events (source, event_id, seen_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (source, event_id, _now()),
            )
        return cur.rowcount == 1

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
