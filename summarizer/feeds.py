"""Reading RSS and Atom feeds (with feedparser) into entries: title, link, date, summary.

    fetched = await fetch(url, client=client, accept=FEED_TYPES)
    feed = parse_feed(fetched.content, url=fetched.url, content_type=fetched.content_type,
                      charset=fetched.charset, since=yesterday, max_entries=20)
    for entry in feed.entries: ...          # newest first

A body that is not a feed (an HTML page, garbage, nothing) is an InputError naming the URL;
for an HTML page the message points at the page's own feed link when it has one. A feed
that feedparser flags as malformed (`bozo`) but that still yields entries is accepted:
real feeds are often slightly broken XML, and the entries are what matter.

Dates are aware UTC datetimes (published, else updated). With `since`, an entry without
a date is left out, since nothing shows that it is new; a naive `since` is taken as UTC.
"""

from __future__ import annotations

import calendar
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from summarizer.errors import InputError

_TAG = re.compile(r"<[^>]+>")
_LINK_TAG = re.compile(rb"<link\b[^>]*>", re.I)
_ATTR = re.compile(rb"""([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_FEED_LINK_TYPES = {b"application/rss+xml", b"application/atom+xml"}
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)", re.I | re.S)


@dataclass(frozen=True)
class FeedEntry:
    title: str | None
    link: str | None  # absolute: relative links are resolved against the feed's URL
    published: datetime | None  # aware, UTC
    summary: str | None  # plain text, tags stripped


@dataclass(frozen=True)
class Feed:
    url: str
    title: str | None
    entries: list[FeedEntry]  # newest first, undated entries last


def parse_feed(
    data: bytes,
    *,
    url: str,
    content_type: str = "",
    charset: str | None = None,
    since: datetime | None = None,
    max_entries: int | None = None,
) -> Feed:
    """Entries of an RSS 2.0 / RSS 1.0 / Atom feed; InputError if `data` is not a feed."""
    import feedparser

    if max_entries is not None and max_entries < 0:
        raise ValueError("max_entries must be 0 or more")
    if not data.strip():
        raise InputError(
            f"{url}: is not an RSS or Atom feed (the response is empty); check the URL"
        )
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type + (f"; charset={charset}" if charset else "")
    # A stream, never bare bytes: feedparser tries open() on bytes first, so a body such as
    # b"/etc/hosts" would be read from the local disk.
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    entries = parsed.entries
    if not entries and (parsed.bozo or not dict.get(parsed, "version")):
        raise _not_a_feed(url, data, content_type, parsed)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    items = [_entry(raw) for raw in entries]
    if since is not None:
        items = [e for e in items if e.published is not None and e.published >= since]
    # Newest first, so a cap keeps the latest news; sorted() is stable for equal dates.
    items = sorted(
        items, key=lambda e: e.published.timestamp() if e.published else float("-inf"), reverse=True
    )
    if max_entries is not None:
        items = items[:max_entries]
    title = _text(dict.get(parsed.feed, "title"))
    return Feed(url=url, title=title, entries=items)


def _entry(raw: Any) -> FeedEntry:
    # dict.get, not raw.get: feedparser's own get() maps a missing `updated_parsed` to
    # `published_parsed` with a DeprecationWarning.
    link = dict.get(raw, "link") or None
    if link is None:
        ident = dict.get(raw, "id") or ""
        link = ident if ident.startswith(("http://", "https://")) else None
    return FeedEntry(
        title=_text(dict.get(raw, "title")),
        link=link,
        published=_when(dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed")),
        summary=_text(dict.get(raw, "summary")),
    )


def _when(value: Any) -> datetime | None:
    """feedparser's struct_time (always UTC) -> aware datetime."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _text(value: str | None) -> str | None:
    if not value:
        return None
    text = " ".join(html.unescape(_TAG.sub(" ", value)).split())
    return text or None


def _not_a_feed(url: str, data: bytes, content_type: str, parsed: Any) -> InputError:
    head = data[:65536]
    if content_type in ("text/html", "application/xhtml+xml") or _HTML_START.match(head):
        found = _feed_link(head, url)
        hint = f"its feed link is {found}: give that" if found else "give the site's feed URL"
        return InputError(f"{url}: is not an RSS or Atom feed (it is an HTML page); {hint}")
    problem = dict.get(parsed, "bozo_exception")
    # SAX errors print as "<unknown>:2:0: syntax error": the position means nothing here.
    reason = getattr(problem, "getMessage", lambda: problem)()
    detail = f" ({reason})" if reason else ""
    return InputError(
        f"{url}: is not an RSS or Atom feed{detail}; check the URL, or give the site's feed URL"
    )


def _feed_link(head: bytes, base: str) -> str | None:
    """The href of the page's <link rel="alternate" type="application/rss+xml">, absolute."""
    from urllib.parse import urljoin

    for tag in _LINK_TAG.findall(head):
        attrs = {
            m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or b"").strip()
            for m in _ATTR.finditer(tag)
        }
        if b"alternate" in attrs.get(b"rel", b"").lower().split() and (
            attrs.get(b"type", b"").lower() in _FEED_LINK_TYPES
        ):
            href = html.unescape(attrs.get(b"href", b"").decode("utf-8", errors="replace"))
            if href:
                return urljoin(base, href)
    return None
