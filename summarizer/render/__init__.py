"""Renderers: one function per output format, all from the same Brief or DailyBrief.

md and json are cheap and imported here; html (Jinja2) and slack (Block Kit) are imported
when asked for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from summarizer.render.escape import json_text
from summarizer.render.markdown import daily_to_markdown, to_markdown
from summarizer.schemas import Brief, DailyBrief

FORMATS: tuple[str, ...] = ("md", "json", "html", "slack")


def to_json(briefs: Sequence[Brief]) -> str:
    """One brief as an object; several as an array, in input order."""
    if len(briefs) == 1:
        return json_text(briefs[0].model_dump_json(indent=2)) + "\n"
    data = [b.model_dump(mode="json") for b in briefs]
    return json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _html(obj: Brief | DailyBrief) -> str:
    from summarizer.render.html import to_html

    return to_html(obj)


def _slack(obj: Brief | DailyBrief) -> list[dict[str, object]]:
    from summarizer.render.slack import to_slack_messages

    return to_slack_messages(obj)


def render(briefs: Sequence[Brief], fmt: str) -> str:
    if fmt == "md":
        return "\n---\n\n".join(to_markdown(b) for b in briefs)
    if fmt == "json":
        return to_json(briefs)
    if fmt == "html":
        # Several briefs are several pages: one self-contained page each, in order.
        return "\n".join(_html(b) for b in briefs)
    if fmt == "slack":
        messages = [m for b in briefs for m in _slack(b)]
        return json_text(json.dumps(messages, indent=2, ensure_ascii=False)) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


def render_daily(daily: DailyBrief, fmt: str) -> str:
    if fmt == "md":
        return daily_to_markdown(daily)
    if fmt == "json":
        return json_text(daily.model_dump_json(indent=2)) + "\n"
    if fmt == "html":
        return _html(daily)
    if fmt == "slack":
        return json_text(json.dumps(_slack(daily), indent=2, ensure_ascii=False)) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["FORMATS", "render", "render_daily", "to_json", "to_markdown"]
