"""Renderers: one function per output format, from any kind's output or a DailyBrief.

Briefs (and stories) keep their own layout (markdown.py, html.py, slack.py); any other
kind is laid out from its fields by generic.py; what they all say about a brief (notices,
counts, "What changed", "Not included") is worded once, in notices.py, and no renderer
imports another. The formats are listed once, in formats.py, and each has its writer
here. Every renderer (and pydantic) is imported when first asked for: importing this
package, or its format table, costs the CLI's --help nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from summarizer.render.escape import json_text
from summarizer.render.formats import NAMES as FORMATS

if TYPE_CHECKING:
    from pydantic import BaseModel

    from summarizer.core.schemas import DailyBrief


def to_json(briefs: Sequence[BaseModel]) -> str:
    """One brief as an object; several as an array, in input order."""
    if len(briefs) == 1:
        return json_text(briefs[0].model_dump_json(indent=2)) + "\n"
    data = [b.model_dump(mode="json") for b in briefs]
    return json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


StoryUrl = Callable[[str], str]  # a story id -> its page on the reader's site


def _html(obj: BaseModel, story_url: StoryUrl | None = None) -> str:
    from summarizer.core.schemas import Brief, DailyBrief
    from summarizer.render import generic

    if not isinstance(obj, Brief | DailyBrief):
        return generic.to_html(obj)
    from summarizer.render.html import to_html

    return to_html(obj, story_url=story_url)


def _slack(obj: BaseModel, story_url: StoryUrl | None = None) -> list[dict[str, Any]]:
    from summarizer.core.schemas import Brief, DailyBrief
    from summarizer.render import generic

    if not isinstance(obj, Brief | DailyBrief):
        return generic.to_slack_messages(obj)
    from summarizer.render.slack import to_slack_messages

    return to_slack_messages(obj, story_url=story_url)


def _md(obj: BaseModel) -> str:
    from summarizer.core.schemas import Brief, DailyBrief
    from summarizer.render import generic
    from summarizer.render.markdown import daily_to_markdown, to_markdown

    if isinstance(obj, DailyBrief):
        return daily_to_markdown(obj)
    return to_markdown(obj) if isinstance(obj, Brief) else generic.to_markdown(obj)


def __getattr__(name: str) -> Any:
    # `from summarizer.render import to_markdown` still works, importing markdown.py then.
    if name == "to_markdown":
        from summarizer.render.markdown import to_markdown

        return to_markdown
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _json_one(obj: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = obj.model_dump(mode="json")
    return data


def _slack_text(messages: list[dict[str, Any]]) -> str:
    return json_text(json.dumps(messages, indent=2, ensure_ascii=False)) + "\n"


@dataclass(frozen=True)
class _Writer:
    one: Callable[[BaseModel], str | list[dict[str, Any]] | dict[str, Any]]  # the data
    many: Callable[[Sequence[BaseModel]], str]  # several outputs, as one text


# One writer per format in formats.py's table, checked below: the CLI, the API, daily and
# `show` all reach the renderers through these.
_WRITERS: dict[str, _Writer] = {
    "md": _Writer(_md, lambda objs: "\n---\n\n".join(_md(b) for b in objs)),
    "json": _Writer(_json_one, to_json),
    # Several briefs are several pages: one self-contained page each, in order.
    "html": _Writer(_html, lambda objs: "\n".join(_html(b) for b in objs)),
    "slack": _Writer(_slack, lambda objs: _slack_text([m for b in objs for m in _slack(b)])),
}
assert set(_WRITERS) == set(FORMATS), "every format in formats.py needs a writer here"


def _writer(fmt: str) -> _Writer:
    try:
        return _WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}") from None


def render_one(obj: BaseModel, fmt: str) -> str | list[dict[str, Any]] | dict[str, Any]:
    """One output (any kind, or a daily brief): text, or for slack and json the data."""
    return _writer(fmt).one(obj)


def render(briefs: Sequence[BaseModel], fmt: str) -> str:
    return _writer(fmt).many(briefs)


def render_daily(daily: DailyBrief, fmt: str, *, story_url: StoryUrl | None = None) -> str:
    """A daily brief in `fmt`; with `story_url` (the `site_url` setting), the html and
    slack outputs link each story to its page on the reader's site."""
    if fmt == "json":
        return json_text(daily.model_dump_json(indent=2)) + "\n"
    if fmt == "html":
        return _html(daily, story_url)
    if fmt == "slack":
        return _slack_text(_slack(daily, story_url))
    return _writer(fmt).many([daily])


__all__ = ["FORMATS", "render", "render_daily", "render_one", "to_json", "to_markdown"]
