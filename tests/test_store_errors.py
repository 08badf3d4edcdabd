"""Storage faults are reported as what they are (exit 12), never as "not a store"."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from summarizer.errors import ConfigError, StorageError
from summarizer.store import Store
from summarizer.store import postgres as pg_backend
from summarizer.store import sqlite as sqlite_backend


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
    other.execute(
        "INSERT INTO briefs (id, kind, created_at, title, body_json) "
        "VALUES ('x', 'article', 'now', 'lost', '{}')"
    )
    del other  # closed without commit, as a killed process would
    reopened = Store(path)
    assert [r.title for r in reopened.list_briefs()] == ["kept"]
    assert reopened.query("PRAGMA integrity_check")[0][0] == "ok"


def test_a_full_disk_is_named_and_loses_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    kept = store.put_brief("article", "{}", title="kept")
    pages = store.query("PRAGMA page_count")[0][0]
    store.query(f"PRAGMA max_page_count = {pages}")  # the file may not grow: a full disk
    with pytest.raises(StorageError, match="disk is full") as err:
        store.put_brief("article", "x" * 200_000, title="too big")
    assert err.value.exit_code == 12
    assert "move it aside" not in str(err.value)
    assert store.get_brief(kept) == ("article", "{}")
    assert [b.title for b in store.list_briefs()] == ["kept"]


def test_a_read_only_store_is_named_and_still_readable(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    kept = store.put_brief("article", "{}", title="kept")
    store.query("PRAGMA query_only = 1")
    with pytest.raises(StorageError, match="read-only"):
        store.put_brief("article", "{}", title="refused")
    assert store.get_brief(kept) == ("article", "{}")


def test_a_locked_store_is_named(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = Store(path, busy_timeout=0.05)
        with pytest.raises(StorageError, match="locked by another process"):
            store.put_brief("article", "{}", title="waits")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_io_errors_are_named_from_their_code() -> None:
    exc = sqlite3.OperationalError("disk I/O error")
    exc.sqlite_errorcode = 10 | (3 << 8)  # SQLITE_IOERR_WRITE
    found = sqlite_backend.describe(exc, "s.db")
    assert found is not None and "I/O error" in str(found)
    assert sqlite_backend.describe(sqlite3.IntegrityError("UNIQUE"), "s.db") is None  # a bug
    assert "disk is full" in str(pg_backend.describe(psycopg.errors.DiskFull("full"), "db"))
    assert "I/O error" in str(pg_backend.describe(psycopg.errors.IoError("bad block"), "db"))


def test_cli_names_a_failed_migration_with_exit_12_and_no_traceback(tmp_path: Path) -> None:
    # A file whose tables collide with the first migration (a foreign or hand-made database).
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE jobs (x TEXT)")
    done = subprocess.run(
        [sys.executable, "-m", "summarizer", "history", "--store", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 12, done.stderr
    assert "migration 0001_initial failed" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    # Rolled back whole: the step's first tables are not there either.
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "documents" not in tables


def test_postgres_unreachable_is_named_without_the_password() -> None:
    with pytest.raises(StorageError, match="cannot reach the database") as err:
        Store("postgresql://summ:s3cr3t-pw@127.0.0.1:1/nowhere")
    assert err.value.exit_code == 12
    assert "s3cr3t" not in str(err.value)
    assert "127.0.0.1:1/nowhere" in str(err.value)


def test_postgres_missing_database_is_named(pg_url: str) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        Store(pg_url + "_missing")


def test_postgres_read_only_is_named(pg_url: str) -> None:
    with Store(pg_url) as store:
        kept = store.put_brief("article", "{}", title="kept")
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    with Store(pg_url) as store:  # up to date: opening needs no write
        assert store.get_brief(kept) == ("article", "{}")
        with pytest.raises(StorageError, match="read-only"):
            store.put_brief("article", "{}", title="refused")
