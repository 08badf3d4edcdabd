"""The four commands that call a model offer the same options (cli/options.py)."""

from __future__ import annotations

from dataclasses import fields

import pytest
import typer.main

from summarizer.cli import app
from summarizer.cli.options import ModelFlags


def _options(command: str) -> set[str]:
    click_app = typer.main.get_command(app)
    cmd = click_app.commands[command]  # type: ignore[attr-defined]
    return {opt for p in cmd.params for opt in p.opts if opt.startswith("--")}


@pytest.mark.parametrize("command", ["brief", "daily", "serve", "slack"])
def test_model_commands_share_one_option_set(command: str) -> None:
    expected = {"--" + f.name.replace("_", "-") for f in fields(ModelFlags)}
    assert expected <= _options(command), expected - _options(command)


def test_the_shared_set_is_the_same_everywhere() -> None:
    shared = [
        _options(c) & {"--" + f.name.replace("_", "-") for f in fields(ModelFlags)}
        for c in ("brief", "daily", "serve", "slack")
    ]
    assert all(s == shared[0] for s in shared)
    assert {"--rpm", "--retries", "--kind", "--prompts-dir", "--kind-file"} <= shared[0]


def test_the_progress_bar_names_its_phase_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from summarizer.cli import edge

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    with edge.progress("Briefing articles", first="Reading sources") as tick:
        shown_first = screen.getvalue()
        tick(2, 3)
    assert "Reading sources" in shown_first
    assert "Briefing articles" in screen.getvalue() and "2/3" in screen.getvalue()
