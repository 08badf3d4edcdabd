"""The store's conformance suite: every test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from summarizer.errors import StorageError
from summarizer.llm.calls import CallRecord
from summarizer.sources.ingest import Document
from summarizer.store import MIGRATIONS, Store
from summarizer.store import migrations as migrations_module
from summarizer.testing.openai_server import FakeOpenAI
from tests.helpers import race, wait_until


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    with Store(store_target) as s:
        yield s


def test_the_target_picks_the_backend(store: Store, store_target: str) -> None:
    expected = "PostgresStore" if store_target.startswith("postgresql://") else "SQLiteStore"
    assert type(store).__name__ == expected
    assert isinstance(store, Store)


def test_migrations_run_once_and_are_recorded(store: Store, store_target: str) -> None:
    with Store(store_target) as reopened:  # reopening applies nothing twice
        assert reopened.migrations_done() == [name for name, _ in MIGRATIONS]


def test_extraction_cache_round_trip(store: Store) -> None:
    doc = Document(text="Some article text: 100% sure? Yes.")
    store.put_document(doc)
    store.put_document(doc)  # idempotent
    assert store.get_extraction(doc.sha256, "k1") is None
    store.put_extraction(doc.sha256, "k1", '{"x": 1}')
    store.put_extraction(doc.sha256, "k1", '{"x": 2}')  # a re-run replaces the result
    assert store.get_extraction(doc.sha256, "k1") == '{"x": 2}'
    assert store.get_extraction(doc.sha256, "k2") is None
    assert store.query("SELECT text FROM documents")[0][0] == doc.text


def test_runs_briefs_and_calls(store: Store) -> None:
    run = store.start_run("daily", "2026-11-25", {"sources": ["a"]})
    brief_id = store.put_brief("daily", '{"b": 1}', title="T", day="2026-11-25", run_id=run)
    store.finish_run(run, "ok", brief_id=brief_id)
    store.record_calls(
        run,
        [CallRecord("k", "gpt-4o-mini", 200, 1000, 100, 5.0, False, False)] * 2,
        lambda m, i, o, c=0, **_: 0.25,
    )
    assert store.get_brief(brief_id) == ("daily", '{"b": 1}')
    assert store.get_brief("nope") is None
    assert [r.status for r in store.list_runs()] == ["ok"]
    assert store.list_briefs()[0].title == "T"
    assert store.query("SELECT SUM(cost_usd) FROM llm_calls")[0][0] == 0.5


def test_listings_are_newest_first_within_one_second(store: Store) -> None:
    ids = [store.put_brief("article", "{}", title=f"t{i}") for i in range(5)]
    assert [b.id for b in store.list_briefs(3)] == ids[:-4:-1]


def test_delivery_is_at_most_once(store: Store) -> None:
    assert store.claim_delivery("2026-11-25", "slack") is None
    # A run killed between claim and send leaves 'pending': never re-sent silently.
    assert store.claim_delivery("2026-11-25", "slack") == "pending"
    store.mark_delivered("2026-11-25", "slack", "b1")
    assert store.claim_delivery("2026-11-25", "slack") == "sent"
    assert store.claim_delivery("2026-11-25", "slack", force=True) is None
    store.release_delivery("2026-11-25", "slack")
    assert store.claim_delivery("2026-11-25", "slack") is None


def test_two_stores_racing_for_one_delivery_claim_it_once(store_target: str) -> None:
    stores = [Store(store_target) for _ in range(4)]
    results = race(lambda s: s.claim_delivery("2026-11-25", "hook"), stores)
    for s in stores:
        s.close()
    assert sorted(results, key=str) == [None, "pending", "pending", "pending"]


def test_jobs_and_events(store: Store, store_target: str) -> None:
    job = store.create_job('{"documents": []}', owner="key1")
    assert store.get_job(job)["status"] == "queued"  # type: ignore[index]
    store.update_job(job, "running")
    with Store(store_target) as other:
        assert other.fail_unfinished_jobs("server restarted") == 1
    assert store.get_job(job)["error"] == "server restarted"  # type: ignore[index]
    assert store.claim_event("slack", "Ev1") is True
    assert store.claim_event("slack", "Ev1") is False


def test_a_failing_migration_is_rolled_back_whole(
    store: Store, store_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_brief("article", "{}", title="kept")
    broken = [
        *MIGRATIONS,
        ("9999_broken", "CREATE TABLE half (x TEXT); CREATE TABLE half (x TEXT)"),
    ]
    monkeypatch.setattr(migrations_module, "MIGRATIONS", broken)
    monkeypatch.setattr("summarizer.store.base.MIGRATIONS", broken)
    with pytest.raises(StorageError, match=r"migration 9999_broken failed: .*rolled back") as err:
        Store(store_target)
    assert err.value.exit_code == 12
    assert "move it aside" not in str(err.value)
    # Nothing of the step stayed: no table, no record; the earlier data is intact.
    assert store.migrations_done() == [name for name, _ in MIGRATIONS]
    with pytest.raises(Exception, match="half"):
        store.query("SELECT * FROM half")
    assert [b.title for b in store.list_briefs()] == ["kept"]


def test_stores_opened_at_once_migrate_once(store_target: str) -> None:
    opened: list[Store] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def open_one() -> None:
        barrier.wait()
        try:
            opened.append(Store(store_target))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in opened:
        s.close()
    assert errors == []
    with Store(store_target) as s:
        assert s.migrations_done() == [name for name, _ in MIGRATIONS]


def test_a_named_lock_is_held_once_per_store(store: Store, store_target: str) -> None:
    with Store(store_target) as other:
        with store.hold_lock("daily:2026-11-25") as held:
            assert held is True
            with other.hold_lock("daily:2026-11-25") as second:
                assert second is False
            with other.hold_lock("daily:2026-11-26") as another_day:
                assert another_day is True
        with other.hold_lock("daily:2026-11-25") as after:
            assert after is True


def test_a_killed_holder_releases_its_lock(store: Store, store_target: str) -> None:
    import signal
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from summarizer.store import Store\n"
            "s = Store(sys.argv[1])\n"
            "with s.hold_lock('daily:2026-11-25') as held:\n"
            "    print(held, flush=True)\n"
            "    time.sleep(60)\n",
            store_target,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        with store.hold_lock("daily:2026-11-25") as held:
            assert held is False
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        holder.stdout.close()  # type: ignore[union-attr]
    # The OS frees a file lock at exit; PostgreSQL ends the session of the closed
    # connection (and its locks) a moment later.

    def free() -> bool:
        with store.hold_lock("daily:2026-11-25") as held:
            return held

    wait_until(free, timeout=10, what="the killed holder's lock released")


def test_two_daily_runs_of_one_day_on_one_store_run_once(
    store_target: str, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    # Two hosts (here: two output folders) running the same day on one shared store.
    from typer.testing import CliRunner

    from summarizer.cli import app
    from tests.conftest import SEED_ARTICLE

    with Store(store_target) as holder, holder.hold_lock("daily:2026-11-25") as held:
        assert held
        r = CliRunner().invoke(
            app,
            ["daily", "--out-dir", str(tmp_path / "other-host"), "--store", store_target,
             "--base-url", fake_openai.base_url, "--date", "2026-11-25",
             "-s", str(SEED_ARTICLE)],
        )  # fmt: skip
    assert r.exit_code == 10, r.output
    assert "another daily run holds the lock for 2026-11-25" in r.output
    assert fake_openai.requests == []


def test_an_event_claimed_by_two_replicas_at_once_is_handled_once(store_target: str) -> None:
    # Slack retries a request; two replicas (two stores on one database) get a copy each.
    stores = [Store(store_target) for _ in range(2)]
    results = race(lambda s: s.claim_event("slack", "Ev-retried"), stores)
    for s in stores:
        s.close()
    assert sorted(results) == [False, True]


def test_an_endpoints_probed_mode_is_kept_replaced_and_forgotten(store: Store) -> None:
    assert store.get_endpoint_mode("http://h/v1", "m") is None
    store.put_endpoint_mode("http://h/v1", "m", "tools", "system")
    store.put_endpoint_mode("http://h/v1", "m", "md_json", "merge")  # a later probe wins
    store.put_endpoint_mode("http://h/v1", "other", "tools", "system")
    assert store.get_endpoint_mode("http://h/v1", "m") == ("md_json", "merge")
    store.forget_endpoint_mode("http://h/v1", "m")
    assert store.get_endpoint_mode("http://h/v1", "m") is None
    assert store.get_endpoint_mode("http://h/v1", "other") == ("tools", "system")


def test_batches_open_collect_and_answer_on_both_backends(store: Store) -> None:
    from summarizer.store.batches import AnswerRow

    scope = "daily:2026-11-25"
    store.add_batch(
        "b1", scope=scope, endpoint="http://x/v1", model="m", input_file_id="file-1",
        requests=[("k1", "a1.txt"), ("k2", "a2.txt")],
    )  # fmt: skip
    assert store.batch_count(scope) == 1 and store.batch_count("daily:other") == 0
    [row] = store.open_batches(scope)
    assert row["batch_id"] is None and row["status"] == "submitting" and row["requests"] == 2
    store.set_batch("b1", status="in_progress", batch_id="batch_1")
    assert store.open_batches(scope)[0]["batch_id"] == "batch_1"
    assert (
        store.batch_keys_open(scope, "http://x/v1") == {"k1", "k2"}
        and store.batch_answers(scope) == []
    )
    store.collect_batch(
        "b1", status="expired", detail=None,
        answers=[
            AnswerRow("k1", "answer", 200, '{"ok": 1}', None, False, True),
            AnswerRow("k2", "error", None, None, "batch batch_1 (expired): batch_expired"),
        ],
    )  # fmt: skip
    assert store.open_batches(scope) == [] and store.batch_keys_open(scope, "http://x/v1") == set()
    answers = {a.key: a for a in store.batch_answers(scope)}
    assert answers["k1"].body == '{"ok": 1}' and answers["k1"].fixture is True
    assert answers["k2"].outcome == "error" and "batch_expired" in (answers["k2"].detail or "")
    [listed] = store.batches(scope)
    assert listed["status"] == "expired" and listed["collected_at"] is not None
