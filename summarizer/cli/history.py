"""`summarizer history` and `summarizer show ID`: what the store remembers."""

from __future__ import annotations

from typing import Annotated

import typer

from summarizer.cli import edge, options


def _line(text: str | None) -> str:
    # One entry, one line: a title holding a newline could pass for another entry.
    return " ".join((text or "").split())


def history(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many of each.")] = 20,
    store: options.StorePath = None,
    config: options.Config = None,
) -> None:
    """List recent briefs and runs."""
    with edge.guarded():
        from summarizer.store import Store

        db = Store(
            options.store_path(options.settings_from_flags(config, strict=False, store_path=store))
        )
        lines = ["Briefs (newest first):"]
        for b in db.list_briefs(limit):
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
        # Titles are article and model text: edge.out strips their control characters.
        edge.out("".join(f"{line}\n" for line in lines))


def show(
    brief_id: Annotated[str, typer.Argument(help="A brief id from `summarizer history`.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, json, html or slack.")] = "md",
    store: options.StorePath = None,
    config: options.Config = None,
) -> None:
    """Print a stored brief."""
    with edge.guarded():
        from summarizer.errors import ConfigError, InputError
        from summarizer.render import FORMATS, render, render_daily
        from summarizer.schemas import Brief, DailyBrief
        from summarizer.store import Store

        if fmt not in FORMATS:
            raise ConfigError(f"--format {fmt}: unknown; use one of {', '.join(FORMATS)}")
        db = Store(
            options.store_path(options.settings_from_flags(config, strict=False, store_path=store))
        )
        found = db.get_brief(brief_id)
        if found is None:
            raise InputError(f"brief {brief_id}: not in the store; see `summarizer history`")
        kind, body = found
        if kind == "daily":
            text = render_daily(DailyBrief.model_validate_json(body), fmt)
        else:
            text = render([Brief.model_validate_json(body)], fmt)
        edge.out(text)
