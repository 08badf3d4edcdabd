"""`summarizer brief`: one brief per article file (or stdin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from summarizer.cli import edge, options


@options.model_options
def brief(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE|URL|-",
            help="Article files, URLs, or - for standard input.",
            show_default=False,
        ),
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
            "--format", "-f", metavar="FORMAT", help="md, json, html or slack.", show_default="md"
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE (atomically) instead of stdout.",
            show_default=False,
        ),
    ] = None,
    *,
    flags: options.ModelFlags,
) -> None:
    """Brief each article: summary, key points, stance table with quotes, open questions.

    --kind timeline (or any kind from `summarizer kinds`) makes that kind instead.

    Examples:

    summarizer brief article.txt https://example.com/news/story -f json -o briefs.json
    summarizer brief seeds/haftar-turkiye-visit.txt --replay seeds/recordings
    """
    edge.setup_logging(flags.verbose)
    with edge.guarded():
        import asyncio

        from summarizer.errors import EXIT_PARTIAL, InputError
        from summarizer.ingest import read_path
        from summarizer.kinds import registry_for
        from summarizer.pipeline import brief_documents
        from summarizer.render import render
        from summarizer.render.formats import get_format
        from summarizer.sources import HTML_SUFFIXES, is_url, load_sources

        chosen = get_format(fmt or "md").name
        settings = flags.settings()
        registry_for(settings).get(settings.kind)  # an unknown or broken kind: before any input
        # Every input is read and checked before the first model call: a bad one costs nothing.
        if feed or any(is_url(a) or Path(a).suffix.lower() in HTML_SUFFIXES for a in inputs):
            loaded = asyncio.run(
                load_sources(
                    inputs,
                    settings=settings,
                    feed=feed,
                    feed_entries=feed_entries,
                    keep_going=False,
                )
            )
            docs, failures = loaded.documents, loaded.failures
        else:
            # Text files only: no HTTP client, no trafilatura import (a fast offline brief).
            docs, failures = [read_path(a, max_bytes=settings.max_input_bytes) for a in inputs], []
        reasons = [e if e.startswith(s) else f"{s}: {e}" for s, e in failures]
        for reason in reasons:
            edge.logger().warning("skipped: %s", reason)
        if not docs:
            raise InputError(
                f"nothing to brief: {reasons[0]}"
                if len(reasons) == 1
                else "nothing to brief: no source gave an article (see above)"
            )
        from summarizer.llm import calls

        with calls.collecting() as spent:
            try:
                briefs = asyncio.run(brief_documents(docs, settings))
            except BaseException:
                _remember([], settings, spent.records)  # the calls were paid for all the same
                raise
        text = render(briefs, chosen)
        _remember(briefs, settings, spent.records)
        if output is not None:
            from summarizer.atomic import write_text

            write_text(output, text)
        else:
            edge.out(text, markdown=chosen == "md")
        if failures:
            raise typer.Exit(code=EXIT_PARTIAL)


def _remember(briefs: list[Any], settings: Any, records: list[Any]) -> None:
    """Keep each brief in the store for `summarizer history`/`show`, and the LLM calls made
    with their tokens and cost, as `daily` records its own. A store that cannot be opened
    costs the user a warning, never the brief they asked for."""
    from summarizer.errors import SummarizerError
    from summarizer.pricing import cost_usd
    from summarizer.render.generic import title_of
    from summarizer.store import Store

    try:
        db = Store(options.store_path(settings))
        db.record_calls(None, records, cost_usd, origin="brief")
        for b in briefs:
            db.put_brief(b.provenance.kind, b.model_dump_json(), title=title_of(b))
        db.close()
    except SummarizerError as exc:
        edge.logger().warning("brief not kept in the store: %s", exc)
