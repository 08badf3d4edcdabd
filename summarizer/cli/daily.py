"""`summarizer daily`: the day's brief from many sources, for cron and systemd timers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli import edge, options


@options.model_options
def daily(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", "-s", help="Feed, URL, directory or file (repeatable).", show_default=False
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Where DATE.{md,json,html} go.", show_default=False),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Window: 24h, 90m, 2d or an ISO time. Default 24h.", show_default=False
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="File the brief under YYYY-MM-DD.", show_default=False),
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help="md, json, html, slack (repeatable). Default md, json, html.",
            show_default=False,
        ),
    ] = None,
    max_articles: Annotated[
        int | None,
        typer.Option("--max-articles", help="Most articles per run.", show_default=False),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option("--max-cost", help="Stop spending past this many USD.", show_default=False),
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
            "within 24 hours; exit 13 while the batch is pending. Default: [daily] batch.",
            show_default=False,
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

    Exit 0 when everything was briefed, 9 when some sources or articles failed (they are
    listed in the brief), 10 when another run holds the lock, 11 when nothing could be
    briefed, 13 when a batch (--batch) is still pending: run again later to collect it.
    """
    edge.setup_logging(flags.verbose, json_logs=log_json)
    with edge.guarded():
        from summarizer.daily import load_daily_config, run_daily
        from summarizer.store import Store

        settings = flags.settings(on_workers=on_workers or None)
        cfg = load_daily_config(
            flags.config, sources=source, out_dir=out_dir, since=since, date=date, formats=fmt,
            max_articles=max_articles, max_cost=max_cost, max_tokens=max_run_tokens,
            batch=batch, wait=wait or None, collect=collect or None,
        )  # fmt: skip
        db = Store(options.store_path(settings))
        with edge.progress("Briefing articles") as tick:
            result = edge.run_stoppable(
                run_daily(cfg, settings, store=db, force=force, on_article=tick), "the daily run"
            )
        log = edge.logger()
        for f in result.daily.failures:
            log.warning("not included: %s: %s", f.source, f.error)
        for w in result.warnings:
            log.warning("%s", w)
        if result.delivery:
            log.info("%s", result.delivery)
        p = result.daily.provenance
        log.info(
            "daily %s: %d stories, %d/%d articles, %d calls, %d+%d tokens, brief %s",
            result.daily.date, len(result.daily.stories), p.articles_briefed, p.articles_found,
            p.llm_calls, p.tokens_in, p.tokens_out, result.brief_id,
        )  # fmt: skip
        for path in result.paths:
            edge.out(f"{path}\n")
        if result.exit_code:
            raise typer.Exit(code=result.exit_code)
