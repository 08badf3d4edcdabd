"""The store's schema: one append-only list of named steps, run by every backend.

Each step is written once, in the SQL that SQLite and PostgreSQL share, with the few words
they spell differently as `{placeholders}` that a `Dialect` fills in. Never edit or reorder
a step that has shipped: add one. A backend runs each step in one explicit transaction,
with DDL inside it (both engines have transactional DDL), and records it in `_migrations`
in that same transaction, so a failing step leaves nothing of itself behind.
"""

from __future__ import annotations

from dataclasses import dataclass

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE documents (
            sha256 TEXT PRIMARY KEY, url TEXT, path TEXT, title TEXT, published TEXT,
            text TEXT NOT NULL, first_seen TEXT NOT NULL
        );
        CREATE TABLE extractions (
            doc_sha256 TEXT NOT NULL, cache_key TEXT NOT NULL, brief_json TEXT NOT NULL,
            created_at TEXT NOT NULL, PRIMARY KEY (doc_sha256, cache_key)
        );
        CREATE TABLE runs (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, day TEXT, started_at TEXT NOT NULL,
            finished_at TEXT, status TEXT NOT NULL, detail_json TEXT, error TEXT, brief_id TEXT
            {rowid_column}
        );
        CREATE INDEX runs_started ON runs (started_at);
        CREATE TABLE briefs (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL, title TEXT,
            day TEXT, run_id TEXT, body_json TEXT NOT NULL
            {rowid_column}
        );
        CREATE INDEX briefs_created ON briefs (created_at);
        CREATE TABLE llm_calls (
            id {autoincrement_key}, run_id TEXT, key TEXT, model TEXT,
            status INTEGER, tokens_in INTEGER, tokens_out INTEGER, cost_usd {real},
            latency_ms {real}, replayed INTEGER, created_at TEXT NOT NULL
        );
        CREATE TABLE deliveries (
            day TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL, brief_id TEXT,
            updated_at TEXT NOT NULL, PRIMARY KEY (day, target)
        );
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, request_json TEXT NOT NULL, brief_id TEXT, error TEXT,
            owner TEXT
        );
        CREATE TABLE seen_events (
            source TEXT NOT NULL, event_id TEXT NOT NULL, seen_at TEXT NOT NULL,
            PRIMARY KEY (source, event_id)
        );
        """,
    ),
    (
        # Provider rate limits shared by every process on this store (llm/shared_window.py):
        # one row per send (requests=1) or late token charge (requests=0), at server time.
        "0004_rate_events",
        """
        CREATE TABLE rate_events (
            id {autoincrement_key}, scope TEXT NOT NULL, at {real} NOT NULL,
            requests INTEGER NOT NULL, tokens INTEGER NOT NULL
        );
        CREATE INDEX rate_events_scope_at ON rate_events (scope, at);
        """,
    ),
    (
        # The API's side: who owns a brief (a hash of its API key, never the key), which
        # document and settings made it (so a resubmission reuses it), the front door that
        # paid for each LLM call, and job leases (workers with a heartbeat) plus each job's
        # per-document results, written as each document finishes.
        "0005_api_owners_leases_results",
        """
        ALTER TABLE briefs ADD COLUMN owner TEXT;
        ALTER TABLE briefs ADD COLUMN source_key TEXT;
        CREATE INDEX briefs_source ON briefs (owner, source_key);
        ALTER TABLE llm_calls ADD COLUMN origin TEXT;
        ALTER TABLE jobs ADD COLUMN worker TEXT;
        CREATE TABLE workers (
            id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
            started_at TEXT NOT NULL, heartbeat {real} NOT NULL
        );
        CREATE TABLE job_results (
            job_id TEXT NOT NULL, position INTEGER NOT NULL, source TEXT NOT NULL,
            brief_id TEXT, error_type TEXT, error TEXT, PRIMARY KEY (job_id, position)
        );
        """,
    ),
    (
        # Which process runs a run: `history` tells a live run from one killed with -9
        # (summarizer/plumbing/liveness.py).
        "0006_run_owner",
        """
        ALTER TABLE runs ADD COLUMN pid INTEGER;
        ALTER TABLE runs ADD COLUMN host TEXT;
        ALTER TABLE runs ADD COLUMN proc_start TEXT;
        """,
    ),
    (
        # --mode auto: what an endpoint (URL without credentials) and model can do, probed once.
        "0007_endpoint_modes",
        """
        CREATE TABLE endpoint_modes (
            endpoint TEXT NOT NULL, model TEXT NOT NULL, mode TEXT NOT NULL,
            system_prompt TEXT NOT NULL, probed_at TEXT NOT NULL, PRIMARY KEY (endpoint, model)
        );
        """,
    ),
    (
        # `daily --on-workers`: why a worker could not brief an article of a run.
        "0008_map_failures",
        """
        CREATE TABLE map_failures (
            run_id TEXT NOT NULL, doc_sha256 TEXT NOT NULL, error TEXT NOT NULL,
            PRIMARY KEY (run_id, doc_sha256)
        );
        """,
    ),
    (
        # The API's per-key request buckets and failed-login buckets, shared by every API
        # process on the store (service/shared_limits.py; used on PostgreSQL).
        "0009_rate_buckets",
        """
        CREATE TABLE rate_buckets (
            name TEXT PRIMARY KEY, tokens {real} NOT NULL, at {real} NOT NULL
        );
        CREATE INDEX rate_buckets_at ON rate_buckets (at);
        """,
    ),
    (
        # Stories that continue (daily/follow.py): each story's brief per day, and the ledger
        # of every open question it asked. A question's status on a day is read from the
        # days it was answered or dropped, so a backfill of an earlier day sees it open.
        "0010_stories_questions",
        """
        CREATE TABLE story_days (
            story_id TEXT NOT NULL, day TEXT NOT NULL, first_day TEXT NOT NULL,
            title TEXT NOT NULL, brief_json TEXT NOT NULL, created_at TEXT NOT NULL,
            PRIMARY KEY (story_id, day)
        );
        CREATE INDEX story_days_day ON story_days (day);
        CREATE TABLE questions (
            id TEXT PRIMARY KEY, story_id TEXT NOT NULL, question TEXT NOT NULL,
            first_day TEXT NOT NULL, answer TEXT, answered_day TEXT, quote TEXT, source TEXT,
            dropped_day TEXT, reason TEXT, updated_at TEXT NOT NULL
        );
        CREATE INDEX questions_story ON questions (story_id);
        """,
    ),
    (
        # daily --batch (batch/): each batch submitted to a provider's Batch API, and each
        # request in it (keyed by the request's hash, its custom_id) with its answer once
        # collected. `outcome` is NULL while the batch runs, 'answer' for an HTTP answer,
        # 'error' for none (the batch failed, expired or was cancelled, an error line, a
        # lost output file). Calls answered through a batch are billed at its price.
        # batch_live keeps the answers a batch run got live (reasks, retries, stories), so
        # a later round or run that asks the same again is not billed twice.
        "0011_batches",
        """
        CREATE TABLE batches (
            id TEXT PRIMARY KEY, scope TEXT NOT NULL, endpoint TEXT NOT NULL,
            model TEXT NOT NULL, input_file_id TEXT, batch_id TEXT, status TEXT NOT NULL,
            detail TEXT, requests INTEGER NOT NULL, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, collected_at TEXT
            {rowid_column}
        );
        CREATE INDEX batches_scope ON batches (scope);
        CREATE TABLE batch_requests (
            batch TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL, outcome TEXT,
            status INTEGER, body TEXT, detail TEXT, replayed INTEGER NOT NULL DEFAULT 0,
            fixture INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (batch, key)
        );
        CREATE INDEX batch_requests_key ON batch_requests (key);
        CREATE TABLE batch_live (
            scope TEXT NOT NULL, key TEXT NOT NULL, status INTEGER NOT NULL,
            body TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (scope, key)
        );
        ALTER TABLE llm_calls ADD COLUMN batched INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        # Queue workers once kept an API key's answers among daily's per-article results,
        # where daily (and another key) reused them. Results for a text some key briefed
        # are dropped, once: they are a cache, and daily asks the model again for them
        # (briefing/keep.py: an API key's answers are its briefs only).
        "0012_no_api_answers_in_daily_results",
        """
        DELETE FROM extractions WHERE doc_sha256 IN (
            SELECT substr(source_key, 1, 64) FROM briefs
            WHERE owner IS NOT NULL AND source_key IS NOT NULL
        );
        """,
    ),
]


