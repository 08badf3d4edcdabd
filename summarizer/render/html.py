"""Briefs as one self-contained HTML page: inline CSS, no scripts, no external assets.

Article-derived text (quotes, titles, positions) is untrusted, so the Jinja2 environment
escapes every value by default; the template never marks model or article text `|safe`.
Every printed value also loses its control characters (render/escape.py's `plain`), which
no page needs and which would reach a terminal that shows the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

    from summarizer.core.schemas import Brief, DailyBrief


def _environment() -> jinja2.Environment:
    from summarizer.render.escape import html_templates

    return html_templates("summarizer.render")


# A daily brief with this many stories or more opens with an index of them.
INDEX_FROM = 4


def to_html(
    obj: Brief | DailyBrief,
    *,
    story_url: Callable[[str], str] | None = None,
    nav: Sequence[tuple[str, str]] = (),
) -> str:
    """A full HTML page for one Brief or one DailyBrief. `story_url` maps a story id to
    its page (the reader's site, or `site_url`): each story then links to its timeline;
    `nav` is a row of (label, href) links at the top (the site's day pages)."""
    from summarizer.core.schemas import DailyBrief
    from summarizer.render import notices
    from summarizer.render.generic import html_fragment

    template = _environment().get_template("brief.html.j2")
    p = obj.provenance
    if isinstance(obj, DailyBrief):
        tracked = any(s.story is not None for s in obj.stories)
        changed = notices.what_changed(obj) if tracked else None
        said = notices.notice(p.fixture, p.replayed, obj.provenance.llm_calls)
        return template.render(
            changed=changed,
            unchanged=notices.unchanged_line(obj) if tracked else None,
            unmade=notices.unmade_line(obj) if tracked else None,
            notices=notices,
            # Other kinds of a daily brief, laid out from their fields: escaped as built.
            outputs=[html_fragment(o) for o in obj.outputs],
            daily=obj,
            brief=None,
            header=notices.header_lines(obj),
            index=len(obj.stories) >= INDEX_FROM,
            left=notices.not_included(obj),
            daily_footer=notices.daily_footer_text(obj.provenance),
            page_title=f"Daily brief — {obj.date}",
            notice=said,
            story_url=story_url,
            nav=list(nav),
        )
    return template.render(
        changed=None, unchanged=None, unmade=None, notices=notices, outputs=[], daily=None,
        brief=obj, header=[], index=False, left=[], daily_footer=None, page_title=obj.title,
        notice=notices.notice(p.fixture, p.replayed), story_url=None, nav=list(nav),
    )  # fmt: skip
