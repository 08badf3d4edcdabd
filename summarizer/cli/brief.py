"""`summarizer brief`: one brief per article file (or stdin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from summarizer.cli import edge, options


def brief(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Article files, URLs, or - for standard input.", show_default=False),
    ],
    feed: Annotated[
        bool, typer.Option("--feed", help="The URLs are RSS/Atom feeds: brief their entries.")
    ] = False,
    feed_entries: Annotated[
        int, typer.Option("--feed-entries", help="Most entries briefed per feed.")
    ] = 20,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="md, json, html or slack. Default md.", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to FILE (atomically) instead of stdout.",
            show_default=False,
        ),
    ] = None,
    config: options.Config = None,
    model: options.Model = None,
    base_url: options.BaseUrl = None,
    mode: options.Mode = None,
    system_prompt: options.SystemPrompt = None,
    record: options.Record = None,
    replay: options.Replay = None,
    strict: options.Strict = False,
    timeout: options.Timeout = None,
    retries: options.Retries = None,
    max_reasks: options.MaxReasks = None,
    max_tokens: options.MaxTokens = None,
    max_bytes: options.MaxBytes = None,
    language: options.Language = None,
    store: options.StorePath = None,
    verbose: options.Verbose = False,
) -> None:
    """Brief each article: summary, key points, stance table with quotes, open questions."""
    edge.setup_logging(verbose)
    with edge.guarded():
        import asyncio

        from summarizer.daily import EXIT_PARTIAL
        from summarizer.errors import ConfigError, InputError
        from summarizer.ingest import read_path
        from summarizer.pipeline import brief_documents
        from summarizer.render import FORMATS, render
        from summarizer.sources import is_url, load_inputs

        chosen = fmt or "md"
        if chosen not in FORMATS:
            raise ConfigError(f"--format {chosen}: unknown; use one of {', '.join(FORMATS)}")
        settings = options.settings_from_flags(
            config,
            strict=strict,
            model=model,
            base_url=base_url,
            mode=mode,
            system_prompt=system_prompt,
            record_dir=record,
            replay_dir=replay,
            timeout=timeout,
            http_retries=retries,
            max_reasks=max_reasks,
            max_tokens=max_tokens,
            max_input_bytes=max_bytes,
            store_path=store,
            language=language,
        )
        # Every input is read and checked before the first model call: a bad one costs nothing.
        if feed or any(is_url(a) for a in inputs):
            loaded = asyncio.run(
                load_inputs(
                    inputs,
                    max_bytes=settings.max_input_bytes,
                    page_bytes=settings.max_page_bytes,
                    feed=feed,
                    feed_entries=feed_entries,
                )
            )
            docs, failures = loaded.documents, loaded.failures
        else:
            docs, failures = [read_path(a, max_bytes=settings.max_input_bytes) for a in inputs], []
        for source, error in failures:
            edge.logger().warning(
                "skipped: %s", error if error.startswith(source) else f"{source}: {error}"
            )
        if not docs:
            raise InputError("nothing to brief: every feed entry failed (see above)")
        briefs = asyncio.run(brief_documents(docs, settings))
        text = render(briefs, chosen)
        _remember(briefs, settings)
        if output is not None:
            from summarizer.atomic import write_text

            write_text(output, text)
        elif chosen == "md" and sys.stdout.isatty():
            from rich.console import Console
            from rich.markdown import Markdown

            Console().print(Markdown(text))
        else:
            sys.stdout.write(text)
        if failures:
            raise typer.Exit(code=EXIT_PARTIAL)


def _remember(briefs: list[Any], settings: Any) -> None:
    """Keep each brief in the store for `summarizer history`/`show`. A store that cannot be
    opened costs the user a warning, never the brief they asked for."""
    from summarizer.errors import SummarizerError
    from summarizer.store import Store

    try:
        db = Store(options.store_path(settings))
        for b in briefs:
            db.put_brief("article", b.model_dump_json(), title=b.title)
        db.close()
    except SummarizerError as exc:
        edge.logger().warning("brief not kept in the store: %s", exc)
