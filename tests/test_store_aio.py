"""The store behind its interface: async callers through one facade that keeps the event loop
serving, backends picked by a registry the interface does not import, capabilities instead
of engine names, and the shared limits' SQL in the store. Each runs on SQLite and on a real
PostgreSQL where both apply."""

from __future__ import annotations

import ast
import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import summarizer
from summarizer.errors import ConfigError
from summarizer.llm.calls import CallRecord
from summarizer.sources.ingest import Document
from summarizer.store import Store, open_store
from summarizer.store.aio import AsyncStore

STORE_DIR = Path(summarizer.__file__).parent / "store"


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    with Store(store_target) as s:
        yield s


def test_the_facade_awaits_every_kind_of_call(store: Store) -> None:
    async def main() -> None:
        astore = AsyncStore(store)
        try:
            doc = Document(text="An article, kept through the facade.")
            await astore.put_document(doc)
            brief_id = await astore.put_brief(
                "brief", '{"a": 1}', title="A", owner="key-1", source_key="s:1"
            )
            await astore.record_calls(
                None, [CallRecord("k", "m", 200, 10, 5, 1.0, False, False)],
                lambda *a, **k: 0.5, origin="api",
            )  # fmt: skip
            assert await astore.get_brief(brief_id) == ("brief", '{"a": 1}')
            assert await astore.find_brief("key-1", "s:1") == (brief_id, "brief", '{"a": 1}')
            assert await astore.find_brief("key-2", "s:1") is None  # another key's: not found
            assert await astore.claim_event("slack", "e1") is True
            assert await astore.claim_event("slack", "e1") is False
            # Anything else that works on a store, in the same pool.
            assert await astore.call(store.get_document, doc.sha256) is not None
        finally:
            astore.close()

    asyncio.run(main())
    assert store.spend() == [("api", 1, 10, 5, 0.5, 0)]  # the last: calls without usage


def test_calls_run_in_the_store_s_threads_not_the_loop_s(store: Store) -> None:
    async def main() -> tuple[str, str]:
        astore = AsyncStore(store)
        try:
            return threading.current_thread().name, await astore.call(
                lambda: threading.current_thread().name
            )
        finally:
            astore.close()

    loop_thread, store_thread = asyncio.run(main())
    assert store_thread != loop_thread and store_thread.startswith("store")


def test_the_loop_keeps_serving_while_a_write_waits_for_a_lock(tmp_path: Path) -> None:
    """Another process holds SQLite's write lock: the write waits, the loop does not."""
    path = tmp_path / "s.db"
    with Store(path, busy_timeout=5) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the write lock, as a second process would hold it

        async def main() -> int:
            astore = AsyncStore(store)
            ticks = 0
            released = asyncio.Event()

            async def ticker() -> None:
                nonlocal ticks
                while ticks < 20:  # the loop runs other work while the write is stuck
                    ticks += 1
                    await asyncio.sleep(0)
                other.execute("COMMIT")  # then the other process lets go
                released.set()

            write = asyncio.ensure_future(astore.put_document(Document(text="Held up.")))
            await asyncio.gather(ticker(), released.wait())
            await write
            astore.close()
            return ticks

        assert asyncio.run(main()) == 20
        other.close()
        assert store.query("SELECT COUNT(*) FROM documents")[0][0] == 1


def test_capabilities_say_what_differs_between_backends(store: Store, store_target: str) -> None:
    if store_target.startswith("postgresql://"):
        assert store.shared is True and store.database_url == store_target
        assert store.threads > 1  # its connection pool: calls run side by side
    else:
        assert store.shared is False and store.database_url is None
        assert store.threads == 1  # one connection: one call at a time
    assert AsyncStore(store).shared is store.shared


def test_open_store_and_store_pick_the_same_backend(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as a, Store(str(tmp_path / "b.db")) as b:
        assert type(a) is type(b) and type(a).__name__ == "SQLiteStore"


def test_a_target_no_backend_opens_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="no store backend opens it"):
        Store(42)  # type: ignore[arg-type]


def test_the_interface_imports_none_of_its_backends() -> None:
    """store/base.py and the modules it imports never import a backend (the old cycle);
    store/open.py does, for the package."""
    backends = {"summarizer.store.sqlite", "summarizer.store.postgres", "summarizer.store.open"}
    for module in ["base", "sql", "documents", "runs", "deliveries", "jobs", "stories",
                   "batches", "limits", "migrations", "aio"]:  # fmt: skip
        tree = ast.parse((STORE_DIR / f"{module}.py").read_text(encoding="utf-8"))
        imported = {
            n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
        } | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not imported & backends, f"store/{module}.py imports {imported & backends}"


def test_no_caller_outside_the_store_names_an_engine() -> None:
    """What differs is a capability; SQL lives in store/ (the shared limits' included)."""
    root = STORE_DIR.parent
    for path in root.rglob("*.py"):
        if STORE_DIR in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        assert "dialect" not in text.replace("GitHub's dialect", ""), path
        if path.name in ("shared_limits.py", "shared_window.py"):
            assert "SELECT" not in text and "INSERT" not in text, path


def test_a_bucket_is_read_without_taking_and_taken_under_its_lock(store: Store) -> None:
    full, refill = 3.0, 60.0
    assert store.bucket_tokens("api-key:a", full, refill) == full  # no row: full
    for left in (2.0, 1.0, 0.0):
        tokens = store.take_from_bucket("api-key", "api-key:a", full, refill, lambda t: t - 1)
        assert tokens == pytest.approx(left + 1, abs=0.01)
    assert store.bucket_tokens("api-key:a", full, refill) == pytest.approx(0.0, abs=0.01)
    assert store.bucket_tokens("api-key:a", full, refill) == pytest.approx(0.0, abs=0.01)
    assert store.bucket_tokens("api-key:b", full, refill) == full  # each caller its own


def test_a_send_window_logs_sends_and_restamps_them(store: Store) -> None:
    seen: list[tuple[list[float], list[tuple[float, int]]]] = []

    def decide(now: float, sent: list[float], charges: list[tuple[float, int]]) -> float:
        seen.append((sent, charges))
        return 0.0 if len(sent) < 2 else 1.5

    first = store.window_send("scope", 60.0, 100, decide)
    second = store.window_send("scope", 60.0, 100, decide)
    third = store.window_send("scope", 60.0, 100, decide)
    assert first[1] is not None and second[1] is not None and first[1] != second[1]
    assert third == (1.5, None)  # refused: not logged
    store.window_charge("scope", 40, second[1], 0.0)
    store.window_send("scope", 60.0, 0, decide)
    sent, charges = seen[-1]
    assert len(sent) == 2 and sorted(t for _, t in charges) == [40, 100, 100]
