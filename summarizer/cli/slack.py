"""`summarizer slack`: the Slack bot, over HTTP (Events API) or Socket Mode."""

from __future__ import annotations

from typing import Annotated

import typer

from summarizer.cli import edge, options
from summarizer.cli.serve import ServiceConfig


def slack(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 3000,
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode", help="Connect out over a websocket (SLACK_APP_TOKEN); no public URL."
        ),
    ] = False,
    service_config: ServiceConfig = None,
    store: options.StorePath = None,
    config: options.Config = None,
    model: options.Model = None,
    base_url: options.BaseUrl = None,
    mode: options.Mode = None,
    replay: options.Replay = None,
    strict: options.Strict = False,
    timeout: options.Timeout = None,
    max_bytes: options.MaxBytes = None,
    concurrency: options.Concurrency = None,
    verbose: options.Verbose = False,
) -> None:
    """Run the Slack bot: /brief <url or text>, and @-mentions with a link.

    Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP), or SLACK_APP_TOKEN (--socket-mode).
    Slack sends events and commands to POST /slack/events.
    """
    edge.setup_logging(verbose)
    with edge.guarded():
        from summarizer.service.settings import load_service_settings
        from summarizer.store import Store

        settings = options.settings_from_flags(
            config,
            strict=strict,
            model=model,
            base_url=base_url,
            mode=mode,
            replay_dir=replay,
            timeout=timeout,
            max_input_bytes=max_bytes,
            concurrency=concurrency,
            store_path=store,
        )
        service_settings = load_service_settings(service_config, main_config=config)
        db = Store(options.store_path(settings))
        if socket_mode:
            import asyncio

            from summarizer.slack.app import run_socket_mode

            typer.echo("summarizer Slack bot connecting in Socket Mode", err=True)
            asyncio.run(run_socket_mode(settings, service_settings, db))
            return
        import uvicorn

        from summarizer.slack.app import EVENTS_PATH, create_slack_http_app

        app = create_slack_http_app(settings, service_settings, db)
        typer.echo(f"summarizer Slack bot on http://{host}:{port}{EVENTS_PATH}", err=True)
        uvicorn.run(app, host=host, port=port, log_level="debug" if verbose else "info")
