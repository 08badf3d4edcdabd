"""`summarizer slack`: the Slack bot, over HTTP (Events API) or Socket Mode."""

from __future__ import annotations

from typing import Annotated

import typer

from summarizer.cli import edge, options
from summarizer.cli.serve import ServiceConfig


@options.model_options
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
    *,
    flags: options.ModelFlags,
) -> None:
    """Run the Slack bot: /brief <url or text>, and @-mentions with a link.

    Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP), or SLACK_APP_TOKEN (--socket-mode).
    Slack sends events and commands to POST /slack/events.

    Examples:

    summarizer slack --port 3000
    summarizer slack --socket-mode
    """
    edge.setup_logging(flags.verbose)
    with edge.guarded():
        from summarizer.serving.settings import load_service_settings
        from summarizer.store import Store

        settings = flags.settings()
        service_settings = load_service_settings(service_config, main_config=flags.config)
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
        uvicorn.run(app, host=host, port=port, log_level="debug" if flags.verbose else "info")
