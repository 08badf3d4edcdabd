"""`summarizer mcp`: briefs for chat assistants over the Model Context Protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli import edge, options
from summarizer.cli.serve import ServiceConfig

Transport = Annotated[
    str, typer.Option("--transport", help="stdio (for a desktop client) or http (/mcp).")
]
LlmOption = Annotated[
    str,
    typer.Option(
        "--llm",
        help="endpoint: the OpenAI-compatible endpoint (or --replay); client: the connected "
        "assistant's own model, through MCP sampling (no key needed).",
    ),
]
AllowOrigin = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-origin",
        help="HTTP: a browser origin allowed besides loopback ones (repeatable).",
        show_default=False,
    ),
]


@options.model_options
def mcp(
    transport: Transport = "stdio",
    host: Annotated[str, typer.Option("--host", help="HTTP: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP: port to listen on.")] = 8765,
    llm: LlmOption = "endpoint",
    service_config: ServiceConfig = None,
    allow_origin: AllowOrigin = None,
    *,
    flags: options.ModelFlags,
) -> None:
    """Serve briefs to chat assistants over MCP: tools brief, daily, story, questions,
    kinds; resources summarizer://daily/latest and summarizer://stories/ID.

    stdio by default (a desktop client starts it); --transport http serves /mcp behind
    the API's keys (SUMMARIZER_API_KEYS).

    Examples:

    summarizer mcp --replay seeds/recordings
    summarizer mcp --transport http --port 8765 --store briefs.db
    """
    edge.setup_logging(flags.verbose)
    with edge.guarded():
        from summarizer.errors import ConfigError

        if transport not in ("stdio", "http"):
            raise ConfigError(f"--transport {transport}: unknown; use stdio or http")
        if llm not in ("endpoint", "client"):
            raise ConfigError(f"--llm {llm}: unknown; use endpoint or client")
        try:
            import mcp as _sdk  # noqa: F401
        except ImportError:
            raise ConfigError(
                "the MCP SDK is not installed: pip install 'summarizer[mcp]'"
            ) from None
        if transport == "stdio":
            _stdio(flags, llm)
        else:
            _http(flags, llm, host, port, service_config, allow_origin or [])


def _stdio(flags: options.ModelFlags, source: str) -> None:
    import anyio

    from summarizer.mcp.model import build_llm
    from summarizer.mcp.server import create_server
    from summarizer.store import Store

    settings, llm = build_llm(flags.settings(), source)  # type: ignore[arg-type]
    served = create_server(
        settings, Store(options.store_path(settings)), llm, sampling=source == "client"
    )

    async def run() -> None:
        try:
            await served.mcp.run_stdio_async()
        finally:
            await served.aclose()

    # stdout carries the protocol: everything else (logs, errors) goes to stderr.
    anyio.run(run)


def _http(
    flags: options.ModelFlags, source: str, host: str, port: int,
    service_config: Path | None, allow_origin: list[str],
) -> None:  # fmt: skip
    import uvicorn

    from summarizer.mcp.access import Access
    from summarizer.mcp.http import http_app, keys_for, public_message
    from summarizer.mcp.model import build_llm
    from summarizer.mcp.server import create_server
    from summarizer.serving.settings import load_service_settings
    from summarizer.store import Store

    service = load_service_settings(service_config, main_config=flags.config)
    keys = keys_for(service)
    settings, llm = build_llm(flags.settings(), source)  # type: ignore[arg-type]
    store = Store(options.store_path(settings))
    access = Access(
        local_briefs=service.local_briefs,
        admins=keys.admins,
        max_document_chars=service.max_document_chars,
        allow_private_urls=service.allow_private_urls,
    )
    served = create_server(
        settings, store, llm, access=access, describe=public_message, sampling=source == "client"
    )
    app = http_app(served, service, store, keys, allow_origins=allow_origin)
    typer.echo(f"summarizer MCP on http://{host}:{port}/mcp (Streamable HTTP)", err=True)
    # uvicorn logs the request line only (never headers), so keys stay out of logs.
    uvicorn.run(app, host=host, port=port, log_level="debug" if flags.verbose else "info")
