"""The site's pages, each built from what the store holds, with Jinja2 and autoescape on.

Titles, summaries and quotes come from articles and a model, so they are untrusted: the
environment escapes every value (and strips control characters, as the daily HTML does),
and a source becomes a link only when it is an http(s) URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from summarizer.core.schemas import DailyBrief, LedgerQuestion


def _environment() -> jinja2.Environment:
    from summarizer.render.escape import html_templates

    return html_templates("summarizer.site")


def stylesheet() -> str:
    from importlib.resources import files

    return files("summarizer.site").joinpath("templates/style.css").read_text(encoding="utf-8")


def http_href(url: str | None) -> str | None:
    """A link target only for http(s) URLs: a `javascript:` or `file:` source is text."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _page(template: str, *, root: str, fixture: bool, built: str = "", **values: Any) -> str:
    return (
        _environment()
        .get_template(template)
        .render(root=root, built=built, fixture=fixture, **values)
    )


def built_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d")


def day_page(daily: DailyBrief) -> str:
    """A day: the daily brief as the daily HTML page shows it, with the site's links."""
    from summarizer.render.html import to_html

    return to_html(
        daily,
        story_url=lambda story_id: f"../stories/{story_id}.html",
        nav=[
            ("Latest", "../index.html"),
            ("Stories", "../stories/index.html"),
            ("Questions", "../questions.html"),
            ("Spend", "../spend.html"),
        ],
    )


def index_page(
    days: Sequence[DailyBrief], older: Sequence[str], *, since: str | None, built: str
) -> str:
    from summarizer.render.markdown import story_line, what_changed

    shown = []
    for d in days:
        p = d.provenance
        tracked = any(s.story is not None for s in d.stories)
        n = len(d.stories)
        shown.append(
            {
                "day": d.date,
                "summary_line": (
                    f"{n} {'story' if n == 1 else 'stories'} from {p.articles_briefed} of "
                    f"{p.articles_found} {'article' if p.articles_found == 1 else 'articles'}."
                ),
                "changed": what_changed(d) if tracked else None,
                "stories": [
                    {
                        "id": s.story.story_id if s.story else None,
                        "title": s.title,
                        "line": story_line(s),
                    }
                    for s in d.stories
                ],
            }
        )
    return _page(
        "index.html.j2",
        root="",
        built=built,
        fixture=any(d.provenance.fixture for d in days),
        page_title="Daily briefs",
        days=shown,
        older=list(older),
        since=since,
    )


def stories_page(stories: Sequence[dict[str, Any]]) -> str:
    return _page(
        "stories.html.j2",
        root="../",
        fixture=False,
        page_title="Stories",
        stories=list(stories),
    )


def stance_grid(story: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(days, rows): one row per actor and issue, the stance it held on each day."""
    days = [d["day"] for d in story["days"]]
    rows: dict[str, dict[str, str]] = {}
    for d in story["days"]:
        for s in d["stances"]:
            label = f"{s['actor']} — {s['issue']}"
            rows.setdefault(label, {})[d["day"]] = s["stance"]
    return days, [
        {"label": label, "cells": [held.get(day) for day in days]} for label, held in rows.items()
    ]


def story_page(
    story: dict[str, Any],
    questions: Sequence[LedgerQuestion],
    *,
    picture: str | None,
    pictures_missing: str | None,
    fixture: bool,
) -> str:
    from summarizer.stories.ledger import age

    days, rows = stance_grid(story)
    story = dict(story)
    story["questions"] = [{**q.model_dump(), "source_href": http_href(q.source)} for q in questions]
    alt = "; ".join(
        f"{r['label']}: "
        + ", ".join(f"{day} {cell}" for day, cell in zip(days, r["cells"], strict=True) if cell)
        for r in rows
    )
    return _page(
        "story.html.j2",
        root="../",
        fixture=fixture,
        page_title=story["title"],
        story=story,
        day_list=days,
        stance_rows=rows,
        picture=picture,
        picture_alt=alt,
        pictures_missing=pictures_missing,
        ages={q.id: age(q) for q in questions},
    )


def questions_page(questions: Sequence[LedgerQuestion], titles: dict[str, str]) -> str:
    from summarizer.stories.ledger import STATUSES, age

    counts = {s: sum(q.status == s for q in questions) for s in STATUSES}
    return _page(
        "questions.html.j2",
        root="",
        fixture=False,
        page_title="Questions",
        questions=list(questions),
        counts=counts,
        titles=titles,
        ages={q.id: age(q) for q in questions},
    )


def _money(cost: float | None, unknown: int) -> str:
    if cost is None:
        return "unknown"
    return f"${cost:.4f}" + (" (some unknown)" if unknown else "")


def spend_page(
    rows: Sequence[dict[str, Any]],
    *,
    picture: str | None,
    pictures_missing: str | None,
    since: str | None,
) -> str:
    months: dict[str, dict[str, Any]] = {}
    for r in rows:
        m = months.setdefault(
            r["day"][:7], {"month": r["day"][:7], "calls": 0, "cost": 0.0, "replayed": 0,
                           "unknown": 0, "known": False}
        )  # fmt: skip
        m["calls"] += r["calls"]
        m["replayed"] += r["replayed"]
        m["unknown"] += r["unknown_cost"]
        if r["cost_usd"] is not None:
            m["cost"] += r["cost_usd"]
            m["known"] = True
    month_list = [
        {**m, "cost": _money(m["cost"] if m["known"] else None, m["unknown"])}
        for _, m in sorted(months.items(), reverse=True)
    ]
    alt = "; ".join(
        f"{r['day']} {r['origin']}: {r['calls']} calls, {_money(r['cost_usd'], r['unknown_cost'])}"
        for r in rows
    )
    return _page(
        "spend.html.j2",
        root="",
        fixture=False,
        page_title="Spend",
        rows=[{**r, "cost": _money(r["cost_usd"], r["unknown_cost"])} for r in rows],
        months=month_list,
        picture=picture,
        picture_alt=alt,
        pictures_missing=pictures_missing,
        since=since,
    )
