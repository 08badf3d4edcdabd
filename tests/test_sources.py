"""sources.py: the high-level loaders, end to end against the loopback server and tmp dirs."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx2
import pytest

from summarizer.errors import InputError
from summarizer.sources.fetch import FetchLimits, new_client
from summarizer.sources.ingest import Document
from summarizer.sources.loader import (
    LeftOut,
    Loaded,
    load_directory,
    load_feed,
    load_url,
    load_urls,
)
from tests.web_server import FIXTURES, Route, WebServer, closed_port_url, page

T = TypeVar("T")
LIMITS = FetchLimits(read_timeout=2.0, total_timeout=10.0)
MARCH = datetime(2025, 3, 1, tzinfo=UTC)


def run(call: Callable[[httpx2.AsyncClient], Awaitable[T]]) -> T:
    async def go() -> T:
        async with new_client(LIMITS, trust_env=False) as client:
            return await call(client)

    return asyncio.run(go())


def serve_feed(web: WebServer, name: str, path: str) -> str:
    body = (FIXTURES / name).read_text(encoding="utf-8").replace("{base}", web.base)
    return web.add(path, Route(headers={"Content-Type": "application/xml"}, body=body.encode()))


def news_site(web: WebServer) -> str:
    """The RSS fixture's articles: two fine, one German, one broken, one only navigation."""
    web.add("/news/flood-barrier", page("article.html"))
    web.add("/news/cafe-terraces", page("article_cp1252.html", "text/html"))
    web.add("/news/tram", page("article_de.html"))
    web.add("/news/budget", Route(status=500, body=b"<html>oops</html>"))
    web.add("/news/letters", page("nav_only.html"))
    return serve_feed(web, "rss.xml", "/feeds/local.rss")


def test_load_url(web: WebServer) -> None:
    url = web.add("/news/flood", page("article.html"))
    doc = run(lambda c: load_url(url, client=c, limits=LIMITS))
    assert doc.url == url
    assert doc.title == "Harbor City approves $40m flood barrier after heated vote"
    assert "said Mayor Lucia Ferreira" in doc.text


def test_load_url_failure_names_the_url(web: WebServer) -> None:
    url = web.url("/nowhere")
    with pytest.raises(InputError, match=rf"^{url}: not found \(HTTP 404"):
        run(lambda c: load_url(url, client=c, limits=LIMITS))


def test_feed_since_window(web: WebServer) -> None:
    feed = news_site(web)
    docs, failures, _left_out = run(lambda c: load_feed(feed, client=c, since=MARCH, limits=LIMITS))
    # The undated letters entry was fetched for its page's date; that page has no article.
    letters = web.url("/news/letters")
    assert [(u, m.split(";")[0]) for u, m in failures] == [
        (letters, f"no article text found at {letters}")
    ]
    assert [d.url for d in docs] == [web.url("/news/flood-barrier"), web.url("/news/cafe-terraces")]
    flood, cafe = docs
    # Title and date come from the feed, the text from the page.
    assert flood.title == "Harbor City approves $40m flood barrier after heated vote"
    assert flood.published == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
    assert "Harbor City council voted seven to four" in flood.text
    assert cafe.published == datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
    assert "“We’re not asking for a favour, we’re asking for fairness,”" in cafe.text
    # Only the feed, the two pages in the window and the undated one were fetched.
    assert sorted(p for p, _ in web.requests) == [
        "/feeds/local.rss",
        "/news/cafe-terraces",
        "/news/flood-barrier",
        "/news/letters",
    ]


def test_feed_entry_failures_are_reported_not_fatal(web: WebServer) -> None:
    feed = news_site(web)
    docs, failures, _left_out = run(
        lambda c: load_feed(feed, client=c, max_entries=None, limits=LIMITS)
    )
    assert [d.title for d in docs] == [
        "Harbor City approves $40m flood barrier after heated vote",
        "Café owners fight the “terrace tax”",
        "Tram line to Südstadt approved",
    ]
    assert "Oberbürgermeisterin Sabine Krüger" in docs[2].text
    budget, letters = web.url("/news/budget"), web.url("/news/letters")
    assert [url for url, _ in failures] == [budget, letters]
    assert failures[0][1].startswith(f"{budget}: server error (HTTP 500")
    assert failures[1][1].startswith(f"no article text found at {letters};")