@dataclass(frozen=True)
class Dialect:
    """The words a migration spells differently on each engine."""

    name: str
    autoincrement_key: str
    real: str
    # Listings order ties by insertion: SQLite has an implicit `rowid`; PostgreSQL gets a
    # column of that name, so one query (`ORDER BY created_at DESC, rowid DESC`) serves both.
    rowid_column: str
    # The server's clock in epoch seconds: processes on several machines share one clock.
    now_expr: str
    # A table's column names, in order (one parameter: the table's name).
    columns_sql: str

    @property
    def now_sql(self) -> str:
        return f"SELECT {self.now_expr}"

    def statements(self, sql: str) -> list[str]:
        """The step's statements, in this dialect. Steps hold no `;` inside literals."""
        filled = sql.format(
            autoincrement_key=self.autoincrement_key, real=self.real, rowid_column=self.rowid_column
        )
        return [s.strip() for s in filled.split(";") if s.strip()]


SQLITE = Dialect(
    name="sqlite",
    autoincrement_key="INTEGER PRIMARY KEY AUTOINCREMENT",
    real="REAL",
    rowid_column="",
    now_expr="(julianday('now') - 2440587.5) * 86400.0",
    columns_sql="SELECT name FROM pragma_table_info(?) ORDER BY cid",
)
POSTGRES = Dialect(
    name="postgresql",
    autoincrement_key="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    real="DOUBLE PRECISION",
    rowid_column=", rowid BIGINT GENERATED BY DEFAULT AS IDENTITY",
    now_expr="EXTRACT(EPOCH FROM clock_timestamp())::float8",
    columns_sql="SELECT column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
)
