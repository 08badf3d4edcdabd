"""What the source loader promises, as `brief` and `daily` users meet it: nothing is left
out silently, nothing briefed is no file, and a brief from a fragment says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.web_server import FIXTURES, Route, WebServer, page

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def feed_route(name: str, web: WebServer, content_type: str = "application/x-rss+xml") -> Route:
    body = (FIXTURES / name).read_text(encoding="utf-8").replace("{base}", web.base)
    return Route(headers={"Content-Type": content_type}, body=body.encode())


def portuguese_site(web: WebServer) -> str:
    # Two different pages (the same text twice would be collapsed as a copy).
    web.add("/2018/09/24/camara-aprova-linha/", page("article_pt.html"))
    web.add("/2018/09/22/feira-do-livro/", page("article.html"))
    web.add("/2018/09/19/obras-na-ponte/", page("article_pt.html"))
    return web.add("/feed/cidade.rss", feed_route("feed_pt.rss", web))


def daily(tmp_path: Path, server: FakeOpenAI, *args: str) -> Any:
    return invoke(
        "daily", "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"),
        "--base-url", server.base_url, "--date", "2026-11-25", "--format", "json",
        "--format", "md", *args,
    )  # fmt: skip


def test_brief_of_an_empty_feed_says_the_feed_has_no_entries(fake_openai: FakeOpenAI) -> None:
    with WebServer() as web:
        url = web.add("/corrections.rss", feed_route("feed_empty.rss", web))
        r = invoke("brief", url, "--feed", "--base-url", fake_openai.base_url)
    assert r.exit_code == 4, r.output
    assert r.stdout == ""
    assert f"nothing to brief: {url}: the feed has no entries" in r.stderr
    assert "see above" not in r.stderr
    assert fake_openai.requests == []


def test_daily_of_a_stale_portuguese_feed_exits_11_and_writes_nothing(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with WebServer() as web:
        url = portuguese_site(web)
        r = daily(tmp_path, fake_openai, "-s", url, "--since", "24h")
    assert r.exit_code == 11, r.output
    assert "all 3 entries are older than the window" in r.stderr
    assert not (tmp_path / "out" / "2026-11-25.json").exists()
    assert not (tmp_path / "out" / "2026-11-25.md").exists()


def test_daily_reads_portuguese_dates_within_the_window(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with WebServer() as web:
        url = portuguese_site(web)
        r = daily(tmp_path, fake_openai, "-s", url, "--since", "2018-09-20T00:00:00+00:00")
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "out" / "2026-11-25.json").read_text())
    published = sorted(s["published"] for st in data["stories"] for s in st["sources"])
    assert published == ["2018-09-22T12:05:00Z", "2018-09-24T22:42:40Z"]


def test_a_symlink_out_of_a_daily_folder_never_reaches_the_model(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "ferry.txt").write_text(
        "Ferry fares rise\n\nThe ferry company raised fares by 12 per cent on Monday.\n"
    )
    (clips / "notes.txt").symlink_to(secret)
    r = daily(tmp_path, fake_openai, "-s", str(clips))
    assert r.exit_code == 9, r.output
    assert "root:x" not in json.dumps(fake_openai.requests)
    data = json.loads((tmp_path / "out" / "2026-11-25.json").read_text())
    assert data["failures"] == [
        {
            "source": str(clips / "notes.txt"),
            "error": f"is a symlink to a file outside {clips}; skipped (copy the file in)",
            "stage": "article",
            "detail": None,
        }
    ]
    md = (tmp_path / "out" / "2026-11-25.md").read_text()
    assert "## Not included" in md and "notes.txt" in md and "root:x" not in md


@pytest.mark.parametrize("kind", ["brief", "timeline"])
@pytest.mark.parametrize("fmt", ["json", "md", "html", "slack"])
def test_a_brief_from_a_fragment_says_so_in_every_format(
    fake_openai: FakeOpenAI, fmt: str, kind: str
) -> None:
    if kind == "timeline":  # the fake model answers briefs by itself, timelines when told
        quote = "The Lantern Makers have spent four years away"
        event = {
            "date": "March",
            "what_happened": "A review.",
            "evidence": {"quote": quote, "source_id": "S1"},
        }
        fake_openai.queue(Reply({"title": "Salt Roads", "events": [event]}))
    with WebServer() as web:
        url = web.add("/review", page("review_two_column.html"))
        r = invoke("brief", url, "--base-url", fake_openai.base_url, "-f", fmt, "--kind", kind)
    assert r.exit_code == 0, r.output
    warning = "the brief may miss part of the article (check the page)"
    if fmt == "json":
        (only,) = json.loads(r.stdout)["provenance"]["warnings"]
        assert only.startswith(f"{url}: extracted ") and only.endswith(warning)
    else:
        assert warning in r.stdout


def test_brief_knows_a_feed_without_being_told(fake_openai: FakeOpenAI) -> None:
    with WebServer() as web:
        url = portuguese_site(web)
        web.routes["/feed/cidade.rss"].headers["Content-Type"] = "application/octet-stream"
        r = invoke("brief", url, "--base-url", fake_openai.base_url, "-f", "json")
    assert r.exit_code == 0, r.output
    briefs = json.loads(r.stdout)
    briefs = briefs if isinstance(briefs, list) else [briefs]
    # Two of the three entries lead to the very same page text: briefed once, and said.
    assert len(briefs) == 2
    assert "left out: inputs: 1 entry: the same article as another (same text)" in r.stderr
    assert (
        briefs[0]["sources"][0]["title"] == "Câmara aprova nova linha de ônibus para a zona norte"
    )
