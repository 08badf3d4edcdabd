"""A store error names the store (issue 20.15): "not in the store" says which one, so a run
against the wrong store is not taken for a wrong id."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from summarizer.cli import app

runner = CliRunner()


def _store(tmp_path: Path) -> Path:
    from summarizer.store import Store

    path = tmp_path / "team.db"
    Store(path).close()
    return path


def test_story_not_in_the_store_names_the_store(tmp_path: Path) -> None:
    path = _store(tmp_path)
    r = runner.invoke(app, ["story", "st-0000000000", "--store", str(path)])
    assert r.exit_code == 4, r.output
    assert f"story st-0000000000: not in the store {path}" in r.output
    assert "--store" in r.output and "Traceback" not in r.output


def test_questions_of_an_unknown_story_name_the_store(tmp_path: Path) -> None:
    path = _store(tmp_path)
    r = runner.invoke(app, ["questions", "--story", "st-0000000000", "--store", str(path)])
    assert r.exit_code == 4 and f"not in the store {path}" in r.output, r.output
    none = runner.invoke(app, ["questions", "--store", str(path)])
    assert none.exit_code == 0 and "_No questions match._" in none.stdout
    assert f"no questions match in the store {path}" in none.stderr


def test_show_names_the_store(tmp_path: Path) -> None:
    path = _store(tmp_path)
    r = runner.invoke(app, ["show", "nope", "--store", str(path)])
    assert r.exit_code == 4 and f"brief nope: not in the store {path}" in r.output, r.output


def test_a_postgresql_store_is_named_without_its_password() -> None:
    from summarizer.stories import ledger

    class FakeStore:
        label = "postgresql://summarizer:***@db/summarizer"

    text = ledger.no_story_message(FakeStore(), "st-1")  # type: ignore[arg-type]
    assert "not in the store postgresql://summarizer:***@db/summarizer" in text
