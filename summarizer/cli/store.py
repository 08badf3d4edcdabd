"""`summarizer store migrate --to URL`: move a store (SQLite) into PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer

from summarizer.cli import edge, options
from summarizer.cli.help import Command, Group

app = typer.Typer(help="Manage the store.", no_args_is_help=True, cls=Group)


@app.command("migrate", cls=Command)
def migrate(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL|FILE",
            help="The target: a postgresql:// URL (or another SQLite file).",
        ),
    ],
    store: options.StorePath = None,
    config: options.Config = None,
) -> None:
    """Copy every row of the store into the target, idempotently, and verify the counts.

    The source is the configured store (--store, database_url or store_path). Run it again
    at any time: it copies only the rows the target lacks.

    Examples:

    summarizer store migrate --to postgresql://summarizer@db/summarizer
    summarizer store migrate --store /tmp/demo.db --to /tmp/copy.db
    """
    with edge.guarded():
        from summarizer.errors import ConfigError
        from summarizer.plumbing import redact
        from summarizer.store import Store
        from summarizer.store.copy import copy_store

        source_target = options.store_path(
            options.settings_from_flags(config, strict=False, store_path=store)
        )
        if str(source_target) == to:
            raise ConfigError("--to names the store itself; give another database")
        with Store(source_target) as source, Store(to) as target:
            report = copy_store(source, target)
        typer.echo(f"copied {source.label} -> {redact.url(to)}")
        typer.echo(f"  {'table':<12} {'source':>8} {'copied':>8} {'target':>8}")
        for t in report:
            typer.echo(f"  {t.table:<12} {t.source:>8} {t.copied:>8} {t.target:>8}")
        typer.echo("verified: every source row is in the target")
