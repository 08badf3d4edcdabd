"""`summarizer site --out DIR`: the store as a static site a browser opens from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli import edge, options


def site(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to build the site in (made if missing).")
    ],
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only days and stories from YYYY-MM-DD on.", show_default=False
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--days", help="Only the last N days (today included).", show_default=False),
    ] = None,
    store: options.StorePath = None,
    config: options.Config = None,
) -> None:
    """Build the reader's site from the store: the daily briefs, each story's timeline
    and stance history, the question ledger and spend. Rerun it after `daily` (cron):
    only what changed is rewritten.

    Examples:
      summarizer site --out site --store briefs.db
      summarizer site --out /srv/www/briefs --days 90
    """
    with edge.guarded():
        from summarizer.site.build import build_site, describe
        from summarizer.store import Store

        settings = options.settings_from_flags(config, strict=False, store_path=store)
        report = build_site(Store(options.store_path(settings)), out, since=since, days=days)
        for line in describe(report):
            typer.echo(line, err=True)
