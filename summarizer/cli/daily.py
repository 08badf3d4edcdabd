"""`summarizer daily`: the day's brief from many sources, for cron and systemd timers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli import edge, options
from summarizer.render.formats import NAMES

# From the one format table (render/formats.py): offered here iff the renderers have it.
FORMAT_NAMES = ", ".join(NAMES)


@options.model_options
def daily(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            metavar="SOURCE",
            help="Feed, URL, directory or file (repeatable).",
            show_default="sources in the config file's [daily] table",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir",
            metavar="DIR",
            help="Where DATE.{md,json,html} go.",
            show_default="./briefs",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="WINDOW",
            help="Articles published since: 24h, 90m, 2d or an ISO time.",
            show_default="24h",
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="File the brief under this day.",
            show_default="today (UTC)",
        ),
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help=f"{FORMAT_NAMES} (repeatable).",
            show_default="md, json, html",
        ),
    ] = None,
    max_articles: Annotated[
        int | None,
        typer.Option("--max-articles", help="Most articles per run.", show_default="50"),
    ] = None,
    feed_entries: Annotated[
        int | None,
        typer.Option(
            "--feed-entries",
            help="Most entries taken from one feed, newest first (the rest are listed under "
            "Not included); [daily] feed_entries sets it too.",
            show_default="20",
        ),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            metavar="USD",
            help="Stop spending past this many USD.",
            show_default=False,
        ),
    ] = None,
    max_run_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-run-tokens", help="Stop past this many tokens in the run.", show_default=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Deliver again even if already sent.")
    ] = False,
    log_json: options.LogJson = False,
    on_workers: Annotated[
        bool,
        typer.Option(
            "--on-workers",
            help="Brief the articles on `summarizer worker`s (needs a PostgreSQL store).",
        ),
    ] = False,
    batch: Annotated[
        bool | None,
        typer.Option(
            "--batch/--no-batch",
            help="Brief the articles through the provider's Batch API: half price, answered "
            "within 24 hours; exit 13 while the batch is pending. `batch = true` in the config "
            "file's [daily] table turns it on for every run.",
            show_default="off",
        ),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="With --batch: wait for the batches and finish the brief."),
    ] = False,
    collect: Annotated[
        bool,
        typer.Option(
            "--collect",
            help="With --batch: wait for the batches already submitted and brief the rest "
            "live, to finish the brief now (a morning run after a night's --batch).",
        ),
    ] = False,
    *,
    flags: options.ModelFlags,
) -> None:
    """Brief the day's articles, grouped into stories, to DIR/DATE.{md,json,html}.

    Exit 0 when everything was briefed, 9 when a source, an article or a story step failed
    (they are listed in the brief), 10 when another run holds the lock, 11 when nothing
    could be briefed, 13 when a batch (--batch) is still pending: run again later to collect
    it.

    Examples:

    summarizer daily -s https://example.com/feed.xml -s ~/clippings --out-dir briefs
    summarizer daily -s seeds/daily --replay seeds/recordings --store /tmp/demo.db --date 2026-11-25
    """
    edge.setup_logging(flags.verbose, json_logs=log_json)
    with edge.guarded():
        from summarizer.daily import load_daily_config, run_daily
        from summarizer.store import Store

        settings = flags.settings(on_workers=on_workers or None)
        cfg = load_daily_config(
            flags.config, sources=source, out_dir=out_dir, since=since, date=date, formats=fmt,
            max_articles=max_articles, feed_entries=feed_entries, max_cost=max_cost,
            max_tokens=max_run_tokens, batch=batch, wait=wait or None, collect=collect or None,
        )  # fmt: skip
        db = Store(options.store_path(settings))
        with edge.progress("Briefing articles", first="Reading sources") as tick:
            result = edge.run_stoppable(
                run_daily(cfg, settings, store=db, force=force, on_article=tick), "the daily run"
            )
        log = edge.logger()
        for f in result.daily.failures:
            log.warning("not included: %s: %s", f.source, f.error)
            if f.detail:
                log.debug("not included: %s: %s", f.source, f.detail)
        from summarizer.render.notices import EMPTY, is_empty, plural

        for story in result.daily.stories:
            if is_empty(story):
                log.warning("%s: %s", story.title, EMPTY)
        for w in result.warnings:
            log.warning("%s", w)
        if result.delivery:
            log.info("%s", result.delivery)
        p = result.daily.provenance
        log.info(
            "daily %s: %s, %d/%d articles, %d calls, %s+%s tokens, brief %s",
            result.daily.date, plural(len(result.daily.stories), "story", "stories"),
            p.articles_briefed, p.articles_found,
            p.llm_calls, p.tokens_in, p.tokens_out, result.brief_id,
        )  # fmt: skip
        for path in result.paths:
            edge.out(f"{path}\n")
        if result.exit_code:
            raise typer.Exit(code=result.exit_code)
