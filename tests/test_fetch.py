"""fetch.py against a loopback server: limits, redirects, statuses, and the error messages."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from summarizer import __version__
from summarizer.config import load_settings
from summarizer.errors import InputError
from summarizer.sources.fetch import (
    FEED_TYPES,
    USER_AGENT,
    Fetched,
    FetchLimits,
    fetch,
    new_client,
    parse_content_type,
)
from tests.web_server import FIXTURES, Route, WebServer, closed_port_url, page, redirect

FAST = FetchLimits(connect_timeout=0.5, read_timeout=0.2, total_timeout=5.0)


def get(url: str, **kwargs: Any) -> Fetched:
    async def go() -> Fetched:
        async with new_client(trust_env=False) as client:
            return await fetch(url, client=client, **{"limits": FAST, **kwargs})

    return asyncio.run(go())


def refused(url: str, **kwargs: Any) -> str:
    with pytest.raises(InputError) as info:
        get(url, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.exit_code == 4
    return message


def test_article_page_bytes_type_charset_and_user_agent(web: WebServer) -> None:
    url = web.add("/news/flood", page("article.html", "text/html; charset=UTF-8"))
    got = get(url)
    assert got.content == (FIXTURES / "article.html").read_bytes()
    assert (got.url, got.requested_url) == (url, url)
    assert (got.content_type, got.charset) == ("text/html", "utf-8")
    _, headers = web.requests[-1]
    assert headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith(f"summarizer/{__version__} (")
    assert headers["Accept"].startswith("text/html")


def test_feed_accept_header(web: WebServer) -> None:
    url = web.add("/rss", Route(headers={"Content-Type": "application/rss+xml"}, body=b"<rss/>"))
    assert get(url, accept=FEED_TYPES).content_type == "application/rss+xml"
    assert web.requests[-1][1]["Accept"].startswith("application/rss+xml")


def test_redirect_chain_is_followed_to_the_final_url(web: WebServer) -> None:
    web.add("/story", page("article.html"))
    web.add("/b", redirect("/story", 307))
    web.add("/a", redirect(web.url("/b"), 301))  # absolute and relative Locations
    start = web.add("/short", redirect("/a", 302))
    got = get(start)
    assert got.url == web.url("/story")
    assert got.requested_url == start
    assert b"Harbor City council voted seven to four" in got.content
    assert [p for p, _ in web.requests] == ["/short", "/a", "/b", "/story"]


def test_redirect_cap_allows_exactly_max_redirects(web: WebServer) -> None:
    web.add("/end", page("article.html"))
    web.add("/r2", redirect("/end"))
    start = web.add("/r1", redirect("/r2"))
    limits = FetchLimits(max_redirects=2, read_timeout=1.0)
    assert get(start, limits=limits).url == web.url("/end")
    message = refused(start, limits=FetchLimits(max_redirects=1, read_timeout=1.0))
    assert message.startswith(f"{start}: more than 1 redirects")


def test_redirect_loop_stops_at_the_cap(web: WebServer) -> None:
    web.add("/loop-b", redirect("/loop-a"))
    start = web.add("/loop-a", redirect("/loop-b"))
    message = refused(start, limits=FetchLimits(max_redirects=5, read_timeout=1.0))
    assert message.startswith(f"{start}: more than 5 redirects")
    assert "loop" in message
    assert len(web.requests) == 6


def test_redirect_to_another_scheme_is_refused(web: WebServer) -> None:
    start = web.add("/to-file", redirect("file:///etc/passwd"))
    message = refused(start)
    assert message.startswith(f"{start}: redirects to a non-http(s) address")


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (404, "not found (HTTP 404 Not Found); check the address"),
        (410, "not found (HTTP 410 Gone)"),
        (500, "server error (HTTP 500 Internal Server Error); try again later"),
        (503, "server error (HTTP 503 Service Unavailable)"),
        (403, "access refused (HTTP 403 Forbidden)"),
        (429, "rate limited (HTTP 429)"),
    ],
)
def test_http_error_statuses(web: WebServer, status: int, words: str) -> None:
    url = web.add("/gone", Route(status=status, body=b"<html>nope</html>"))
    assert refused(url) == refused(url)  # stable, and one line
    assert refused(url).startswith(f"{url}: {words}")


def test_unknown_path_on_the_server_is_a_404(web: WebServer) -> None:
    url = web.url("/no/such/article")
    assert "HTTP 404" in refused(url)


def test_read_timeout(web: WebServer) -> None:
    url = web.add("/slow", Route(delay=1.5, body=b"<html>late</html>"))
    started = time.monotonic()
    message = refused(url)
    assert time.monotonic() - started < 1.0
    assert message == f"{url}: timed out after 0.2s waiting for the server; try again later"


def test_total_timeout_bounds_a_dripping_server(web: WebServer) -> None:
    url = web.add("/drip", Route(body=b"x" * 200, drip=0.02))
    limits = FetchLimits(read_timeout=1.0, total_timeout=0.3)
    started = time.monotonic()
    message = refused(url, limits=limits)
    assert time.monotonic() - started < 2.0
    assert message.startswith(f"{url}: took longer than 0.3s in total")


def test_connection_refused() -> None:
    url = closed_port_url("/article")
    message = refused(url)
    assert message.startswith(f"{url}: could not connect (connection refused")


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    url = "http://no-such-host.test/article"
    assert refused(url) == f"{url}: host not found (DNS lookup failed); check the address"


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/json"])
def test_non_html_content_type_is_refused(web: WebServer, content_type: str) -> None:
    url = web.add("/file", Route(headers={"Content-Type": content_type}, body=b"\x89PNG\r\n"))
    message = refused(url)
    assert message.startswith(f"{url}: is {content_type}, not a web page or text;")
    assert "give the URL of an HTML article" in message


def test_html_is_not_a_feed_type_and_png_is_refused_for_feeds(web: WebServer) -> None:
    url = web.add("/logo.png", Route(headers={"Content-Type": "image/png"}, body=b"\x89PNG"))
    message = refused(url, accept=FEED_TYPES)
    assert message.startswith(f"{url}: is image/png, not a feed or web page;")


def test_huge_streamed_page_is_cut_off_early(web: WebServer) -> None:
    total = 200_000_000
    route = Route(stream_bytes=total)
    url = web.add("/huge", route)
    limits = FetchLimits(max_bytes=100_000, read_timeout=5.0)
    message = refused(url, limits=limits)
    assert message.startswith(f"{url}: page is over the 100,000-byte limit (max_page_bytes);")
    assert "SUMMARIZER_MAX_PAGE_BYTES" in message
    assert "max_page_bytes" in message
    time.sleep(0.2)  # let the server notice the hang-up
    assert route.sent < total // 4, "the client read (nearly) the whole body"


def test_declared_content_length_over_the_limit_is_refused_before_reading(web: WebServer) -> None:
    url = web.add("/big", Route(body=b"<p>" + b"a" * 5000 + b"</p>"))
    message = refused(url, limits=FetchLimits(max_bytes=1000, read_timeout=1.0))
    assert message.startswith(f"{url}: page is over the 1,000-byte limit")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/a.txt", "file:///etc/passwd", "example.com/news", "javascript:alert(1)"],
)
def test_only_http_and_https_urls(url: str) -> None:
    assert refused(url).startswith(f"{url}: not an http(s) URL; give a full address")


def test_one_client_reuses_its_connection(web: WebServer) -> None:
    first = web.add("/one", page("article.html"))
    second = web.add("/two", page("article_de.html"))

    async def both() -> list[Fetched]:
        async with new_client(trust_env=False) as client:
            return [await fetch(u, client=client, limits=FAST) for u in (first, second)]

    assert [f.url for f in asyncio.run(both())] == [first, second]
    assert len(web.connections) == 1


def test_missing_content_type_is_let_through(web: WebServer) -> None:
    url = web.add("/bare", Route(headers={}, body=b"<html><p>hi</p></html>"))
    got = get(url)
    assert (got.content_type, got.charset) == ("", None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('text/html; charset="Shift_JIS"', ("text/html", "shift_jis")),
        ("TEXT/HTML;CHARSET=windows-1252", ("text/html", "windows-1252")),
        ("application/rss+xml", ("application/rss+xml", None)),
        ("text/html; boundary=x; charset=", ("text/html", None)),
        (None, ("", None)),
    ],
)
def test_parse_content_type(header: str | None, expected: tuple[str, str | None]) -> None:
    assert parse_content_type(header) == expected


def test_limits_from_settings() -> None:
    settings = load_settings(max_page_bytes=12345)
    assert FetchLimits.from_settings(settings).max_bytes == 12345
    assert FetchLimits.from_settings(settings, read_timeout=3.0).read_timeout == 3.0
