"""`--help` reads like one tool: flags show no value, no Python type names, defaults in one
style and true, brackets kept, text wrapped by the terminal, examples at the end."""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from summarizer.cli import app

runner = CliRunner()


def _commands() -> list[str]:
    """Every command, sub-commands as "store migrate": a new one is checked as it lands."""
    found = []
    group = typer.main.get_command(app)
    for name, cmd in sorted(group.commands.items()):  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        found += [f"{name} {sub}" for sub in sorted(subs)] if subs else [name]
    return found


COMMANDS = _commands()


def help_text(command: str, columns: int = 100) -> str:
    r = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.output
    return r.output


def test_the_commands_are_all_found() -> None:
    assert {"brief", "daily", "testserver", "store migrate", "story", "questions"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_python_types_and_ends_with_examples(command: str) -> None:
    text = help_text(command)
    assert not re.search(r"<(bool|str|int|float|path|list\[[^>]*\])>", text), text
    assert "list[" not in text and "Path]" not in text, text
    examples = text.rindex("Examples:")
    assert examples > text.rindex("╰"), "the examples come after the options"
    after = text[examples:].splitlines()[1:]
    assert (
        sum(line.strip().startswith("summarizer ") or "summarizer " in line for line in after) >= 1
    )


def _row(text: str, option: str) -> str:
    """The option's row in the options panel, with its wrapped continuation lines."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if re.search(rf"│ {re.escape(option)}\s", ln))
    rows = [lines[start]]
    for ln in lines[start + 1 :]:
        if re.match(r"│ (--|-\w)", ln) or ln.startswith("╰"):
            break
        rows.append(ln)
    return " ".join(" ".join(r.strip("│ ").split()) for r in rows)


@pytest.mark.parametrize(
    ("command", "flag"),
    [("daily", "--force"), ("daily", "--log-json"), ("brief", "--feed"), ("brief", "--strict"),
     ("slack", "--socket-mode"), ("daily", "--verbose"), ("brief", "--help")],
)  # fmt: skip
def test_flags_that_take_no_value_show_none(command: str, flag: str) -> None:
    row = _row(help_text(command), flag)
    assert re.match(rf"{re.escape(flag)}( -\w)? [A-Z]", row), row  # the help text follows


def test_defaults_are_true_and_in_one_style() -> None:
    from summarizer.config import Settings
    from summarizer.daily.config import DailyConfig

    daily = help_text("daily", columns=200)
    assert "[default: ./briefs]" in _row(daily, "--out-dir")
    assert f"./{DailyConfig.model_fields['out_dir'].default}" == "./briefs"
    assert "[default: ~/.local/share/summarizer/summarizer.db]" in _row(daily, "--store")
    assert "[default: 24h]" in _row(daily, "--since")
    assert DailyConfig.model_fields["since"].default == "24h"
    assert f"[default: {DailyConfig.model_fields['max_articles'].default}]" in _row(
        daily, "--max-articles"
    )
    # The model options' defaults are the settings' own.
    for flag, field in [("--model", "model"), ("--mode", "mode"), ("--retries", "http_retries"),
                        ("--max-reasks", "max_reasks"), ("--max-tokens", "max_tokens"),
                        ("--max-bytes", "max_input_bytes"), ("--concurrency", "concurrency"),
                        ("--kind", "kind"), ("--system-prompt", "system_prompt")]:  # fmt: skip
        default = Settings.model_fields[field].default
        assert f"[default: {default}]" in _row(daily, flag), (flag, default)
    assert f"[default: {Settings.model_fields['timeout'].default:g}]" in _row(daily, "--timeout")
    # One style: no "Default x." prose beside the [default: ...] form.
    assert not re.search(r"\bDefault[ :]", daily), daily


def test_brackets_survive_the_renderer_and_batch_is_off_by_default() -> None:
    row = _row(help_text("daily", columns=200), "--batch")
    assert "[daily]" in row and "[default: off]" in row, row


def test_text_wraps_at_the_terminal_not_at_the_source_column() -> None:
    wide = help_text("daily", columns=200)
    # The exit-code paragraph is one line on a wide terminal, as typed over three.
    assert any(
        "10 when another run holds the lock, 11 when nothing" in ln for ln in wide.splitlines()
    )
    narrow = help_text("daily", columns=60)
    assert max(len(ln.rstrip()) for ln in narrow.splitlines()) <= 60
    group = help_text("", columns=200)
    story = next(ln for ln in group.splitlines() if "│ story" in ln)
    assert "then its questions" in story  # the whole first paragraph on one line