def test_feed_cap(web: WebServer) -> None:
    feed = news_site(web)
    loaded = run(lambda c: load_feed(feed, client=c, max_entries=2, limits=LIMITS))
    assert isinstance(loaded, Loaded)
    assert len(loaded.documents) == 2
    assert loaded.failures == []
    # The rest are left out on purpose, and counted (never silent).
    (capped,) = loaded.left_out
    assert capped.source == feed and capped.entries == 3  # 5 entries, 2 kept
    assert "past the cap of 2 entries per feed" in capped.reason


def test_atom_feed(web: WebServer) -> None:
    web.add("/artikel/strassenbahn", page("article_de.html"))
    web.add("/artikel/haushalt", Route(status=404))
    feed = serve_feed(web, "atom.xml", "/feeds/politik.atom")
    docs, failures, _left_out = run(lambda c: load_feed(feed, client=c, since=MARCH, limits=LIMITS))
    assert [d.title for d in docs] == ["Stadtrat beschließt neue Straßenbahnlinie nach Südstadt"]
    assert docs[0].published == datetime(2025, 3, 10, 17, 5, tzinfo=UTC)
    assert failures == [
        (
            web.url("/artikel/haushalt"),
            f"{web.url('/artikel/haushalt')}: not found (HTTP 404 Not Found); check the address",
        )
    ]


def test_entries_without_links_and_duplicates(web: WebServer) -> None:
    web.add("/a", page("article.html"))
    a = web.url("/a")
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>First</title><link>{a}</link></item>"
        f"<item><title>Again</title><link>{a}</link></item>"
        "<item><title>Linkless</title><description>no link</description></item>"
        "</channel></rss>"
    ).encode()
    feed = web.add("/f.xml", Route(headers={"Content-Type": "application/rss+xml"}, body=body))
    docs, failures, left_out = run(lambda c: load_feed(feed, client=c, limits=LIMITS))
    assert [d.title for d in docs] == ["First"]
    assert failures == [(feed, f"{feed}: entry 'Linkless' has no link; nothing to fetch, skipped")]
    assert [p for p, _ in web.requests].count("/a") == 1
    assert left_out == [LeftOut(feed, "repeating another entry's link", 1)]


def test_feed_url_returning_html_is_refused(web: WebServer) -> None:
    url = web.add("/news/flood", page("article.html"))
    with pytest.raises(InputError, match=rf"^{url}: is not an RSS or Atom feed"):
        run(lambda c: load_feed(url, client=c, limits=LIMITS))


def test_unreachable_feed_is_refused() -> None:
    url = closed_port_url("/rss")
    with pytest.raises(InputError, match=rf"^{url}: could not connect"):
        run(lambda c: load_feed(url, client=c, limits=LIMITS))


def test_feed_pages_load_concurrently(web: WebServer) -> None:
    links = [web.add(f"/slow/{i}", page("article.html", delay=0.4)) for i in range(4)]
    items = "".join(f"<item><title>S</title><link>{u}</link></item>" for u in links)
    body = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
    feed = web.add("/slow.xml", Route(headers={"Content-Type": "text/xml"}, body=body))
    started = time.monotonic()
    docs, _, _ = run(lambda c: load_feed(feed, client=c, limits=LIMITS, concurrency=4))
    assert len(docs) == 4
    assert time.monotonic() - started < 1.2  # one after another would take 1.6 s


def test_load_urls_keeps_order_and_reports_failures(web: WebServer) -> None:
    first = web.add("/one", page("article.html"))
    second = web.add("/two", page("article_de.html"))
    broken = web.add("/img", Route(headers={"Content-Type": "image/png"}, body=b"\x89PNG"))
    docs, failures, _left_out = run(
        lambda c: load_urls([first, broken, second], client=c, limits=LIMITS)
    )
    assert [d.url for d in docs] == [first, second]
    assert failures == [
        (
            broken,
            f"{broken}: is image/png, not a web page or text; "
            "give the URL of an HTML article (PDFs and images are not read)",
        )
    ]


