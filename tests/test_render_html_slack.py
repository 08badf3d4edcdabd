"""The HTML and Slack renderers: same sections as Markdown, untrusted text made inert, and
Slack messages that fit Slack's limits whatever the brief's size."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import pytest

from summarizer.core.schemas import Brief, DailyBrief
from summarizer.render.html import to_html
from summarizer.render.slack import MAX_SECTION_CHARS, to_slack_messages
from tests.slack_fake import check_message

WHEN = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & <!channel> <https://evil.example|click>'


def provenance(**kw: Any) -> dict[str, Any]:
    return {
        "model": "gpt-test",
        "prompt_name": "brief",
        "prompt_version": "3",
        "created_at": WHEN,
        "tokens_in": 120,
        "tokens_out": 45,
        "llm_calls": 2,
        "cost_usd": 0.0012,
        "replayed": False,
        "fixture": False,
        "ungrounded_dropped": 1,
        **kw,
    }


def row(i: int, quote: str = "we will", quotes: int = 1) -> dict[str, Any]:
    return {
        "actor": f"Actor {i}",
        "issue": f"Issue {i}",
        "position": f"Position {i}.",
        "stance": ["supports", "opposes", "mixed", "neutral", "unclear"][i % 5],
        "evidence": [{"quote": quote, "source_id": "S1"} for _ in range(quotes)],
    }


def make_brief(
    *,
    rows: int = 2,
    quote: str = "we will",
    summary: str = "A neutral summary.",
    sources: int = 1,
    **prov: Any,
) -> Brief:
    return Brief.model_validate(
        {
            "title": "Council closes bridge",
            "summary": summary,
            "key_points": ["Vote was 7-2.", "Repairs take months."],
            "stances": [row(i, quote) for i in range(rows)],
            "open_questions": [
                {
                    "question": "How long?",
                    "why_it_matters": "Shops depend on it.",
                    "what_would_resolve_it": "A schedule.",
                }
            ],
            "disagreements": [
                {
                    "topic": "Cost",
                    "kind": "fact",
                    "claims": [
                        {"source_id": "S1", "claim": "It costs $2m.", "quote": "two million"},
                        {"source_id": "S2", "claim": "It costs $3m.", "quote": "three million"},
                    ],
                }
            ],
            "sources": [
                {
                    "id": f"S{n}",
                    "title": f"Story {n}",
                    "url": f"https://news.example/{n}?a=1&b=2",
                    "sha256": "0" * 64,
                }
                for n in range(1, sources + 1)
            ],
            "provenance": provenance(**prov),
        }
    )


def make_daily(stories: list[Brief], failures: int = 2) -> DailyBrief:
    return DailyBrief.model_validate(
        {
            "date": "2025-03-04",
            "window_start": WHEN,
            "window_end": WHEN,
            "stories": [s.model_dump() for s in stories],
            "failures": [
                {"source": f"https://down.example/{i}", "error": f"HTTP 500 <{i}>"}
                for i in range(failures)
            ],
            "provenance": {
                "created_at": WHEN,
                "models": ["gpt-test", "gpt-big"],
                "articles_found": 9,
                "articles_briefed": 7,
                "tokens_in": 1000,
                "tokens_out": 300,
                "llm_calls": 12,
                "cost_usd": 0.05,
                "replayed": False,
                "fixture": True,
                "stopped_by_budget": True,
            },
        }
    )


# HTML ---------------------------------------------------------------------------------


def test_html_escapes_article_text_everywhere() -> None:
    b = make_brief(quote=HOSTILE, summary=HOSTILE)
    b = b.model_copy(update={"title": HOSTILE})
    html = to_html(b)
    assert "<script" not in html and "<!channel>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;!channel&gt;" in html
    # Self-contained: no scripts, stylesheets, images or fonts from anywhere.
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|@import|url\(", html)


def test_html_shows_the_same_sections_as_markdown() -> None:
    html = to_html(make_brief(fixture=True, replayed=True))
    for text in (
        "<h1>Council closes bridge</h1>",
        "Not model output.",
        "<h2>Key points</h2>",
        "<li>Vote was 7-2.</li>",
        "<h2>Stances</h2>",
        "<td>Actor 1</td><td>Issue 1</td><td>Position 1.</td>",
        "stance-opposes",
        "“we will” <cite>S1</cite>",
        "<h2>Where sources disagree</h2>",
        "<strong>Cost</strong> (fact)",
        "S2: It costs $3m. — <q>three million</q>",
        "<h2>Open questions</h2>",
        "<dd>What would resolve it: A schedule.</dd>",
        "<h2>Sources</h2>",
        '<a href="https://news.example/1?a=1&amp;b=2" rel="noopener noreferrer">Story 1</a>',
        "gpt-test · prompt brief v3",
        "2025-03-04 05:06 UTC",
        "120+45 tokens, $0.0012",
        "1 ungrounded quote dropped",
        "test fixture, replayed",
    ):
        assert text in html, text


@pytest.mark.parametrize(
    ("prov", "notice"),
    [
        ({"fixture": True, "replayed": True}, "Not model output."),
        ({"replayed": True}, "Replayed from recorded model responses"),
        ({}, None),
    ],
)
def test_html_notice_follows_provenance(prov: dict[str, Any], notice: str | None) -> None:
    html = to_html(make_brief(**prov))
    found = re.findall(r'<p class="notice[^"]*">(.*?)</p>', html)
    if notice is None:
        assert found == []
    else:
        assert len(found) == 1 and notice in found[0]


def test_html_never_links_a_non_http_url() -> None:
    b = make_brief()
    src = b.sources[0].model_copy(update={"url": "javascript:alert(1)"})
    html = to_html(b.model_copy(update={"sources": [src]}))
    assert "href" not in html.split("<h2>Sources</h2>")[1]


def test_html_daily_brief_has_stories_failures_and_run_provenance() -> None:
    html = to_html(make_daily([make_brief(), make_brief(rows=0)]))
    assert "<h1>Daily brief — 2025-03-04</h1>" in html
    assert html.count("<h2>1. Council closes bridge</h2>") == 1
    assert "<h2>2. Council closes bridge</h2>" in html
    assert "No attributable positions with verbatim evidence." in html
    assert "<h2>Not included</h2>" in html
    assert "https://down.example/1: HTTP 500 &lt;1&gt;" in html
    assert "gpt-test, gpt-big" in html and "12 calls, 1000+300 tokens, $0.0500" in html
    assert "Stopped early:" in html and "Not model output." in html
    assert "2 stories from 7 of 9 articles" in html


def test_template_ships_inside_the_package() -> None:
    assert (files("summarizer.render") / "templates" / "brief.html.j2").is_file()


# Slack --------------------------------------------------------------------------------


def texts(message: dict[str, Any]) -> str:
    out = [message["text"]]
    for b in message["blocks"]:
        out.append(b.get("text", {}).get("text", ""))
        out += [e["text"] for e in b.get("elements", [])]
    return "\n".join(out)


def test_slack_parts_escaping_and_links() -> None:
    b = make_brief(quote=HOSTILE, summary=HOSTILE, fixture=True, replayed=True)
    b = b.model_copy(update={"title": "Bridge <b> & co"})
    messages = to_slack_messages(b)
    for m in messages:
        check_message(m)
    head = messages[0]
    assert head["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Bridge <b> & co"},  # plain_text: shown as is
    }
    assert head["text"] == "Bridge &lt;b&gt; &amp; co"
    assert "Not model output." in texts(head)
    assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;!channel&gt;' in texts(head)
    assert "gpt-test · prompt brief v3" in texts(head)
    labels = [m["text"].split(":")[0] for m in messages[1:]]
    assert labels == ["Stances", "Where sources disagree", "Open questions", "Sources"]
    assert "<https://news.example/1?a=1&amp;b=2|Story 1>" in texts(messages[-1])


@pytest.mark.parametrize("rows", [0, 1, 49, 120])
def test_slack_messages_fit_whatever_the_size(rows: int) -> None:
    long_quote = "word " * 500  # 2,500 characters per quote
    b = make_brief(rows=rows, quote=long_quote, summary="Long summary. " * 800, sources=200)
    messages = to_slack_messages(b)
    for m in messages:
        check_message(m)
    # Every row is one whole block, in order, in exactly one message.
    actors = [
        blk["text"]["text"].split("*")[1]
        for m in messages
        for blk in m["blocks"]
        if blk["type"] == "section" and blk["text"]["text"].startswith(":")
    ]
    assert actors == [f"Actor {i}" for i in range(rows)]
    joined = "\n".join(texts(m) for m in messages)
    # Sources are lines, never split either: all 200, in order, each once.
    assert re.findall(
        r"• \*S(\d+)\*: <https://news.example/\1\?a=1&amp;b=2\|Story \1>", joined
    ) == [str(n) for n in range(1, 201)]
    assert joined.count("Long summary.") == 800


def test_a_row_with_many_long_quotes_is_cut_not_split() -> None:
    many = row(0, quote="q " * 600, quotes=40)
    b = Brief.model_validate({**make_brief(rows=0).model_dump(), "stances": [many]})
    (stance_msg,) = [m for m in to_slack_messages(b) if m["text"].startswith("Stances")]
    (block,) = [x for x in stance_msg["blocks"] if x["text"]["text"].startswith(":")]
    text = block["text"]["text"]
    assert len(text) <= MAX_SECTION_CHARS
    assert re.search(r"_…and \d+ more quotes_$", text)


def test_a_long_unbroken_run_of_markup_keeps_entities_whole() -> None:
    b = make_brief(summary="&<>" * 3000)
    for m in to_slack_messages(b):
        check_message(m)


def test_slack_daily_brief_has_a_part_per_story_and_the_failures() -> None:
    daily = make_daily([make_brief(rows=3), make_brief(rows=70, quote="x " * 400)])
    messages = to_slack_messages(daily)
    for m in messages:
        check_message(m)
    head = messages[0]
    assert head["blocks"][0]["text"]["text"] == "Daily brief — 2025-03-04"
    assert "Not model output." in texts(head) and "Stopped early" in texts(head)
    assert "1. Council closes bridge\n2. Council closes bridge" in texts(head)
    fallbacks = [m["text"] for m in messages[1:]]
    assert fallbacks[0] == "1. Council closes bridge"
    assert set(fallbacks[1:-1]) == {"2. Council closes bridge"}  # story 2 spans messages
    assert fallbacks[-1] == "Not included in the daily brief for 2025-03-04"
    assert "https://down.example/1: HTTP 500 &lt;1&gt;" in texts(messages[-1])
