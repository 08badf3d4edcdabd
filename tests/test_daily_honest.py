"""`daily` says true things about itself: its counts, its dates, what changed, and
everything it left out, end to end through the loopback model and web servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from summarizer.testing.openai_server import FakeOpenAI
from tests.test_continuity import DAYS, Model, _story, run_day
from tests.test_daily import GAS_1, TRAM, daily, load, runner
from tests.web_server import Route, WebServer

PAGE = (
    "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{p}</p></article>"
    "</body></html>"
)
PORT = "Dockers in Valdera went on strike on Monday over pay, the union said, and the port "
"authority said that ships were being diverted to other harbours for the rest of the week."


def _item(link: str, title: str, when: datetime) -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f"<pubDate>{format_datetime(when)}</pubDate></item>"
    )


def test_header_counts_dates_and_everything_left_out(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with WebServer() as web:
        for path, title, text in (
            ("/gas", "Gas cap extended", GAS_1.split("\n", 2)[2]),
            ("/tram", "Tram approved", TRAM.split("\n", 2)[2]),
            ("/tram-copy", "Tram approved", TRAM.split("\n", 2)[2]),
            ("/port", "Port strike", PORT),
            ("/old", "Oldest", "Something else entirely happened here. " * 10),
        ):
            web.add(path, Route(body=PAGE.format(t=title, p=text * 3).encode()))
        items = "".join(
            _item(web.url(path), title, datetime(year, 1, 2, 8, 30, tzinfo=UTC))
            for path, title, year in (
                ("/gas", "Gas", 2022),
                ("/gas", "Gas, again", 2021),  # the same link twice
                ("/tram", "Tram", 2020),
                ("/tram-copy", "Tram copy", 2019),  # another link, the same page text
                ("/port", "Port", 2015),
                ("/old", "Oldest", 2014),  # past --feed-entries 5
            )
        )
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
        feed = web.add(
            "/feed.xml", Route(headers={"Content-Type": "application/rss+xml"}, body=rss.encode())
        )
        r = daily(
            tmp_path, fake_openai, "-s", feed, "--feed-entries", "5",
            "--since", "2010-01-01T00:00:00Z",
        )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = load(tmp_path)
    p = data["provenance"]
    assert (p["articles_found"], p["articles_briefed"]) == (3, 3)
    # The articles' own dates, not the run's window (2010 to today).
    assert p["published_first"].startswith("2015-01-02T08:30")
    assert p["published_last"].startswith("2022-01-02T08:30")
    md = (tmp_path / "out" / "2026-11-25.md").read_text()
    assert "from 3 articles, published 2015-01-02 08:30 UTC to 2022-01-02 08:30 UTC." in md
    assert "2010-01-01" not in md
    left = {(x["reason"].split(" (")[0], x["count"]) for x in data["left_out"]}
    assert left == {
        ("past the cap of 5 entries per feed", 1),
        ("repeating another entry's link", 1),
        ("the same article as another entry", 1),
    }
    assert all(x["source"] == feed for x in data["left_out"])
    notin = md[md.index("## Not included") :]
    assert f"{feed}: 1 entry left out: past the cap of 5 entries per feed" in notin
    assert data["failures"] == []


class BadAnswers(Model):
    """The continuation step's answer lacks most fields, on every attempt."""

    def continuation(self, docs: dict[str, str]) -> dict[str, Any]:
        return {"title": "Only a title"}


@pytest.fixture
def server() -> Any:
    with FakeOpenAI(BadAnswers()) as s:
        yield s


def test_a_failed_continuation_is_said_plainly_and_counted_as_a_story_step(
    tmp_path: Path, server: FakeOpenAI
) -> None:
    run_day(tmp_path, server, "2026-11-24")
    src = tmp_path / "src-2026-11-25"
    src.mkdir()
    for name, text in DAYS["2026-11-25"].items():
        (src / name).write_text(text)
    out = tmp_path / "out"
    r = runner.invoke(
        __import__("summarizer.cli", fromlist=["app"]).app,
        ["daily", "-s", str(src), "--out-dir", str(out), "--store", str(tmp_path / "s.db"),
         "--base-url", server.base_url, "--date", "2026-11-25"],
    )  # fmt: skip
    assert r.exit_code == 9, r.output
    d2 = json.loads((out / "2026-11-25.json").read_text())
    md = (out / "2026-11-25.md").read_text()
    gas = _story(d2, "Germany")
    assert gas["story"]["changes_failed"] is True
    # (1) never "nothing": it says it could not be made, and for which story.
    assert "Nothing since the last briefs" not in md
    assert f"What changed could not be made for the story “{gas['title']}”" in md
    # (2) a story step, counted as such; the articles were briefed.
    (failed,) = d2["failures"]
    assert failed["stage"] == "story"
    assert "1 story step failed" in md and "could not be briefed" not in md
    # (9) one plain sentence for the reader; the dump for the operator.
    assert failed["error"].startswith("what changed not made: the model's answer lacked the")
    assert "validation error" in failed["detail"]
    for text in (md, (out / "2026-11-25.html").read_text(), r.stderr):
        assert "validation error" not in text and "failed_attempts" not in text
        assert server.base_url not in text and "OPENAI_" not in text
        assert "score " not in text and "day(s)" not in text


def test_an_empty_story_says_so_in_the_brief_and_on_stderr(tmp_path: Path) -> None:
    from summarizer.testing.openai_server import Reply

    src = tmp_path / "src"
    src.mkdir()
    (src / "tram.txt").write_text(TRAM)
    empty = {"title": "Tram", "summary": "A tram line.", "key_points": [], "stances": [],
             "open_questions": [], "disagreements": []}  # fmt: skip
    with FakeOpenAI(lambda request: Reply(empty)) as server:
        r = daily(tmp_path, server, "-s", str(src))
    assert r.exit_code == 0, r.output
    md = (tmp_path / "out" / "2026-11-25.md").read_text()
    assert "This brief is empty" in md and "This brief is empty" in r.stderr