def test_load_directory(tmp_path: Path) -> None:
    (tmp_path / "b-notes.txt").write_text("Ferry fares\n\nFares rise 12 per cent.\n")
    (tmp_path / "a-brief.md").write_text("# Budget\n\nThe council set its budget.\n")
    shutil.copy(FIXTURES / "article.html", tmp_path / "c-flood.html")
    shutil.copy(FIXTURES / "article_cp1252.html", tmp_path / "d-cafe.HTM")
    shutil.copy(FIXTURES / "nav_only.html", tmp_path / "e-sections.html")
    (tmp_path / "f-empty.txt").write_bytes(b"")
    (tmp_path / "g-latin1.txt").write_bytes("Café".encode("latin-1"))
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / ".hidden.txt").write_text("not an article")
    (tmp_path / "sub.txt").mkdir()

    docs, failures, _left_out = load_directory(tmp_path)
    assert [Path(d.path or "").name for d in docs] == [
        "a-brief.md",
        "b-notes.txt",
        "c-flood.html",
        "d-cafe.HTM",
    ]
    assert docs[1].text == "Ferry fares\n\nFares rise 12 per cent.\n"
    flood = docs[2]
    assert flood.title == "Harbor City approves $40m flood barrier after heated vote"
    assert flood.url == "https://chronicle.example/news/2025/03/14/flood-barrier-vote"
    assert "Most read" not in flood.text
    assert "a new levy of €1,200 per table" in docs[3].text
    assert [Path(p).name for p, _ in failures] == ["e-sections.html", "f-empty.txt", "g-latin1.txt"]
    for path, message in failures:
        assert path in message
    assert "no article text found" in failures[0][1]
    assert "is empty" in failures[1][1]
    assert "not UTF-8" in failures[2][1]


def test_load_directory_size_limit(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "article.html", tmp_path / "big.html")
    (tmp_path / "big.txt").write_text("x" * 5000)
    docs, failures, _left_out = load_directory(tmp_path, max_bytes=1000)
    assert docs == []
    assert all("over the 1,000-byte limit" in message for _, message in failures)


def test_load_directory_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such directory"):
        load_directory(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("hello")
    with pytest.raises(InputError, match="is not a directory"):
        load_directory(tmp_path / "file.txt")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(InputError, match=r"has no \.txt, \.md or \.html files"):
        load_directory(empty)


def test_documents_are_plain_ingest_documents(web: WebServer) -> None:
    url = web.add("/news/flood", page("article.html"))
    doc = run(lambda c: load_url(url, client=c, limits=LIMITS))
    assert type(doc) is Document
    assert len(doc.sha256) == 64


def test_cli_startup_does_not_import_the_web_stack() -> None:
    code = (
        "import sys, summarizer.cli; "
        "heavy = ('httpx2', 'trafilatura', 'feedparser', 'lxml'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# The one loader every front door uses ---------------------------------------------------


def load_all(sources: list[str], **kwargs: object) -> Loaded:
    from summarizer.sources.loader import Loader

    async def go() -> Loaded:
        async with Loader(limits=LIMITS, **kwargs) as loader:  # type: ignore[arg-type]
            return await loader.sources(sources)

    return asyncio.run(go())


def portuguese_site(web: WebServer, content_type: str = "application/x-rss+xml") -> str:
    for path in ("/2018/09/24/camara-aprova-linha/", "/2018/09/22/feira-do-livro/",
                 "/2018/09/19/obras-na-ponte/"):  # fmt: skip
        web.add(path, page("article_pt.html"))
    body = (FIXTURES / "feed_pt.rss").read_text(encoding="utf-8").replace("{base}", web.base)
    return web.add(
        "/feed/cidade.rss", Route(headers={"Content-Type": content_type}, body=body.encode())
    )


@pytest.mark.parametrize(
    "content_type",
    ["application/x-rss+xml", "text/html; charset=UTF-8", "application/octet-stream"],
)
def test_a_feed_is_known_by_its_body_whatever_its_header(web: WebServer, content_type: str) -> None:
    url = portuguese_site(web, content_type)
    docs, failures, _left_out = load_all([url], since=datetime(2018, 9, 20, tzinfo=UTC))
    assert failures == []
    assert [d.title for d in docs] == [
        "Câmara aprova nova linha de ônibus para a zona norte",
        "Feira do livro começa no sábado com 120 expositores",
    ]
    assert docs[0].published == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    assert "/2018/09/19/obras-na-ponte/" not in [p for p, _ in web.requests]


def test_an_xhtml_page_with_an_xml_prolog_is_a_page(web: WebServer) -> None:
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Port strike ends</title></head>'
        "<body><article><h1>Port strike ends</h1><p>"
        + "Dock workers returned on Monday after the union accepted a 6 per cent offer. " * 4
        + "</p></article></body></html>"
    )
    url = web.add(
        "/p", Route(headers={"Content-Type": "application/xhtml+xml"}, body=xhtml.encode())
    )
    docs, failures, _left_out = load_all([url])
    assert failures == [] and "Dock workers returned" in docs[0].text


def test_every_source_that_gives_nothing_says_why(web: WebServer) -> None:
    old = portuguese_site(web)
    empty_body = (FIXTURES / "feed_empty.rss").read_text().replace("{base}", web.base)
    empty = web.add(
        "/corrections.rss",
        Route(headers={"Content-Type": "application/rss+xml"}, body=empty_body.encode()),
    )
    since = datetime(2025, 3, 1, tzinfo=UTC)
    docs, failures, _left_out = load_all([old, empty], since=since)
    assert docs == []
    assert failures == [
        (
            old,
            f"{old}: all 3 entries are older than the window "
            "(newest 2018-09-24 22:42 UTC, window from 2025-03-01 00:00 UTC)",
        ),
        (empty, f"{empty}: the feed has no entries"),
    ]


def test_an_undated_entry_takes_its_page_date(web: WebServer) -> None:
    web.add("/flood", page("article.html"))  # the page says 14 March 2025
    web.add("/camara", page("article_pt.html"))  # no date anywhere
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
        f"<item><title>Flood barrier</title><link>{web.url('/flood')}</link></item>"
        f"<item><title>Câmara</title><link>{web.url('/camara')}</link></item>"
        "</channel></rss>"
    )
    url = web.add(
        "/f.rss", Route(headers={"Content-Type": "application/rss+xml"}, body=rss.encode())
    )
    docs, failures, left_out = load_all([url], since=MARCH)
    assert [d.title for d in docs] == ["Flood barrier"]
    assert docs[0].published is not None and docs[0].published.date().isoformat() == "2025-03-14"
    # Left out on purpose, and counted: not a failure.
    assert failures == []
    assert left_out == [
        LeftOut(
            url, "no readable date in the feed or on the page, so not known to be in the window", 1
        )
    ]
    # Without a window nothing needs a date: both are read.
    docs, failures, left_out = load_all([url])
    assert len(docs) == 2 and failures == []


