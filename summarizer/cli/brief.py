"""`summarizer brief`: one brief per article file (or stdin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from summarizer.cli import edge, options
from summarizer.render.formats import NAMES

# From the one format table (render/formats.py): offered here iff the renderers have it.
FORMAT_NAMES = ", ".join(NAMES)


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
            "--format", "-f", metavar="FORMAT", help=f"{FORMAT_NAMES}.", show_default="md"
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

        from summarizer.core.kinds import registry_for
        from summarizer.errors import EXIT_PARTIAL, InputError
        from summarizer.render import render
        from summarizer.render.formats import get_format
        from summarizer.sources.ingest import read_path
        from summarizer.sources.loader import HTML_SUFFIXES, is_url, load_sources

        chosen = get_format(fmt or "md").name
        settings = flags.settings()
        registry_for(settings).get(settings.kind)  # an unknown or broken kind: before any input
        # Every input is read before the first model call. A bad one is reported and costs
        # nothing; the rest are briefed (exit 9, as for a feed's bad entry).
        left_out: list[tuple[str, str, int]] = []
        if feed or any(is_url(a) or Path(a).suffix.lower() in HTML_SUFFIXES for a in inputs):
            loaded = asyncio.run(
                load_sources(inputs, settings=settings, feed=feed, feed_entries=feed_entries)
            )
            docs, failures = loaded.documents, loaded.failures
            left_out = [(x.source, x.reason, x.entries) for x in loaded.left_out]
        else:
            # Text files only: no HTTP client, no trafilatura import (a fast offline brief).
            docs, failures = [], []
            for a in inputs:
                try:
                    docs.append(read_path(a, max_bytes=settings.max_input_bytes))
                except InputError as exc:
                    failures.append((a, str(exc)))
        docs, copies = _distinct(docs)
        if copies:
            # Two entries (or inputs) with the same text: briefed once, as `daily` does.
            left_out.append(("inputs", "the same article as another (same text)", copies))
        reasons = [e if e.startswith(s) else f"{s}: {e}" for s, e in failures]
        if not docs and len(reasons) == 1:
            raise InputError(f"nothing to brief: {reasons[0]}")  # said once, as the error
        for reason in reasons:
            edge.logger().warning("skipped: %s", reason)
        for source, why, n in left_out:
            edge.logger().warning(
                "left out: %s: %d %s: %s", source, n, "entry" if n == 1 else "entries", why
            )
        if not docs:
            raise InputError("nothing to brief: no source gave an article (see above)")
        store = _open_store(settings)
        try:
            briefs = asyncio.run(_brief_all(docs, settings, store))
        finally:
            if store is not None:
                store.close()
        _say_empty(briefs, settings)
        text = render(briefs, chosen)
        if output is not None:
            from summarizer.plumbing.atomic import write_text

            write_text(output, text)
        else:
            edge.out(text, markdown=chosen == "md")
        if failures:
            raise typer.Exit(code=EXIT_PARTIAL)


def _distinct(docs: list[Any]) -> tuple[list[Any], int]:
    """The documents with a text not seen before (in order), and how many repeated one."""
    unique = {d.sha256: d for d in reversed(docs)}  # the first of each text wins
    out = [d for d in docs if unique.get(d.sha256) is d]
    return out, len(docs) - len(out)


def _say_empty(briefs: list[Any], settings: Any) -> None:
    """A brief with no stances, key points or open questions says so (the brief itself
    does too); under --strict it is an error (exit 7, like any output that fails its
    checks) and nothing is written."""
    from summarizer.core.schemas import Brief
    from summarizer.errors import ModelOutputError
    from summarizer.render.notices import EMPTY, is_empty, plural

    empty = [b for b in briefs if isinstance(b, Brief) and is_empty(b)]
    for b in empty:
        edge.logger().warning("%s: %s", b.title, EMPTY)
    if empty and settings.grounding == "fail":
        # Kept in the store with its calls (paid for all the same); nothing is written out.
        raise ModelOutputError(
            f"{len(empty)} of {plural(len(briefs), 'brief')} empty (no stances, key points or "
            "open questions) under --strict; try a stronger model, or drop --strict to keep it"
        )


async def _brief_all(docs: list[Any], settings: Any, store: Any) -> list[Any]:
    """Brief each document and keep it for `summarizer history`/`show`, with the LLM calls
    it took and their tokens and cost (briefing/keep.py, the path every front door takes),
    with one client. The first failure fails the command, so no partial output is written;
    what was briefed before it stays kept, and every call made is recorded."""
    from summarizer.briefing.keep import brief_and_keep
    from summarizer.llm.client import LLM
    from summarizer.plumbing.concurrency import gather_or_cancel

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
