"""Renderers: one function per output format, from any kind's output or a DailyBrief.

Briefs (and stories) keep their own layout (markdown.py, html.py, slack.py); any other
kind is laid out from its fields by generic.py. The formats are listed once, in
formats.py. md and json are cheap and imported here; html (Jinja2) and slack (Block Kit)
are imported when asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from summarizer.render import generic
from summarizer.render.escape import json_text
from summarizer.render.formats import NAMES as FORMATS
from summarizer.render.markdown import daily_to_markdown, to_markdown
from summarizer.schemas import Brief, DailyBrief


def to_json(briefs: Sequence[BaseModel]) -> str:
    """One brief as an object; several as an array, in input order."""
    if len(briefs) == 1:
        return json_text(briefs[0].model_dump_json(indent=2)) + "\n"
    data = [b.model_dump(mode="json") for b in briefs]
    return json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


StoryUrl = Callable[[str], str]  # a story id -> its page on the reader's site


def _html(obj: BaseModel, story_url: StoryUrl | None = None) -> str:
    if not isinstance(obj, Brief | DailyBrief):
        return generic.to_html(obj)
    from summarizer.render.html import to_html

    return to_html(obj, story_url=story_url)


def _slack(obj: BaseModel, story_url: StoryUrl | None = None) -> list[dict[str, Any]]:
    if not isinstance(obj, Brief | DailyBrief):
        return generic.to_slack_messages(obj)
    from summarizer.render.slack import to_slack_messages

    return to_slack_messages(obj, story_url=story_url)


def _md(obj: BaseModel) -> str:
    if isinstance(obj, DailyBrief):
        return daily_to_markdown(obj)
    return to_markdown(obj) if isinstance(obj, Brief) else generic.to_markdown(obj)


def render_one(obj: BaseModel, fmt: str) -> str | list[dict[str, Any]] | dict[str, Any]:
    """One output (any kind, or a daily brief): text, or for slack and json the data."""
    if fmt == "md":
        return _md(obj)
    if fmt == "html":
        return _html(obj)
    if fmt == "slack":
        return _slack(obj)
    if fmt == "json":
        data: dict[str, Any] = obj.model_dump(mode="json")
        return data
    raise ValueError(f"unknown format {fmt!r}")


def render(briefs: Sequence[BaseModel], fmt: str) -> str:
    if fmt == "md":
        return "\n---\n\n".join(_md(b) for b in briefs)
    if fmt == "json":
        return to_json(briefs)
    if fmt == "html":
        # Several briefs are several pages: one self-contained page each, in order.
        return "\n".join(_html(b) for b in briefs)
    if fmt == "slack":
        messages = [m for b in briefs for m in _slack(b)]
        return json_text(json.dumps(messages, indent=2, ensure_ascii=False)) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


def render_daily(daily: DailyBrief, fmt: str, *, story_url: StoryUrl | None = None) -> str:
    """A daily brief in `fmt`; with `story_url`, the html and slack outputs link each
    story to its page on the reader's site."""
    if fmt == "md":
        return daily_to_markdown(daily)
    if fmt == "json":
        return json_text(daily.model_dump_json(indent=2)) + "\n"
    if fmt == "html":
        return _html(daily, story_url)
    if fmt == "slack":
        return json_text(json.dumps(_slack(daily, story_url), indent=2, ensure_ascii=False)) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["FORMATS", "render", "render_daily", "render_one", "to_json", "to_markdown"]
