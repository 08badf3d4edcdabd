"""The API's per-key rate limit and failed-login throttle are shared by every replica on a
PostgreSQL store: two API servers (each with its own connection pool, as two processes or
machines have) on one database together allow a key its limit once, not twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.serving.limits import RateLimiter
from summarizer.serving.shared_limits import SharedRateLimiter, limiters_for
from summarizer.store import Store
from summarizer.store.aio import AsyncStore
from summarizer.testing.openai_server import FakeOpenAI
from tests.test_service import KEY, serving

JOB = "/v1/jobs/0123456789abcdef"


def test_two_replicas_share_a_key_s_rate_limit(
    tmp_path: Path, pg_url: str, fake_openai: FakeOpenAI
) -> None:
    with (
        Store(pg_url) as store_a,
        Store(pg_url) as store_b,
        serving(tmp_path, fake_openai, store=store_a, rate_limit_per_minute=3) as a,
        serving(tmp_path, fake_openai, store=store_b, rate_limit_per_minute=3) as b,
    ):
        statuses = [a.get(JOB, KEY).status_code, b.get(JOB, KEY).status_code]
        statuses.append(a.get(JOB, KEY).status_code)
        assert statuses == [404, 404, 404]  # three requests: the key's whole minute
        refused = b.get(JOB, KEY)
        assert refused.status_code == 429
        assert refused.json()["error"]["type"] == "RateLimited"
        assert int(refused.headers["retry-after"]) >= 1
        assert a.get(JOB, KEY).status_code == 429


def test_failed_logins_on_one_replica_hold_back_the_address_on_another(
    tmp_path: Path, pg_url: str, fake_openai: FakeOpenAI
) -> None:
    with (
        Store(pg_url) as store_a,
        Store(pg_url) as store_b,
        serving(tmp_path, fake_openai, store=store_a, auth_failures_per_minute=2) as a,
        serving(tmp_path, fake_openai, store=store_b, auth_failures_per_minute=2) as b,
    ):
        assert a.get(JOB, "wrong-key-0123456789").status_code == 401
        assert b.get(JOB, "wrong-key-0123456789").status_code == 401
        blocked = a.get(JOB, KEY)  # the right key, from the same address: still held
        assert blocked.status_code == 429
        assert blocked.json()["error"]["type"] == "TooManyFailedLogins"
    with Store(pg_url) as store:
        names = [r[0] for r in store.query("SELECT name FROM rate_buckets")]
    # Callers are kept as hashes: no address, no key id in the table.
    assert names and all("127.0.0.1" not in n and KEY not in n for n in names)


def test_buckets_refill_and_old_rows_are_dropped(pg_url: str) -> None:
    with Store(pg_url) as store:
        limiter = SharedRateLimiter(60, AsyncStore(store), "test")  # one token a second
        for _ in range(60):
            limiter.check("caller")
        assert limiter.blocked("caller") >= 1
        with store.exclusive_tx("bucket:test") as db:  # as if the last call were 61 s ago
            db.execute("UPDATE rate_buckets SET at = at - 61")
        assert limiter.blocked("caller") == 0  # its row is older than a full refill: full
        limiter.check("another caller")  # a decision drops the rows of a full refill ago
        assert store.query("SELECT COUNT(*) FROM rate_buckets")[0][0] == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_limits_are_shared_only_where_several_processes_serve(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    target = str(tmp_path / "s.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    with Store(target) as store:
        requests, failures = limiters_for(AsyncStore(store), 5, 3)
    shared = backend == "postgresql"
    assert isinstance(requests, SharedRateLimiter) is shared
    assert isinstance(failures, RateLimiter) and failures.shared is shared
    assert (requests.per_minute, failures.per_minute) == (5, 3)
