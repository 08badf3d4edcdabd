"""Copy one store into another (`summarizer store migrate --to URL`): a SQLite file into
PostgreSQL, typically, though any backend to any other works the same way.

Idempotent: rows are inserted with `ON CONFLICT DO NOTHING` on each table's key, so a run
that was interrupted, or a second run after new rows arrived in the source, copies only
what is missing and never duplicates or overwrites a row the target already changed (a
job that went on running there, a delivery marked sent). Verified: after the copy every
source key must be present in the target, table by table, or the copy fails (exit 12).
Insertion order is kept (`rowid`), and the target's identity counters are moved past the
copied ids, so rows the target adds later never collide with copied ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from summarizer.errors import StorageError
from summarizer.store.base import Store

BATCH = 500

# Every table worth keeping, with its key. Every column is copied (both stores are
# migrated to the same schema on opening), and `rowid` too, which keeps listings in
# insertion order. Left out: `_migrations` (each store keeps its
# own), `rate_events` and `rate_buckets` (a minute of rate-limit history, worthless
# elsewhere) and `workers`
# (the leases of the processes running now).
TABLES: dict[str, tuple[str, ...]] = {
    "documents": ("sha256",),
    "extractions": ("doc_sha256", "cache_key"),
    "runs": ("id",),
    "briefs": ("id",),
    "llm_calls": ("id",),
    "deliveries": ("day", "target"),
    "jobs": ("id",),
    "seen_events": ("source", "event_id"),
    "endpoint_modes": ("endpoint", "model"),  # --mode auto's probes: no need to probe again
    "job_results": ("job_id", "position"),
    "map_failures": ("run_id", "doc_sha256"),
    "story_days": ("story_id", "day"),
    "questions": ("id",),
    "batches": ("id",),
    "batch_requests": ("batch", "key"),
    "batch_live": ("scope", "key"),
}
ORDERED = {"runs", "briefs", "batches"}  # tables whose `rowid` is copied
# Identity columns on PostgreSQL whose counters must pass the copied ids.
IDENTITY = [("runs", "rowid"), ("briefs", "rowid"), ("batches", "rowid"), ("llm_calls", "id")]


@dataclass(frozen=True)
class TableCopy:
    table: str
    source: int  # rows in the source
    copied: int  # rows this run inserted
    target: int  # rows in the target afterwards


def copy_store(source: Store, target: Store) -> list[TableCopy]:
    """Copy every row of `source` missing from `target`; verify; return per-table counts."""
    report = []
    for table, keys in TABLES.items():
        columns = _columns(source, table)
        lacking = sorted(set(columns) - set(_columns(target, table)))
        if lacking:  # both were migrated on opening, so only a hand-made change gets here
            raise StorageError(
                f"{target.label}: table {table} has no column {', '.join(lacking)}; "
                "the copy stopped there (tables before it were copied; run it again once fixed)"
            )
        if table in ORDERED:
            columns.insert(0, "rowid")
        cols = ", ".join(columns)
        rows = [tuple(r) for r in source.query(f"SELECT {cols} FROM {table} ORDER BY {keys[0]}")]
        before = _count(target, table)
        marks = ", ".join("?" * len(columns))
        sql = (
            f"INSERT INTO {table} ({cols}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
        )
        for start in range(0, len(rows), BATCH):
            with target._tx() as db:  # one transaction per batch: progress survives a kill
                db.executemany(sql, rows[start : start + BATCH])
        after = _count(target, table)
        key_cols = ", ".join(keys)
        have = {tuple(r) for r in target.query(f"SELECT {key_cols} FROM {table}")}
        wanted = {tuple(r) for r in source.query(f"SELECT {key_cols} FROM {table}")}
        missing = wanted - have
        if missing:
            raise StorageError(
                f"{target.label}: copy of {table} incomplete: {len(missing)} of {len(wanted)} "
                "rows missing after the copy; run it again"
            )
        report.append(TableCopy(table, len(rows), after - before, after))
    if target.dialect.name == "postgresql":
        with target._tx() as db:
            for table, column in IDENTITY:
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"(SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}), false)"
                )
    return report


def _columns(store: Store, table: str) -> list[str]:
    return [str(r[0]) for r in store.query(store.dialect.columns_sql, (table,))]


def _count(store: Store, table: str) -> int:
    return int(store.query(f"SELECT COUNT(*) FROM {table}")[0][0])
