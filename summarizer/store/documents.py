"""The store's document tables: each article read (by its sha256), its per-article result
under a cache key, and why a worker could not brief one (`daily --on-workers`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from summarizer.store.keep import INSERT_DOCUMENT, PUT_EXTRACTION, document_row
from summarizer.store.sql import Tables, _now


class DocumentTables(Tables):
    def put_document(self, doc: Any) -> None:
        with self._one() as db:
            db.execute(INSERT_DOCUMENT, document_row(doc))

    def get_extraction(self, doc_sha256: str, cache_key: str) -> str | None:
        with self._read() as db:
            row = db.execute(
                "SELECT brief_json FROM extractions WHERE doc_sha256 = ? AND cache_key = ?",
                (doc_sha256, cache_key),
            ).fetchone()
        return None if row is None else str(row[0])

    def put_extraction(self, doc_sha256: str, cache_key: str, brief_json: str) -> None:
        with self._one() as db:
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
