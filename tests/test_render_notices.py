"""What every renderer says about a brief: worded once (render/notices.py), and true."""

from __future__ import annotations

import ast
from pathlib import Path

import summarizer.render as render_pkg
from summarizer.render import FORMATS, notices, render, render_one
from summarizer.render.formats import NAMES

RENDER = Path(render_pkg.__file__).parent
FORMAT_MODULES = ("markdown", "html", "slack")


def _imports(module: str) -> set[str]:
    tree = ast.parse((RENDER / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_no_renderer_imports_another() -> None:
    # Imports inside functions count: the old cycle (generic <-> markdown/html/slack) hid there.
    for module in (*FORMAT_MODULES, "generic"):
        imported = _imports(module)
        others = {f"summarizer.render.{m}" for m in FORMAT_MODULES if m != module}
        assert not imported & others, (module, imported & others)


def test_every_format_has_a_writer_from_the_one_table() -> None:
    from tests.test_render_html_slack import make_brief

    b = make_brief(rows=1)
    assert tuple(FORMATS) == NAMES
    for name in NAMES:
        assert render([b], name)
        assert render_one(b, name)


def test_the_api_offers_the_formats_of_the_table() -> None:
    from typing import get_args

    from summarizer.service.app import FormatQuery

    (literal, _query) = get_args(FormatQuery)
    assert set(get_args(literal)) == set(NAMES)


def test_days_are_counted_in_words() -> None:
    assert notices.days(1) == "1 day"
    assert notices.days(2) == "2 days"
    assert notices.days(0) == "0 days"


# The brief tells the truth -------------------------------------------------------------

import json  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from summarizer.core.schemas import Brief, DailyBrief  # noqa: E402
from summarizer.render.html import to_html  # noqa: E402
from summarizer.render.markdown import daily_to_markdown, to_markdown  # noqa: E402
from summarizer.render.slack import to_slack_messages  # noqa: E402
from tests.test_render_html_slack import make_brief, make_daily, provenance  # noqa: E402


def _link(**kw: Any) -> dict[str, Any]:
    return {
        "story_id": "st-0123456789",
        "first_day": "2025-03-02",
        "continues_from": "2025-03-03",
        "days_running": 2,
        "match": "score 0.44 = 0.7 x text similarity 0.5 + 0.3 x shared actors",
        **kw,
    }


def _story(title: str, **link: Any) -> Brief:
    b = make_brief(rows=1)
    return Brief.model_validate({**b.model_dump(), "title": title, "story": _link(**link)})


def _all_formats(daily: DailyBrief) -> dict[str, str]:
    return {
        "md": daily_to_markdown(daily),
        "html": to_html(daily),
        "slack": json.dumps(to_slack_messages(daily), ensure_ascii=False),
    }


def test_what_changed_says_it_could_not_be_made_never_nothing() -> None:
    daily = make_daily([_story("Gas cap", changes_failed=True), _story("Tram")], failures=0)
    for fmt, text in _all_formats(daily).items():
        assert "Nothing since the last briefs" not in text, fmt
        assert "What changed could not be made for the story “Gas cap”" in text, fmt
    # With every comparison made and nothing new, "nothing" is the truth.
    calm = make_daily([_story("Gas cap"), _story("Tram")], failures=0)
    for fmt, text in _all_formats(calm).items():
        assert "Nothing since the last briefs." in text, fmt
    # A first day: no story continues one, so there was nothing to compare.
    first = make_daily([_story("Gas cap", continues_from=None)], failures=0)
    for fmt, text in _all_formats(first).items():
        assert "Nothing since the last briefs" not in text, fmt
        assert "every story is new" in text, fmt


def test_failures_are_counted_by_what_failed() -> None:
    daily = make_daily([make_brief()], failures=0)
    daily = DailyBrief.model_validate(
        {
            **daily.model_dump(),
            "failures": [
                {"source": "https://a.example/feed", "error": "not found", "stage": "source"},
                {"source": "https://a.example/1", "error": "HTTP 500", "stage": "article"},
                {"source": "https://a.example/2", "error": "HTTP 500", "stage": "article"},
                *[
                    {"source": f"story st-{i}", "error": "what changed not made", "stage": "story"}
                    for i in range(10)
                ],
            ],
        }
    )
    md = daily_to_markdown(daily)
    assert "1 source gave no article; 2 articles could not be briefed; 10 story steps failed" in md
    assert "source(s)" not in md


def test_the_header_shows_the_articles_dates_not_the_window() -> None:
    from datetime import UTC, datetime

    daily = make_daily([make_brief()], failures=0)
    p = daily.provenance.model_copy(
        update={
            "articles_found": 3,
            "articles_briefed": 3,
            "published_first": datetime(2015, 6, 1, 7, 0, tzinfo=UTC),
            "published_last": datetime(2022, 1, 2, 8, 30, tzinfo=UTC),
            "articles_undated": 1,
        }
    )
    daily = daily.model_copy(update={"provenance": p})
    for fmt, text in _all_formats(daily).items():
        assert (
            "1 story from 3 articles, published 2015-06-01 07:00 UTC to 2022-01-02 08:30 UTC; "
            "1 undated article (taken whatever the window, having no date of their own)." in text
        ), fmt


def test_left_out_entries_are_listed_with_reason_and_count() -> None:
    daily = make_daily([make_brief()], failures=0)
    daily = DailyBrief.model_validate(
        {
            **daily.model_dump(),
            "left_out": [
                {"source": "https://f.example/rss", "reason": "past the cap", "count": 35},
                {"source": "https://f.example/rss", "reason": "duplicates", "count": 1},
            ],
        }
    )
    for fmt, text in _all_formats(daily).items():
        assert "Not included" in text, fmt
        assert "https://f.example/rss: 35 entries left out: past the cap" in text, fmt
        assert "https://f.example/rss: 1 entry left out: duplicates" in text, fmt


@pytest.mark.parametrize(
    ("fixture", "replayed", "says", "never"),
    [
        (True, False, "Answered by a test server", "replayed"),
        (True, True, "Replayed from recordings", "Answered by"),
        (False, True, "Replayed from recorded model responses", "Not model output"),
        (False, False, None, "eplayed"),
    ],
)
def test_every_label_matches_provenance(
    fixture: bool, replayed: bool, says: str | None, never: str
) -> None:
    b = make_brief(**{"fixture": fixture, "replayed": replayed})
    for text in (to_markdown(b), to_html(b), json.dumps(to_slack_messages(b))):
        if says:
            assert says in text
        assert never not in text


def test_a_daily_that_called_the_model_and_reused_answers_says_both() -> None:
    daily = make_daily([make_brief()], failures=0)
    p = daily.provenance.model_copy(update={"replayed": True, "fixture": False, "llm_calls": 3})
    md = daily_to_markdown(daily.model_copy(update={"provenance": p}))
    assert "no model was called" not in md
    assert "Some answers were replayed" in md and "live and replayed" in md


def test_readers_see_no_scores_endpoints_or_dumps() -> None:
    note = "What changed could not be made: the model could not be reached."
    daily = make_daily([_story("Gas cap", changes_failed=True, note=note)], failures=0)
    for fmt, text in _all_formats(daily).items():
        assert "score 0.44" not in text and "text similarity" not in text, fmt
        assert "running 2 days" in text and "day(s)" not in text, fmt


def test_validation_dumps_become_one_plain_sentence() -> None:
    dump = (
        "model 'small' gave no valid brief after 3 attempts: <failed_attempts> <generation "
        'number="1"> <exception> 4 validation errors for Brief stances.0.evidence Field '
        "required [type=missing, input_value={'actor': 'X'}, input_type=dict] For further "
        "information visit https://errors.pydantic.dev/2.11/v/missing key_points Field "
        "required [type=missing, input_value={}, input_type=dict] stances.1.stance Input "
        "should be 'supports' or 'opposes' [type=enum, input_value='pro', input_type=str]"
    )
    said = notices.reader_error(dump)
    assert said == (
        "the model's answer lacked the fields stances.evidence and key_points and had the "
        "wrong form in the field stances.stance"
    )
    unreachable = (
        "cannot reach the model endpoint http://10.0.0.5:8080/v1; check OPENAI_BASE_URL / "
        "--base-url and that the server is running"
    )
    assert notices.reader_error(unreachable) == "the model could not be reached"
    # A reader's message already (a page that failed) comes back as it was.
    assert notices.reader_error("not found (HTTP 404)") == "not found (HTTP 404)"


# Reading it ---------------------------------------------------------------------------


def test_html_tables_scroll_in_their_own_box() -> None:
    html = to_html(make_brief(rows=2))
    assert '<div class="table-scroll">\n<table class="stances">' in html
    assert ".table-scroll { overflow-x: auto;" in html


def test_a_daily_with_many_stories_opens_with_an_index() -> None:
    stories = [make_brief().model_copy(update={"title": f"Story {i}"}) for i in range(1, 6)]
    html = to_html(make_daily(stories, failures=0))
    nav = html.index('<nav class="index"')
    assert nav < html.index('<article class="story" id="story-1">')
    assert '<a href="#story-5">Story 5</a>' in html
    few = to_html(make_daily(stories[:2], failures=0))
    assert '<nav class="index"' not in few


def test_several_quotes_in_one_cell_stay_apart() -> None:
    b = Brief.model_validate(
        {
            **make_brief(rows=0).model_dump(),
            "stances": [
                {
                    "actor": "A",
                    "issue": "I",
                    "position": "P.",
                    "stance": "supports",
                    "evidence": [
                        {"quote": "first words", "source_id": "S1"},
                        {"quote": "second words", "source_id": "S1"},
                    ],
                }
            ],
        }
    )
    md = to_markdown(b)
    assert "• “first words” (S1)<br>• “second words” (S1)" in md
    # On a terminal rich drops the <br>: the bullet still keeps the quotes apart.
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(width=200, record=True, color_system=None)
    console.print(Markdown(md))
    shown = console.export_text()
    assert (
        "(S1)• “second"
        in shown.replace(" ", "").replace("“second", " “second").replace(" “second", "“second")
        or "• “second words”" in shown
    )
    html = to_html(b)
    assert html.count("<blockquote>") == 2 and "td blockquote + blockquote" in html


def test_an_empty_brief_says_so() -> None:
    b = Brief.model_validate(
        {**make_brief(rows=0).model_dump(), "key_points": [], "open_questions": []}
    )
    for text in (to_markdown(b), to_html(b), json.dumps(to_slack_messages(b))):
        assert "This brief is empty" in text
    assert "This brief is empty" not in to_markdown(make_brief())


def test_provenance_helper_is_used() -> None:
    assert provenance()["model"] == "gpt-test"


def test_the_cli_help_offers_the_formats_of_the_table() -> None:
    from typer.testing import CliRunner

    from summarizer.cli import app

    for command in ("brief", "daily", "show"):
        shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
        assert ", ".join(NAMES) in shown, command


def test_a_stored_brief_from_before_stages_is_not_miscounted() -> None:
    md = daily_to_markdown(make_daily([make_brief()], failures=2))  # failures without a stage
    assert "2 sources or articles failed (listed under Not included)." in md
