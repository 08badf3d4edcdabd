"""What the read-only tools and the resources read: daily briefs, stories, the question
ledger and the kinds, through the library (`summarizer.stories.ledger`, the store, the kind
registry), as `summarizer show`, `story`, `questions` and `kinds` read them. Each function
raises InputError for what the caller can fix; the rules of `Access` decide what a caller
may see (a daily run's output is answered as missing when it may not: days and story
ids are not probed)."""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from mcp.server.mcpserver.exceptions import ResourceError
from pydantic import BaseModel

from summarizer.config import Settings
from summarizer.errors import InputError, SummarizerError
from summarizer.mcp import answers
from summarizer.mcp.access import Access, caller
from summarizer.serving.jobs import KindView, kind_views
from summarizer.store import Store
from summarizer.store.aio import AsyncStore


def check_day(value: str, name: str) -> str:
    try:
        return Date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"{name} {value!r}: not a date; use YYYY-MM-DD") from None


def daily(store: Store, settings: Settings, rules: Access, day: str | None) -> BaseModel:
    """The newest daily brief of `day` (None: of any day). InputError when there is none,
    or when the caller may not read daily briefs (answered alike: days are not probed)."""
    from summarizer.core.kinds import load_output, registry_for

    wanted = None if day is None else check_day(day, "date")
    missing = InputError(
        "no daily brief in the store yet; `summarizer daily` makes one"
        if wanted is None
        else f"date {wanted}: no daily brief for that day; see the daily tool without a date"
    )
    if not rules.may_read_daily(caller()):
        raise missing
    # Newest first; a day run twice keeps its newest brief.
    rows = store.list_briefs(1 if wanted is None else 100_000, kind="daily")
    row = next((r for r in rows if wanted is None or r.day == wanted), None)
    found = store.get_brief(row.id) if row is not None else None
    if found is None:
        raise missing
    return load_output(*found, registry_for(settings))


async def daily_markdown(
    astore: AsyncStore,
    settings: Settings,
    rules: Access,
    day: str | None,
    describe: answers.Describe,
) -> str:
    from summarizer.render import render_daily

    try:
        found = await astore.call(daily, astore.store, settings, rules, day)
    except SummarizerError as exc:
        raise ResourceError(describe(exc)) from None
    return render_daily(found, "md")  # type: ignore[arg-type]


def story(store: Store, rules: Access, story_id: str) -> dict[str, Any]:
    from summarizer.stories import ledger

    missing = InputError(
        f"story {story_id}: not in the store; story ids are in a daily brief's stories"
    )
    if not rules.may_read_daily(caller()):
        raise missing
    try:
        return ledger.story(store, story_id)
    except InputError:
        raise missing from None


def kinds(settings: Settings) -> list[KindView]:
    from summarizer.core.kinds import registry_for

    return kind_views(registry_for(settings))
