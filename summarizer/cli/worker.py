"""`summarizer worker`: run API jobs and Slack briefs from the queue (PostgreSQL store)."""

from __future__ import annotations

from typing import Annotated

import typer

from summarizer.cli import edge, options


@options.model_options
def worker(
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Jobs run at once by this worker.", min=1)
    ] = 2,
    stalled_after: Annotated[
        float,
        typer.Option(
            "--stalled-after",
            help="Seconds of silence after which a worker's jobs are given to another.",
            min=1.0,
        ),
    ] = 30.0,
    *,
    flags: options.ModelFlags,
) -> None:
    """Run queued API jobs and Slack briefs until stopped (Ctrl-C or SIGTERM finish the
    jobs in hand).

    Start as many as you like, on any machine that reaches the database.

    Examples:

    summarizer worker --jobs 2 --store postgresql://summarizer@db/summarizer
    SUMMARIZER_DATABASE_URL=postgresql://summarizer@db/summarizer summarizer worker
    """
    edge.setup_logging(flags.verbose)
    with edge.guarded():
        import asyncio

        from summarizer.errors import ConfigError
        from summarizer.plumbing import redact
        from summarizer.serving.jobs import Briefer
        from summarizer.serving.metrics import Metrics
        from summarizer.serving.settings import load_service_settings
        from summarizer.store import Store, is_database_url
        from summarizer.workers.queue import run_worker

        settings = flags.settings()
        target = options.store_path(settings)
        if not is_database_url(target):
            raise ConfigError(
                "summarizer worker needs a PostgreSQL store: set SUMMARIZER_DATABASE_URL "
                "or --store postgresql://...; on SQLite, `serve` runs its jobs itself"
            )
        url = str(target)
        db = Store(url)
        briefer = Briefer(settings, db, Metrics())
        # Slack briefs too, when this worker has the bot's token (the same environment
        # as the bot: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET).
        service = load_service_settings(None, main_config=flags.config)
        slack = None
        if service.slack_bot_token is not None:
            from summarizer.slack.app import SlackBot

            slack = SlackBot(settings, service, db, briefer=briefer)
        what = "API jobs and Slack briefs" if slack else "API jobs (no SLACK_BOT_TOKEN)"
        typer.echo(f"summarizer worker on {redact.url(url)}: {what}, {jobs} at once", err=True)
        try:
            asyncio.run(
                run_worker(url, briefer, concurrency=jobs, stalled_after=stalled_after, slack=slack)
            )
        finally:
            db.close()