def test_a_symlink_out_of_a_directory_is_skipped_and_listed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "a.txt").write_text("Ferry fares\n\nFares rise 12 per cent from May.\n")
    (clips / "passwd.txt").symlink_to(secret)
    (clips / "same.txt").symlink_to(clips / "a.txt")  # inside: fine
    (clips / "gone.txt").symlink_to(clips / "deleted.txt")
    docs, failures, _left_out = load_directory(clips)
    assert [Path(d.path or "").name for d in docs] == ["a.txt", "same.txt"]
    assert all("root:x" not in d.text for d in docs)
    assert failures == [
        (str(clips / "gone.txt"), f"{clips / 'gone.txt'}: is a broken symlink; skipped"),
        (
            str(clips / "passwd.txt"),
            f"{clips / 'passwd.txt'}: is a symlink to a file outside {clips}; skipped "
            "(copy the file in)",
        ),
    ]


def test_a_directory_is_filtered_by_its_documents_own_dates(tmp_path: Path) -> None:
    import os

    from summarizer.sources.loader import Loader

    clips = tmp_path / "clips"
    clips.mkdir()
    # An HTML file's own date (article.html says 14 March 2025) puts it before the window.
    shutil.copy(FIXTURES / "article.html", clips / "page.html")
    # A text file has no date of its own: taken whatever the window, never by its file
    # time (a checkout or a copy resets that).
    old = clips / "old.txt"
    old.write_text("Old news\n\nThe council met last year and voted.\n")
    year_ago = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    os.utime(old, (year_ago, year_ago))

    async def go() -> Loaded:
        async with Loader(since=datetime(2025, 6, 1, tzinfo=UTC)) as loader:
            return await loader.sources([str(clips)])

    docs, failures, left_out = asyncio.run(go())
    assert [Path(d.path or "").name for d in docs] == ["old.txt"]
    assert docs[0].published is None
    assert failures == []
    assert [(x.source, x.entries) for x in left_out] == [(str(clips), 1)]
    assert "dated before the window" in left_out[0].reason
