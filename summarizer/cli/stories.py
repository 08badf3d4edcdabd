"""`summarizer story ID` and `summarizer questions`: stories across runs and their ledger."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from summarizer.cli import edge, options

Fmt = Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="md or json.")]


def _check_format(fmt: str) -> None:
    from summarizer.errors import ConfigError

    if fmt not in ("md", "json"):
        raise ConfigError(f"--format {fmt}: unknown; use md or json")


def story(
    story_id: Annotated[str, typer.Argument(help="A story id from a daily brief.")],
    fmt: Fmt = "md",
    store: options.StorePath = None,
    config: options.Config = None,
) -> None:
    """A story's timeline across daily runs: each day's new developments, stances,
    shifts and answers, then its questions.

    Examples:

    summarizer story st-38ea36c762 --store /tmp/demo.db
    summarizer story st-38ea36c762 --format json
    """
    with edge.guarded():
        from summarizer.store import Store
        from summarizer.stories import ledger

        _check_format(fmt)
        settings = options.settings_from_flags(config, strict=False, store_path=store)
        data = ledger.story(Store(options.store_path(settings)), story_id)
        if fmt == "json":
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(ledger.story_markdown(data))


def questions(
    status: Annotated[
        str | None, typer.Option("--status", metavar="STATUS", help="open, answered or dropped.")
    ] = None,
    story_id: Annotated[
        str | None, typer.Option("--story", metavar="STORY_ID", help="One story's questions.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="YYYY-MM-DD", help="First asked on or after this day."),
    ] = None,
    fmt: Fmt = "md",
    store: options.StorePath = None,
    config: options.Config = None,
) -> None:
    """The open-question ledger: every question a daily brief asked, its status and age.

    Examples:

    summarizer questions --store /tmp/demo.db --status open
    summarizer questions --story st-38ea36c762 --since 2026-11-01 --format json
    """
    with edge.guarded():
        from summarizer.store import Store
        from summarizer.stories import ledger

        _check_format(fmt)
        settings = options.settings_from_flags(config, strict=False, store_path=store)
        db = Store(options.store_path(settings))
        found = ledger.questions(db, status=status, story=story_id, since=since)
        if story_id is not None and not found and not db.story_days(story_id):
            from summarizer.errors import InputError

            raise InputError(ledger.no_story_message(db, story_id))
        if not found:  # the reader sees "none"; stderr says where that was looked for
            typer.echo(f"no questions match in the store {db.label}", err=True)
        if fmt == "json":
            data = [q.model_dump() for q in found]
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(ledger.questions_markdown(found))
