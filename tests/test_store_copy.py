"""`summarizer store migrate --to URL`: SQLite into a real PostgreSQL, idempotent, verified."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.llm.calls import CallRecord
from summarizer.sources.ingest import Document
from summarizer.store import Store


def _fill(store: Store) -> list[str]:
    doc = Document(text="An article.")
    store.put_document(doc)
    store.put_extraction(doc.sha256, "k", '{"x": 1}')
    run = store.start_run("daily", "2026-11-25", {"sources": ["a"]})
    ids = [store.put_brief("article", "{}", title=f"t{i}", run_id=run) for i in range(3)]
    store.finish_run(run, "ok", brief_id=ids[-1])
    call = CallRecord("k", "m", 200, 10, 5, 1.0, False, False)
    store.record_calls(run, [call, call], lambda m, i, o, c=0, **_: 0.1)
    store.claim_delivery("2026-11-25", "hook-abc")
    store.mark_delivered("2026-11-25", "hook-abc", ids[-1])
    store.create_job('{"documents": []}', owner="k1")
    store.claim_event("slack", "Ev1")
    store.put_endpoint_mode("http://localhost:8080/v1", "gemma", "md_json", "merge")
    return ids


def test_migrate_copies_everything_once_and_keeps_order(tmp_path: Path, pg_url: str) -> None:
    source_path = tmp_path / "s.db"
    with Store(source_path) as source:
        ids = _fill(source)
    secret_url = pg_url.replace("postgres@", "postgres:hunter2-secret@")
    runner = CliRunner()
    first = runner.invoke(app, ["store", "migrate", "--store", str(source_path), "--to", pg_url])
    assert first.exit_code == 0, first.output
    assert "verified" in first.output
    lines = {ln.split()[0]: ln.split()[1:] for ln in first.output.splitlines()[2:-1]}
    assert lines["briefs"] == ["3", "3", "3"]
    assert lines["llm_calls"] == ["2", "2", "2"]
    # Again: nothing doubled. (A password in the URL is never printed; trust auth ignores it.)
    again = runner.invoke(
        app, ["store", "migrate", "--store", str(source_path), "--to", secret_url]
    )
    assert again.exit_code == 0, again.output
    assert "hunter2" not in again.output
    lines = {ln.split()[0]: ln.split()[1:] for ln in again.output.splitlines()[2:-1]}
    assert all(copied == "0" for _, copied, _ in lines.values())
    assert lines["briefs"] == ["3", "0", "3"]
    with Store(pg_url) as target:
        assert [b.id for b in target.list_briefs()] == ids[::-1]
        assert target.claim_delivery("2026-11-25", "hook-abc") == "sent"
        assert target.claim_event("slack", "Ev1") is False
        assert target.get_endpoint_mode("http://localhost:8080/v1", "gemma") == ("md_json", "merge")
        # Rows added after the copy take new ids and sort after the copied ones.
        newest = target.put_brief("article", "{}", title="new")
        assert target.list_briefs(1)[0].id == newest
        target.record_calls(
            None, [CallRecord("k2", "m", 200, 1, 1, 1.0, False, False)], lambda *a, **_: 0
        )
        assert target.query("SELECT COUNT(*) FROM llm_calls")[0][0] == 3


def test_migrate_into_its_own_store_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    Store(path).close()
    done = CliRunner().invoke(app, ["store", "migrate", "--store", path, "--to", path])
    assert done.exit_code == 3
    assert "names the store itself" in done.output
