"""A store holding two offline daily runs of the seeds (the README's demo), for the
reader's site tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from summarizer.cli import app

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def two_day_store(folder: Path) -> Path:
    """Day 1 (seeds/daily) then day 2 (seeds/daily-2), replayed from seeds/recordings."""
    store = folder / "demo.db"
    for source, day in (("daily", "2026-11-25"), ("daily-2", "2026-11-26")):
        result = CliRunner().invoke(
            app,
            ["daily", "-s", str(SEEDS / source), "--replay", str(SEEDS / "recordings"),
             "--out-dir", str(folder / "briefs"), "--store", str(store), "--date", day],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return store


def copy_store(store: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / store.name
    # SQLite's backup, not a file copy: the store runs in WAL mode, so recent writes may
    # still be in its -wal file.
    src, dst = sqlite3.connect(store), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target
