"""`summarizer serve`: the HTTP API (FastAPI under uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli import edge, options

ServiceConfig = Annotated[
    Path | None,
    typer.Option(
        "--service-config",
        help="TOML file with API and Slack settings (api_keys, limits); env wins over it.",
        show_default=False,
    ),
]


@options.model_options
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    service_config: ServiceConfig = None,
    *,
    flags: options.ModelFlags,
) -> None:
    """Serve the HTTP API: POST /v1/briefs, GET /v1/jobs/ID, /healthz, /metrics.

    Needs API keys: SUMMARIZER_API_KEYS=key1,key2 (or api_keys in --service-config).
    """
    edge.setup_logging(flags.verbose)
    with edge.guarded():
        import uvicorn

        from summarizer.service.app import create_app
        from summarizer.service.settings import load_service_settings
        from summarizer.store import Store

        settings = flags.settings()
        service_settings = load_service_settings(service_config, main_config=flags.config)
        app = create_app(settings, service_settings, Store(options.store_path(settings)))
        typer.echo(f"summarizer API on http://{host}:{port} (OpenAPI at /openapi.json)", err=True)
        # uvicorn logs the request line only (never headers), so API keys stay out of logs.
        uvicorn.run(app, host=host, port=port, log_level="debug" if flags.verbose else "info")
