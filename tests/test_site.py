"""`summarizer site`: the static reader's site built from the store (issue #23)."""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.site.build import build_site
from summarizer.store import Store
from tests.site_store import copy_store, two_day_store

runner = CliRunner()
HAFTAR = "st-38ea36c762"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return two_day_store(tmp_path_factory.mktemp("demo"))


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.refs.append((tag, name, value))


def refs(page: Path) -> list[tuple[str, str, str]]:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.refs


def test_two_days_of_the_seeds_make_every_page(demo_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    r = runner.invoke(app, ["site", "--out", str(out), "--store", str(demo_store)])
    assert r.exit_code == 0, r.output
    assert "2 days, 3 stories" in r.output
    for rel in ("index.html", "days/2026-11-25.html", "days/2026-11-26.html",
                f"stories/{HAFTAR}.html", "stories/index.html", "questions.html",
                "spend.html", "style.css"):  # fmt: skip
        assert (out / rel).is_file(), rel

    story = (out / f"stories/{HAFTAR}.html").read_text()
    # The picture of the stance history: an SVG beside the page, with the stances as text.
    assert f'<img src="{HAFTAR}-stances.svg"' in story
    svg = (out / f"stories/{HAFTAR}-stances.svg").read_text()
    assert "<svg" in svg and "Greece" in svg and "opposes" in svg and "mixed" in svg
    # The same history as a table, and the shift with both quotes.
    assert re.search(
        r"Greece — 2019 maritime deal with Tripoli</th><td>opposes</td><td>mixed", story
    )
    assert (
        "Before: “Greece and Egypt have reportedly lobbied Haftar against the agreement”" in story
    )
    assert "When will the visit take place" in story

    spend = (out / "spend.html").read_text()
    assert '<img src="spend.svg"' in spend and "7 calls" in spend
    assert "replayed from recordings or the cache, at no cost" in spend
    assert "Calls to the model per day" in (out / "spend.svg").read_text()

    day2 = (out / "days/2026-11-26.html").read_text()
    assert f'href="../stories/{HAFTAR}.html"' in day2  # each story links to its page
    assert "Not model output." in day2  # the daily page's own notice, as `daily` writes it
    index = (out / "index.html").read_text()
    assert 'href="days/2026-11-26.html"' in index and "not model output" in index

    questions = (out / "questions.html").read_text()
    assert 'class="q-answered"' in questions and 'class="q-open"' in questions


def test_every_link_resolves_and_nothing_leaves_the_site(demo_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(Store(demo_store), out)
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 9
    for page in pages:
        for tag, attr, value in refs(page):
            parts = urlsplit(value)
            if parts.scheme:
                # Only links to sources may point outside, and never load anything.
                assert (tag, attr) == ("a", "href") and parts.scheme in ("http", "https"), value
                continue
            target = (page.parent / parts.path).resolve()
            assert target.is_file(), f"{page.relative_to(out)}: {value} does not resolve"
            assert out.resolve() in target.parents


def test_a_rebuild_writes_only_what_changed(demo_store: Path, tmp_path: Path) -> None:
    store = copy_store(demo_store, tmp_path / "store")
    out = tmp_path / "site"
    first = build_site(Store(store), out)
    assert len(first.written) == 14 and first.unchanged == 0
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = build_site(Store(store), out)
    assert again.written == [] and again.unchanged == 14
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == mtimes
    # A newer day's run: its page, the index and the pages that list it change; the
    # finished day-1 page does not.
    db = Store(store)
    row = db.daily_days()[0]
    daily = json.loads(row["body_json"])
    daily["date"] = "2026-11-27"
    db.put_brief("daily", json.dumps(daily), title="Daily brief 2026-11-27", day="2026-11-27")
    third = build_site(Store(store), out)
    assert "days/2026-11-27.html" in third.written and "index.html" in third.written
    assert "days/2026-11-25.html" not in third.written
    assert not list(out.rglob(".*.tmp"))  # no temporary file left behind


def test_days_and_since_bound_the_build(demo_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    r = runner.invoke(
        app, ["site", "--out", str(out), "--store", str(demo_store), "--since", "2026-11-26"]
    )
    assert r.exit_code == 0, r.output
    assert (out / "days/2026-11-26.html").exists() and not (out / "days/2026-11-25.html").exists()
    # Only the stories briefed in the window get a page (the day-1-only strike story not).
    assert not (out / "stories/st-09b620e42a.html").exists()
    assert (out / f"stories/{HAFTAR}.html").exists()


def _hostile_store(demo_store: Path, folder: Path) -> Path:
    """The seeds' day 2 with a title, a summary, a quote and a source URL that attack."""
    store = copy_store(demo_store, folder)
    db = Store(store)
    row = db.daily_days()[0]
    daily = json.loads(row["body_json"])
    story = daily["stories"][0]
    story["title"] = (
        '<script>window.__pwned = 1</script>Evil <img src=x onerror="window.__pwned=2">'
    )
    story["summary"] = "Click <a href=javascript:alert(1)>here</a>"
    story["sources"][0]["url"] = "javascript:window.__pwned=3"
    story["stances"][0]["evidence"][0]["quote"] = '"><svg onload="window.__pwned=4">'
    db.put_brief("daily", json.dumps(daily), title="x", day=daily["date"])
    sid = story["story"]["story_id"]
    db.replace_story_days(
        daily["date"],
        [(sid, story["story"]["first_day"], story["title"], json.dumps(story))],
    )
    return store


def test_hostile_text_is_shown_as_text(demo_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(Store(_hostile_store(demo_store, tmp_path / "store")), out)
    for page in out.rglob("*.html"):
        html = page.read_text()
        assert "<script" not in html, page
        assert "onerror=" not in html.replace("onerror=&#34;", "").replace("onerror=&quot;", ""), (
            page
        )
        assert "<svg onload" not in html and "javascript:" not in re.sub(r">[^<]*<", "><", html), (
            page
        )
    story = next(p for p in (out / "stories").glob("st-*.html") if "Evil" in p.read_text())
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;Evil" in story.read_text()


def test_without_the_plotting_extra_the_site_says_so(
    demo_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    out = tmp_path / "site"
    r = runner.invoke(app, ["site", "--out", str(out), "--store", str(demo_store)])
    assert r.exit_code == 0, r.output
    assert "built without pictures: pictures need the site extra" in r.output
    assert "Traceback" not in r.output
    story = (out / f"stories/{HAFTAR}.html").read_text()
    assert "No picture: pictures need the site extra: pip install" in story
    assert "<img" not in story and not list(out.rglob("*.svg"))
    assert "Greece — 2019 maritime deal with Tripoli</th><td>opposes</td>" in story


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--since", "yesterday"], 3, "--since yesterday: not a date; use YYYY-MM-DD"),
        (["--days", "0"], 3, "--days 0: use a number of days, 1 or more"),
    ],
)
def test_bad_bounds_are_one_line(
    demo_store: Path, tmp_path: Path, args: list[str], code: int, says: str
) -> None:
    r = runner.invoke(
        app, ["site", "--out", str(tmp_path / "s"), "--store", str(demo_store), *args]
    )
    assert r.exit_code == code and says in r.output and "Traceback" not in r.output
    assert not (tmp_path / "s").exists()


def test_out_must_be_a_site_folder(demo_store: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    r = runner.invoke(app, ["site", "--out", str(a_file), "--store", str(demo_store)])
    assert r.exit_code == 4 and "is a file; give a folder" in r.output
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("mine")
    r = runner.invoke(app, ["site", "--out", str(home), "--store", str(demo_store)])
    assert r.exit_code == 4 and "not empty and holds no site" in r.output
    assert sorted(p.name for p in home.iterdir()) == ["thesis.tex"]


def test_an_empty_store_builds_a_site_that_says_so(tmp_path: Path) -> None:
    out = tmp_path / "site"
    report = build_site(Store(tmp_path / "empty.db"), out)
    assert report.days == 0
    assert "No daily brief in the store" in (out / "index.html").read_text()
    assert "No call to a model is recorded" in (out / "spend.html").read_text()
    assert "No question in the ledger yet" in (out / "questions.html").read_text()


def test_site_url_links_the_daily_html_and_slack_outputs_to_story_pages(tmp_path: Path) -> None:
    from tests.site_store import SEEDS

    config = tmp_path / "summarizer.toml"
    config.write_text(
        '[daily]\nsite_url = "https://briefs.example.org/team"\nformats = ["md", "html", "slack"]\n'
    )
    r = runner.invoke(
        app,
        ["daily", "-s", str(SEEDS / "daily"), "--replay", str(SEEDS / "recordings"),
         "--out-dir", str(tmp_path), "--store", str(tmp_path / "s.db"), "--date", "2026-11-25",
         "--config", str(config)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    page = "https://briefs.example.org/team/stories/st-38ea36c762.html"
    assert f'href="{page}"' in (tmp_path / "2026-11-25.html").read_text()
    assert f"<{page}|Haftar expected in Türkiye" in (tmp_path / "2026-11-25.slack.json").read_text()
    # Without it, no link: the outputs name no site they do not know of.
    assert "/stories/" not in (tmp_path / "2026-11-25.md").read_text()


def test_site_url_must_be_an_http_address(tmp_path: Path) -> None:
    config = tmp_path / "summarizer.toml"
    config.write_text('[daily]\nsite_url = "javascript:alert(1)"\n')
    r = runner.invoke(app, ["daily", "-s", str(tmp_path), "--config", str(config)])
    assert r.exit_code == 3 and "site_url" in r.output and "http(s)" in r.output
