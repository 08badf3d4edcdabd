from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from summarizer.errors import ConfigError
from summarizer.ingest import Document
from summarizer.llm.calls import CallRecord
from summarizer.store import MIGRATIONS, Store


def test_migrations_run_once_and_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    store = Store(path)  # reopening applies nothing twice
    names = [r[0] for r in store._db.execute("SELECT name FROM _migrations")]
    assert names == [name for name, _ in MIGRATIONS]


def test_extraction_cache_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    doc = Document(text="Some article text.")
    store.put_document(doc)
    store.put_document(doc)  # idempotent
    assert store.get_extraction(doc.sha256, "k1") is None
    store.put_extraction(doc.sha256, "k1", '{"x": 1}')
    assert store.get_extraction(doc.sha256, "k1") == '{"x": 1}'
    assert store.get_extraction(doc.sha256, "k2") is None


def test_runs_briefs_and_calls(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    run = store.start_run("daily", "2026-11-25", {"sources": ["a"]})
    brief_id = store.put_brief("daily", '{"b": 1}', title="T", day="2026-11-25", run_id=run)
    store.finish_run(run, "ok", brief_id=brief_id)
    store.record_calls(
        run,
        [CallRecord("k", "gpt-4o-mini", 200, 1000, 100, 5.0, False, False)],
        lambda m, i, o, c=0: 0.5,
    )
    assert store.get_brief(brief_id) == ("daily", '{"b": 1}')
    assert store.get_brief("nope") is None
    assert [r.status for r in store.list_runs()] == ["ok"]
    assert store.list_briefs()[0].title == "T"
    cost = store._db.execute("SELECT SUM(cost_usd) FROM llm_calls").fetchone()[0]
    assert cost == 0.5


def test_delivery_is_at_most_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    assert store.claim_delivery("2026-11-25", "slack") is None
    # A run killed between claim and send leaves 'pending': never re-sent silently.
    assert store.claim_delivery("2026-11-25", "slack") == "pending"
    store.mark_delivered("2026-11-25", "slack", "b1")
    assert store.claim_delivery("2026-11-25", "slack") == "sent"
    assert store.claim_delivery("2026-11-25", "slack", force=True) is None
    store.release_delivery("2026-11-25", "slack")
    assert store.claim_delivery("2026-11-25", "slack") is None


def test_jobs_and_events(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    job = store.create_job('{"documents": []}', owner="key1")
    assert store.get_job(job)["status"] == "queued"  # type: ignore[index]
    store.update_job(job, "running")
    assert Store(tmp_path / "s.db").fail_unfinished_jobs("server restarted") == 1
    assert store.get_job(job)["error"] == "server restarted"  # type: ignore[index]
    assert store.claim_event("slack", "Ev1") is True
    assert store.claim_event("slack", "Ev1") is False


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ConfigError, match="not a summarizer store"):
        Store(bad)


def test_survives_a_writer_killed_mid_transaction(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    store.put_brief("article", "{}", title="kept")
    # A second connection dies with an open transaction: its write must vanish, not corrupt.
    other = sqlite3.connect(path)
    other.execute("BEGIN")
    other.execute("INSERT INTO briefs VALUES ('x', 'article', 'now', 'lost', NULL, NULL, '{}')")
    del other  # closed without commit, as a killed process would
    reopened = Store(path)
    assert [r.title for r in reopened.list_briefs()] == ["kept"]
    assert reopened._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
