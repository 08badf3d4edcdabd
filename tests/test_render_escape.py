"""Output cannot attack its reader: article and model text is inert in every format, and
no control character from it reaches a terminal."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.core.schemas import Brief, DailyBrief
from summarizer.render import render, render_daily
from summarizer.render.escape import markdown, markdown_cell, plain, slack
from summarizer.store import Store
from tests.test_render_html_slack import make_brief, make_daily

runner = CliRunner()

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "[click me](javascript:alert(3))",
    "![pixel](https://tracker.example/p.png)",
    "<https://evil.example/autolink>",
    "<!-- hidden -->",
    "\\<script>alert(4)\\</script>",
    "[ref]\n\n[ref]: javascript:alert(5)",
    "&#60;script&#62; &lt;b&gt;",
    "<!channel> <@U123> <https://evil.example|label>",
]
ESCAPES = ["\x1b]0;pwned\x07", "\x1b[2J", "\x9b31m", "back\x08space", "bell\x07", "\u202eRTL"]
HOSTILE = " ".join(ATTACKS + ESCAPES)


def hostile_brief() -> Brief:
    b = make_brief(quote=HOSTILE, summary=HOSTILE + "\nSecond line.")
    data = b.model_dump()
    data["title"] = HOSTILE
    data["key_points"] = [HOSTILE]
    for r in data["stances"]:
        r.update(actor=HOSTILE, issue=HOSTILE, position=HOSTILE)
    for d in data["disagreements"]:
        d["topic"] = HOSTILE
        for c in d["claims"]:
            c.update(claim=HOSTILE, quote=HOSTILE)
    data["open_questions"] = [
        {"question": HOSTILE, "why_it_matters": HOSTILE, "what_would_resolve_it": HOSTILE}
    ]
    data["sources"][0].update(title=HOSTILE, url="javascript:alert(6)", path=HOSTILE)
    data["provenance"]["model"] = HOSTILE
    return Brief.model_validate(data)


def hostile_daily() -> DailyBrief:
    d = make_daily([hostile_brief(), hostile_brief()]).model_dump()
    d["failures"] = [{"source": HOSTILE, "error": HOSTILE}]
    return DailyBrief.model_validate(d)


def outputs() -> dict[str, str]:
    b, d = hostile_brief(), hostile_daily()
    out = {f"brief.{f}": render([b], f) for f in ("md", "html", "slack", "json")}
    out.update({f"daily.{f}": render_daily(d, f) for f in ("md", "html", "slack", "json")})
    return out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


def _assert_inert_html(page: str, allowed: set[str]) -> _Tags:
    parsed = _parse(page)
    assert {t for t, _ in parsed.tags} <= allowed
    for _tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on")
            if name in ("href", "src"):
                assert value is not None and value.startswith(("http://", "https://"))
    return parsed


@pytest.mark.parametrize("which", ["brief", "daily"])
def test_markdown_viewer_gets_no_html_and_no_links(which: str) -> None:
    text = outputs()[f"{which}.md"]
    # What a Markdown viewer that renders raw HTML would make of the file.
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    # Only Markdown's own structure, and the <br>/<sub> the renderer writes itself.
    parsed = _assert_inert_html(
        page,
        {"h1", "h2", "h3", "p", "ul", "li", "strong", "em", "blockquote", "table", "thead",
         "tbody", "tr", "th", "td", "br", "sub", "hr"},
    )  # fmt: skip
    shown = "".join(parsed.text)
    # ... and the reader still sees the article's own words, as they were written.
    for attack in ("<script>alert(1)</script>", "[click me](javascript:alert(3))", "<!channel>"):
        assert attack in shown
    assert "&#60;script&#62;" in shown  # a character reference is shown, not decoded


def test_markdown_still_reads_as_plain_text() -> None:
    # Escapes only where Markdown would otherwise act: ordinary prose is left alone.
    prose = "AT&T said profits rose 5% (x < 5, a > b) in C:\\Users on 3/4; *really*."
    assert markdown(prose) == prose
    assert markdown("<b>") == "\\<b>" and markdown("[a](b)") == "\\[a\\](b)"
    assert markdown_cell("a | b\nc") == "a \\| b c"


def test_html_page_has_no_injected_tags_or_handlers() -> None:
    for name in ("brief.html", "daily.html"):
        page = outputs()[name]
        parsed = _assert_inert_html(
            page,
            {"html", "head", "meta", "title", "style", "body", "article", "h1", "h2", "h3",
             "p", "ul", "li", "strong", "table", "thead", "tbody", "tr", "th", "td", "span",
             "blockquote", "cite", "q", "dl", "dt", "dd", "footer", "a", "div", "nav", "ol"},
        )  # fmt: skip
        assert not [a for t, a in parsed.tags if t == "a"]  # the javascript: URL is no link
        assert "<script>alert(1)</script>" in html.unescape(page)


def _mrkdwn_texts(messages: list[dict[str, Any]]) -> list[str]:
    texts = [m["text"] for m in messages]
    for m in messages:
        for block in m["blocks"]:
            if block.get("text", {}).get("type") == "mrkdwn":
                texts.append(block["text"]["text"])
            texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return texts


def test_slack_mrkdwn_has_no_injectable_markup() -> None:
    for name in ("brief.slack", "daily.slack"):
        messages = json.loads(outputs()[name])
        texts = _mrkdwn_texts(messages)
        assert texts
        for text in texts:
            # The only angle brackets left are the renderer's own http(s) links.
            rest = re.sub(r"<https?://[^|<>\s]+\|[^<>]*>", "", text)
            rest = re.sub(r"(?m)^> ", "", rest)  # the renderer's own quote blocks
            assert "<" not in rest and ">" not in rest, text
        joined = "\n".join(texts)
        assert "&lt;!channel&gt;" in joined and "<!channel>" not in joined


@pytest.mark.parametrize("name", sorted(outputs()))
def test_no_control_character_in_any_format(name: str) -> None:
    text = outputs()[name]
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text), name
    if name.endswith(".json"):
        # The data keeps what the article held, written as JSON escapes.
        assert "\\u001b" in text and "\\u009b" in text and "\\u202e" in text
        data = json.loads(text)
        assert (data["stories"][0] if "stories" in data else data)["title"] == HOSTILE
    else:
        assert "[2J" not in text and "pwned" not in text  # whole sequences go


def test_plain_keeps_newlines_tabs_and_text() -> None:
    assert plain("a\tb\nc\x1b[2Jd\r\ne\rf") == "a\tb\ncd\ne\nf"
    assert plain("\x1b]0;title\x07kept \x1b]unterminated text") == "kept unterminated text"
    # Mojibake (UTF-8 read as Latin-1) is full of C1 bytes: they go, its words stay.
    assert plain("\u00e2\u0080\u009cquoted\u00e2\u0080\u009d words") == "\u00e2quoted\u00e2 words"
    assert plain("Straße, 東京, مرحبا") == "Straße, 東京, مرحبا"
    assert slack("a & <b>") == "a &amp; &lt;b&gt;"


def _store_with_hostile_brief(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "s.db"
    store = Store(path)
    brief_id = store.put_brief("brief", hostile_brief().model_dump_json(), title=HOSTILE)
    run = store.start_run("daily", "2026-11-25", {})
    store.finish_run(run, "failed", error=HOSTILE)
    store.close()
    return path, brief_id


def test_show_and_history_print_no_control_characters(tmp_path: Path) -> None:
    path, brief_id = _store_with_hostile_brief(tmp_path)
    hist = runner.invoke(app, ["history", "--store", str(path)])
    assert hist.exit_code == 0, hist.output
    assert "\x1b" not in hist.stdout and "\x07" not in hist.stdout and "\x9b" not in hist.stdout
    # One entry, one line: the title's newlines cannot fake another entry.
    assert len(hist.stdout.splitlines()) == 4
    for fmt in ("md", "html", "slack", "json"):
        shown = runner.invoke(app, ["show", brief_id, "--store", str(path), "--format", fmt])
        assert shown.exit_code == 0, shown.output
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown.stdout), fmt


def test_log_lines_carry_no_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from summarizer.cli import edge

    edge.setup_logging(False)
    edge.logger().warning("not included: %s", HOSTILE)
    edge.setup_logging(False, json_logs=True)
    edge.logger().warning("not included: %s", HOSTILE)
    logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert "not included" in err and not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", err)


def test_the_generic_renderer_for_other_kinds_escapes_the_same_way() -> None:
    from pydantic import BaseModel

    from summarizer.render import generic

    class Row(BaseModel):
        who: str
        said: str

    class Kind(BaseModel):
        title: str
        what_happened: str
        notes: list[str]
        rows: list[Row]

    k = Kind(
        title=HOSTILE, what_happened=HOSTILE, notes=[HOSTILE], rows=[Row(who=HOSTILE, said=HOSTILE)]
    )
    md = generic.to_markdown(k)
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    _assert_inert_html(
        page, {"h1", "h2", "p", "ul", "li", "strong", "table", "thead", "tbody", "tr", "th", "td"}
    )
    _assert_inert_html(
        generic.to_html(k),
        {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "ul", "li", "div",
         "table", "thead", "tbody", "tr", "th", "td"},
    )  # fmt: skip
    for text in _mrkdwn_texts(generic.to_slack_messages(k)):
        assert "<" not in text and ">" not in text, text
    for out in (md, generic.to_html(k), json.dumps(generic.to_slack_messages(k))):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", out)
