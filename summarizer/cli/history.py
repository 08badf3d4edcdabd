"""`summarizer history` and `summarizer show ID`: what the store remembers."""

from __future__ import annotations

from typing import Annotated

import typer

from summarizer.cli import edge, options
from summarizer.render.formats import NAMES

# From the one format table (render/formats.py): offered here iff the renderers have it.
FORMAT_NAMES = ", ".join(NAMES)


def _line(text: str | None) -> str:
    # One entry, one line: a title holding a newline could pass for another entry.
    return " ".join((text or "").split())


def history(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many of each.")] = 20,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            "-k",
            metavar="KIND",
            help="Only outputs of this kind (brief, timeline, daily, ...).",
        ),
    ] = None,
    store: options.StorePath = None,
    config: options.Config = None,
) -> None:
    """List recent briefs and runs, and what the model calls cost.

    Examples:

    summarizer history -n 5
    summarizer history --kind daily --store /tmp/demo.db
    """
    with edge.guarded():
        from summarizer.store import Store

        db = Store(
            options.store_path(options.settings_from_flags(config, strict=False, store_path=store))
        )
        lines = ["Briefs (newest first):"]
        for b in db.list_briefs(limit, kind=kind):
            lines.append(f"  {b.id}  {b.created_at}  {b.kind:<8} {_line(b.title)}")
        lines.append("Runs (newest first):")
        for r in db.list_runs(limit):
            extra = f"  brief {r.title}" if r.title else ""
            # A failed run's error; for an interrupted or running one, whose process it was.
            label = "error" if r.status == "failed" else "note"
            error = f"  {label}: {_line(r.detail)}" if r.detail else ""
            lines.append(
                f"  {r.id}  {r.created_at}  {r.kind:<8} {r.day or '':<10} {r.status}{extra}{error}"
            )
        spend = db.spend()
        if spend:
            lines.append("LLM spend (all time, by front door):")
            for origin, n, tokens_in, tokens_out, cost, unknown in spend:
                price = "cost unknown" if cost is None else f"${cost:.4f}"
                # Calls without usage are not in the sums: say so, never count them as 0.
                without = f", {unknown} without usage (tokens and cost unknown)" if unknown else ""
                lines.append(
                    f"  {origin:<8} {n} call(s), {tokens_in}+{tokens_out} tokens, {price}{without}"
                )
        # Titles are article and model text: edge.out strips their control characters.
        edge.out("".join(f"{line}\n" for line in lines))


def show(
    brief_id: Annotated[str, typer.Argument(help="A brief id from `summarizer history`.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help=f"{FORMAT_NAMES}.")
    ] = "md",
    store: options.StorePath = None,
    config: options.Config = None,
    prompts_dir: options.PromptsDir = None,
    kind_file: options.KindFile = None,
) -> None:
    """Print a stored brief.

    Examples:

    summarizer show 9c1e0d2a -f html > brief.html
    summarizer show 9c1e0d2a --store /tmp/demo.db
    """
    with edge.guarded():
        from summarizer.core.kinds import load_output, registry_for
        from summarizer.core.schemas import DailyBrief
        from summarizer.errors import InputError
        from summarizer.render import render, render_daily
        from summarizer.render.formats import get_format
        from summarizer.store import Store

        get_format(fmt)
        settings = options.settings_from_flags(
            config, strict=False, store_path=store, prompts_dir=prompts_dir,
            kind_files=kind_file or None,
        )  # fmt: skip
        db = Store(options.store_path(settings))
        found = db.get_brief(brief_id)
        if found is None:
            raise InputError(
                f"brief {brief_id}: not in the store {db.label}; see `summarizer history` "
                "(pass --store to read another store)"
            )
        output = load_output(*found, registry_for(settings))
        if isinstance(output, DailyBrief):
            text = render_daily(output, fmt)
        else:
            text = render([output], fmt)
        edge.out(text)
