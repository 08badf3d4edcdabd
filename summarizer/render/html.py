"""Briefs as one self-contained HTML page: inline CSS, no scripts, no external assets.

Article-derived text (quotes, titles, positions) is untrusted, so the Jinja2 environment
escapes every value by default; the template never marks model or article text `|safe`.
Every printed value also loses its control characters (render/escape.py's `plain`), which
no page needs and which would reach a terminal that shows the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

    from summarizer.schemas import Brief, DailyBrief

FIXTURE_NOTICE = (
    "This brief was replayed from recordings that were written by hand or served by a "
    "test server, not produced by a live model."
)
REPLAY_NOTICE = "Replayed from recorded model responses; no model was called for this run."


def _finalize(value: object) -> object:
    from markupsafe import Markup

    from summarizer.render.escape import plain

    # Markup is the template's own (a macro's output), already built from finalized values.
    if isinstance(value, str) and not isinstance(value, Markup):
        return plain(value)
    return value


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("summarizer.render", "templates"),
        # On for every template whatever its file name: select_autoescape() would not
        # recognise the .j2 suffix and leave it off.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _origin(fixture: bool, replayed: bool) -> str:
    return "replayed fixture" if fixture else "replayed" if replayed else "live"


def to_html(
    obj: Brief | DailyBrief,
    *,
    story_url: Callable[[str], str] | None = None,
    nav: Sequence[tuple[str, str]] = (),
) -> str:
    """A full HTML page for one Brief or one DailyBrief. `story_url` maps a story id to
    its page (the reader's site, or `site_url`): each story then links to its timeline;
    `nav` is a row of (label, href) links at the top (the site's day pages)."""
    from summarizer.schemas import DailyBrief, tokens_text

    template = _environment().get_template("brief.html.j2")
    daily = isinstance(obj, DailyBrief)
    p = obj.provenance
    from summarizer.ledger import age
    from summarizer.render.generic import html_fragment
    from summarizer.render.markdown import story_line, what_changed

    tracked = isinstance(obj, DailyBrief) and any(s.story is not None for s in obj.stories)
    return template.render(
        changed=what_changed(obj) if isinstance(obj, DailyBrief) and tracked else None,
        story_line=story_line,
        age=age,
        tokens_text=tokens_text,
        # Other kinds of a daily brief, laid out from their fields: escaped as they are built.
        outputs=[html_fragment(o) for o in obj.outputs] if isinstance(obj, DailyBrief) else [],
        daily=obj if daily else None,
        brief=None if daily else obj,
        page_title=f"Daily brief — {obj.date}" if isinstance(obj, DailyBrief) else obj.title,
        notice=FIXTURE_NOTICE if p.fixture else REPLAY_NOTICE if p.replayed else None,
        fixture=p.fixture,
        origin=_origin(p.fixture, p.replayed),
        story_url=story_url,
        nav=list(nav),
    )
