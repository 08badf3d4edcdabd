"""A brief and everything it took, written in one transaction (briefing/keep.py's path):
the LLM calls, the document, and the result, as a per-article result, a brief, or both."""

from __future__ import annotations

from typing import Any

from summarizer.store.sql import INSERT_CALLS, Tables, _now, call_rows, new_id

INSERT_DOCUMENT = (
    "INSERT INTO documents (sha256, url, path, title, published, text, first_seen) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
PUT_EXTRACTION = (
    "INSERT INTO extractions (doc_sha256, cache_key, brief_json, created_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (doc_sha256, cache_key) DO UPDATE SET "
    "brief_json = excluded.brief_json, created_at = excluded.created_at"
)
INSERT_BRIEF = (
    "INSERT INTO briefs (id, kind, created_at, title, day, run_id, body_json, owner, "
    "source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def document_row(doc: Any) -> tuple[Any, ...]:
    published = doc.published.isoformat() if doc.published else None
    return (doc.sha256, doc.url, doc.path, doc.title, published, doc.text, _now())


class KeepTables(Tables):
    def keep_brief(
        self, doc: Any, body_json: str | None, *, records: Any, price: Any, origin: str,
        run_id: str | None = None, result_key: str | None = None, kind: str | None = None,
        title: str | None = None, owner: str | None = None, source_key: str | None = None,
    ) -> str | None:  # fmt: skip
        """One document's brief and what it took, in one transaction: the LLM calls
        (CallRecords, priced as in `record_calls`), the document, and the result, kept
        under `result_key` among the per-article results when given, and as a brief of
        `kind` when given (its id is returned; `owner` and `source_key` as in
        `put_brief`). `body_json` None: no brief came of the calls, only they are kept.
        All or nothing: a write that fails leaves none of it behind."""
        rows = call_rows(run_id, records, price, origin)
        brief_id = new_id() if kind is not None and body_json is not None else None
        now = _now()
        with self._tx() as db:
            if rows:
                db.executemany(INSERT_CALLS, rows)
            if body_json is None:
                return None
            db.execute(INSERT_DOCUMENT, document_row(doc))
            if result_key is not None:
                db.execute(PUT_EXTRACTION, (doc.sha256, result_key, body_json, now))
            if brief_id is not None:
                db.execute(
                    INSERT_BRIEF,
                    (brief_id, kind, now, title, None, run_id, body_json, owner, source_key),
                )
        return brief_id
