"""`summarizer serve`: the HTTP API (FastAPI under uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from summarizer.cli import edge, options

ServiceConfig = Annotated[
    Path | None,
    typer.Option(
        "--service-config",
        metavar="FILE",
        help="TOML file with API and Slack settings (api_keys, limits); env wins over it.",
        show_default="$SUMMARIZER_SERVICE_CONFIG, else the config file's [service] table",
    ),
]


@options.model_options
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", help="API processes (more than 1 needs a PostgreSQL store).", min=1
        ),
    ] = 1,
    service_config: ServiceConfig = None,
    *,
    flags: options.ModelFlags,
) -> None:
    """Serve the HTTP API: POST /v1/briefs, GET /v1/jobs/ID, /healthz, /metrics.

    Needs API keys: SUMMARIZER_API_KEYS=key1,key2 (or api_keys in --service-config).

    Examples:

    SUMMARIZER_API_KEYS=$(openssl rand -hex 24) summarizer serve --port 8080
    summarizer serve --workers 2 --store postgresql://summarizer@db/summarizer
    """
    edge.setup_logging(flags.verbose)
    with edge.guarded():
        import uvicorn

        from summarizer.service.app import create_app
        from summarizer.serving.settings import load_service_settings
        from summarizer.store import Store

        settings = flags.settings()
        service_settings = load_service_settings(service_config, main_config=flags.config)
        log_level = "debug" if flags.verbose else "info"
        if workers > 1:
            _serve_processes(settings, service_config, flags.config, host, port, workers, log_level)
            return
        app = create_app(settings, service_settings, Store(options.store_path(settings)))
        typer.echo(f"summarizer API on http://{host}:{port} (OpenAPI at /openapi.json)", err=True)
        # uvicorn logs the request line only (never headers), so API keys stay out of logs.
        uvicorn.run(app, host=host, port=port, log_level=log_level)


_SETTINGS_ENV = "SUMMARIZER_SERVE_SETTINGS"


def _serve_processes(
    settings: Any, service_config: Path | None, config: Path | None, host: str, port: int,
    workers: int, log_level: str,
) -> None:  # fmt: skip
    """Several API processes on one port (uvicorn's workers). Only on PostgreSQL: there the
    jobs, the store and the provider's rate limit are shared; on SQLite each process would
    keep its own."""
    import json
    import os

    import uvicorn

    from summarizer.errors import ConfigError
    from summarizer.store import is_database_url

    if not is_database_url(options.store_path(settings)):
        raise ConfigError(
            "--workers above 1 needs a PostgreSQL store (SUMMARIZER_DATABASE_URL or --store "
            "postgresql://...); on SQLite the API runs in one process"
        )
    # Each worker process rebuilds the same settings: passed through its environment
    # (inherited, never printed), as uvicorn starts workers from an import string.
    os.environ[_SETTINGS_ENV] = json.dumps(
        {
            "settings": settings.model_dump(mode="json", exclude_none=True)
            | {"api_key": settings.api_key.get_secret_value() if settings.api_key else None},
            "service_config": str(service_config) if service_config else None,
            "config": str(config) if config else None,
        }
    )
    typer.echo(
        f"summarizer API on http://{host}:{port}, {workers} processes (OpenAPI at /openapi.json)",
        err=True,
    )
    uvicorn.run(
        "summarizer.cli.serve:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


def app_from_environment() -> Any:
    """uvicorn's factory in each worker process of `serve --workers N`."""
    import json
    import os

    from summarizer.config import Settings, load
    from summarizer.service.app import create_app
    from summarizer.serving.settings import load_service_settings
    from summarizer.store import Store

    spec = json.loads(os.environ[_SETTINGS_ENV])
    # The parent's resolved settings, as flags of the one loader (config.load).
    settings = load(Settings, flags=spec["settings"], file_values={})
    main = Path(spec["config"]) if spec["config"] else None
    service = Path(spec["service_config"]) if spec["service_config"] else None
    service_settings = load_service_settings(service, main_config=main)
    return create_app(settings, service_settings, Store(options.store_path(settings)))
