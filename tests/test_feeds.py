"""feeds.py: RSS and Atom feeds fetched from the loopback server, and things that are not feeds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from summarizer.errors import InputError
from summarizer.sources.feeds import Feed, parse_feed
from summarizer.sources.fetch import FEED_TYPES, Fetched, FetchLimits, fetch, new_client
from tests.web_server import FIXTURES, Route, WebServer

LIMITS = FetchLimits(read_timeout=2.0, total_timeout=10.0)
MARCH = datetime(2025, 3, 1, tzinfo=UTC)


def serve_feed(web: WebServer, name: str, path: str, content_type: str) -> str:
    body = (FIXTURES / name).read_text(encoding="utf-8").replace("{base}", web.base)
    return web.add(path, Route(headers={"Content-Type": content_type}, body=body.encode()))


def get_feed(url: str, **kwargs: Any) -> Feed:
    async def go() -> Fetched:
        async with new_client(trust_env=False) as client:
            return await fetch(url, client=client, limits=LIMITS, accept=FEED_TYPES)

    got = asyncio.run(go())
    return parse_feed(
        got.content, url=got.url, content_type=got.content_type, charset=got.charset, **kwargs
    )


def test_rss_feed_entries_newest_first(web: WebServer) -> None:
    url = serve_feed(web, "rss.xml", "/feeds/local.rss", "application/rss+xml; charset=utf-8")
    feed = get_feed(url)
    assert feed.title == "The Harbor City Chronicle – Local"
    assert [e.link for e in feed.entries] == [
        web.url("/news/flood-barrier"),
        web.url("/news/cafe-terraces"),
        web.url("/news/tram"),
        web.url("/news/budget"),
        web.url("/news/letters"),  # undated: last
    ]
    first, cafe = feed.entries[0], feed.entries[1]
    assert first.title == "Harbor City approves $40m flood barrier after heated vote"
    assert first.published == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
    assert first.summary == (
        "The council voted 7-4 to build a tidal barrier at the mouth of the Wren estuary."
    )
    assert cafe.title == "Café owners fight the “terrace tax”"
    assert cafe.published == datetime(2025, 3, 12, 9, 0, tzinfo=UTC)  # +0100 -> UTC
    assert feed.entries[-1].published is None


def test_rss_since_window_and_cap(web: WebServer) -> None:
    url = serve_feed(web, "rss.xml", "/feeds/local.rss", "application/rss+xml")
    recent = get_feed(url, since=MARCH)
    assert [e.title for e in recent.entries] == [
        "Harbor City approves $40m flood barrier after heated vote",
        "Café owners fight the “terrace tax”",
        "Letters to the editor",
    ]  # February and January are out; the undated letters stay, for their page's date
    assert (recent.found, recent.older) == (5, 2)
    assert [e.title for e in get_feed(url, since=MARCH, max_entries=1).entries] == [
        "Harbor City approves $40m flood barrier after heated vote"
    ]
    assert len(get_feed(url, max_entries=3).entries) == 3
    assert get_feed(url, max_entries=0).entries == []
    # The boundary is inclusive, and a naive `since` is read as UTC.
    at = get_feed(url, since=datetime(2025, 3, 12, 9, 0))
    assert [e.link for e in at.entries][-2] == web.url("/news/cafe-terraces")  # then undated


def test_atom_feed_since_window(web: WebServer) -> None:
    url = serve_feed(web, "atom.xml", "/feeds/politik.atom", "application/atom+xml")
    feed = get_feed(url)
    assert feed.title == "Rheinwächter – Politik"
    assert [e.title for e in feed.entries] == [
        "Stadtrat beschließt neue Straßenbahnlinie nach Südstadt",
        "Haushaltsdebatte vertagt",
        "Rückblick auf den Winter",
    ]
    tram = feed.entries[0]
    assert tram.link == web.url("/artikel/strassenbahn")
    assert tram.published == datetime(2025, 3, 10, 17, 5, tzinfo=UTC)  # published, not updated
    assert tram.summary == "Rund 6,4 Kilometer, zwölf Haltestellen."
    # An entry with only <updated> is dated by it.
    assert feed.entries[1].published == datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
    recent = get_feed(url, since=MARCH)
    assert [e.link for e in recent.entries] == [
        web.url("/artikel/strassenbahn"),
        web.url("/artikel/haushalt"),
    ]


def test_relative_links_resolve_against_the_feed_url(web: WebServer) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>A</title><link>/news/a</link></item></channel></rss>"
    )
    url = web.add("/sub/feed.xml", Route(headers={"Content-Type": "text/xml"}, body=body))
    assert get_feed(url).entries[0].link == web.url("/news/a")


def test_malformed_feed_that_still_has_entries_is_accepted(web: WebServer) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>'
        b"<item><title>Fish & chips prices soar</title><link>http://127.0.0.1/a</link>"
        b"<pubDate>Fri, 14 Mar 2025 08:30:00 GMT</pubDate></item></channel></rss>"
    )
    url = web.add("/broken.xml", Route(headers={"Content-Type": "application/xml"}, body=body))
    feed = get_feed(url)
    assert [e.title for e in feed.entries] == ["Fish & chips prices soar"]


def test_valid_feed_without_entries_is_empty_not_an_error(web: WebServer) -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    url = web.add("/quiet.xml", Route(headers={"Content-Type": "application/rss+xml"}, body=body))
    feed = get_feed(url)
    assert (feed.title, feed.entries) == ("Quiet", [])


def not_a_feed(url: str) -> str:
    with pytest.raises(InputError) as info:
        get_feed(url)
    assert info.value.exit_code == 4
    return str(info.value)


def test_html_page_is_not_a_feed_and_its_feed_link_is_suggested(web: WebServer) -> None:
    body = (
        b"<!DOCTYPE html><html><head><title>Chronicle</title>"
        b'<link rel="alternate" type="application/rss+xml" title="Local" href="/feeds/local.rss">'
        b"</head><body><p>Welcome to the Chronicle.</p></body></html>"
    )
    url = web.add("/", Route(body=body))
    assert not_a_feed(url) == (
        f"{url}: is not an RSS or Atom feed (it is an HTML page); "
        f"its feed link is {web.url('/feeds/local.rss')}: give that"
    )


def test_article_page_is_not_a_feed(web: WebServer) -> None:
    body = (FIXTURES / "article.html").read_bytes()
    url = web.add("/news/flood", Route(body=body))
    assert not_a_feed(url) == (
        f"{url}: is not an RSS or Atom feed (it is an HTML page); give the site's feed URL"
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "(the response is empty)"),
        (b"this is not xml at all {", "(syntax error)"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "not well-formed"),
        # feedparser opens bare bytes as a file name; the body must never reach the disk.
        (str(FIXTURES / "rss.xml").encode(), ""),
    ],
)
def test_garbage_is_not_a_feed(web: WebServer, body: bytes, detail: str) -> None:
    url = web.add("/feed", Route(headers={"Content-Type": "application/xml"}, body=body))
    message = not_a_feed(url)
    assert message.startswith(f"{url}: is not an RSS or Atom feed")
    assert detail in message


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-rss+xml",  # Debian's mime.types for .rss: Apache, nginx, http.server
        "application/x-atom+xml",
        "application/octet-stream",  # a generic label: the body is what counts
        "text/plain; charset=utf-8",
    ],
)
def test_feed_media_types_in_use_are_accepted(web: WebServer, content_type: str) -> None:
    url = serve_feed(web, "rss.xml", "/feeds/local.rss", content_type)
    assert len(get_feed(url).entries) == 5


def test_portuguese_feed_dates_are_read(web: WebServer) -> None:
    url = serve_feed(web, "feed_pt.rss", "/feed/cidade.rss", "application/rss+xml")
    feed = get_feed(url)
    assert [e.published for e in feed.entries] == [
        datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC),  # Seg, 24 Set 2018 19:42:40 -0300
        datetime(2018, 9, 22, 12, 5, tzinfo=UTC),  # Sáb, 22 Set 2018 09:05:00 -0300
        datetime(2018, 9, 19, 17, 30, 12, tzinfo=UTC),
    ]
    window = get_feed(url, since=datetime(2018, 9, 20, tzinfo=UTC))
    assert len(window.entries) == 2 and window.older == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("24 de setembro de 2018 19:42", datetime(2018, 9, 24, 19, 42, tzinfo=UTC)),
        ("mar., 02 ene. 2024 10:00:00 +0100", datetime(2024, 1, 2, 9, 0, tzinfo=UTC)),
        ("lun., 05 févr. 2024 08:00:00 CET", datetime(2024, 2, 5, 7, 0, tzinfo=UTC)),
        ("Mo, 04. März 2024 09:15:00 +0100", datetime(2024, 3, 4, 8, 15, tzinfo=UTC)),
        ("gio, 07 mar 2024 12:00:00 +0100", datetime(2024, 3, 7, 11, 0, tzinfo=UTC)),
        ("wo, 10 jan 2024 16:00:00 +0100", datetime(2024, 1, 10, 15, 0, tzinfo=UTC)),
    ],
)
def test_european_date_names(value: str, expected: datetime) -> None:
    from summarizer.sources.feeds import local_date

    parsed = local_date(value)
    assert parsed is not None
    assert datetime(*parsed[:6], tzinfo=UTC) == expected


@pytest.mark.parametrize("value", ["", "yesterday", "Seg, 99 Xyz 2018", "32 de setembro de 2018"])
def test_unreadable_dates_stay_unread(value: str) -> None:
    from summarizer.sources.feeds import local_date

    assert local_date(value) is None


def test_an_empty_feed_is_a_feed_that_says_so(web: WebServer) -> None:
    url = serve_feed(web, "feed_empty.rss", "/corrections.rss", "application/x-rss+xml")
    feed = get_feed(url)
    assert (feed.entries, feed.found) == ([], 0)
    assert feed.why_empty(None) == "the feed has no entries"
