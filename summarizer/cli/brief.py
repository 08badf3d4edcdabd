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
    *,
    flags: options.ModelFlags,
) -> None:
    """Brief each article: summary, key points, stance table with quotes, open questions.

    --kind timeline (or any kind from `summarizer kinds`) makes that kind instead.
    """
    edge.setup_logging(flags.verbose)
    with edge.guarded():
        import asyncio

        from summarizer.errors import EXIT_PARTIAL, InputError
        from summarizer.ingest import read_path
        from summarizer.kinds import registry_for
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
        store = _open_store(settings)
        try:
            briefs = asyncio.run(_brief_all(docs, settings, store))
        finally:
            if store is not None:
                store.close()
        text = render(briefs, chosen)
        if output is not None:
            from summarizer.atomic import write_text

            write_text(output, text)
        else:
            edge.out(text, markdown=chosen == "md")
        if failures:
            raise typer.Exit(code=EXIT_PARTIAL)


async def _brief_all(docs: list[Any], settings: Any, store: Any) -> list[Any]:
    """Brief each document and keep it for `summarizer history`/`show`, with the LLM calls
    it took and their tokens and cost (briefing/keep.py, the path every front door takes),
    with one client. The first failure fails the command, so no partial output is written;
    what was briefed before it stays kept, and every call made is recorded."""
    from summarizer.briefing.keep import brief_and_keep
    from summarizer.concurrency import gather_or_cancel
    from summarizer.llm.client import LLM

    llm = LLM(settings)
    try:
        kept = await gather_or_cancel(
            # reuse=False: `brief` asks the model every time (and --record records it);
            # must_keep=False: a failing store costs a warning, never the brief.
            brief_and_keep(
                d,
                settings=settings,
                llm=llm,
                store=store,
                origin="brief",
                reuse=False,
                must_keep=False,
            )
            for d in docs
        )
    finally:
        await llm.aclose()
    return [k.output for k in kept]


def _open_store(settings: Any) -> Any:
    """The store briefs are kept in; None (and a warning) when it cannot be opened: that
    costs the user the history, never the brief they asked for."""
    from summarizer.errors import SummarizerError
    from summarizer.store import Store

    try:
        return Store(options.store_path(settings))
    except SummarizerError as exc:
        edge.logger().warning("brief not kept in the store: %s", exc)
        return None
