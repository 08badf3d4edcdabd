"""Reading RSS and Atom feeds (with feedparser) into entries: title, link, date, summary.

    fetched = await fetch(url, client=client, accept=FEED_TYPES)
    feed = parse_feed(fetched.content, url=fetched.url, content_type=fetched.content_type,
                      charset=fetched.charset, since=yesterday, max_entries=20)
    for entry in feed.entries: ...          # newest first

A body that is not a feed (an HTML page, garbage, nothing) is an InputError naming the URL;
for an HTML page the message points at the page's own feed link when it has one. A feed
that feedparser flags as malformed (`bozo`) but that still yields entries is accepted:
real feeds are often slightly broken XML, and the entries are what matter.

Dates are aware UTC datetimes (published, else updated). feedparser reads RFC 822 and
ISO 8601 dates in English; a date in another European language (a Portuguese feed's
`Seg, 24 Set 2018 19:42:40 -0300`) is read by a date handler registered with feedparser,
with the month names from dateparser's language data. With `since`, entries older than
the window are left out and counted (`Feed.older`), and so are those past `max_entries`
(`Feed.over_cap`, the oldest go first); an entry without a readable date is
kept, after the dated ones, so the loader can read the date on its page instead. A naive
`since` is taken as UTC.
"""

from __future__ import annotations

import calendar
import email.utils
import functools
import html
import importlib
import io
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from summarizer.errors import InputError

_TAG = re.compile(r"<[^>]+>")
_LINK_TAG = re.compile(rb"<link\b[^>]*>", re.I)
_ATTR = re.compile(rb"""([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_FEED_LINK_TYPES = {
    b"application/rss+xml",
    b"application/x-rss+xml",
    b"application/atom+xml",
    b"application/x-atom+xml",
}
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
    found: int = 0  # entries in the feed, before the window and the cap
    older: int = 0  # left out: published before `since`
    newest_older: datetime | None = None  # the newest of those, to say how old the feed is
    over_cap: int = 0  # left out: in the window, but past `max_entries` (the oldest ones)

    def why_empty(self, since: datetime | None) -> str:
        """Why no entry is left, as one line for "Not included"."""
        if self.found == 0:
            return "the feed has no entries"
        if self.older == self.found and since is not None:
            newest = f"newest {self.newest_older:%Y-%m-%d %H:%M} UTC, " if self.newest_older else ""
            return (
                f"all {self.found} entries are older than the window "
                f"({newest}window from {since:%Y-%m-%d %H:%M} UTC)"
            )
        return "no entry left to read"


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
    _register_date_handler()
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    entries = parsed.entries
    if not entries and (parsed.bozo or not dict.get(parsed, "version")):
        raise _not_a_feed(url, data, content_type, parsed)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    items = [_entry(raw) for raw in entries]
    found = len(items)
    old = [
        e for e in items if since is not None and e.published is not None and e.published < since
    ]
    items = [e for e in items if e not in old]
    # Newest first, so a cap keeps the latest news; sorted() is stable for equal dates.
    items = sorted(
        items, key=lambda e: e.published.timestamp() if e.published else float("-inf"), reverse=True
    )
    over_cap = 0
    if max_entries is not None:
        over_cap = max(len(items) - max_entries, 0)
        items = items[:max_entries]
    title = _text(dict.get(parsed.feed, "title"))
    newest_old = max((e.published for e in old if e.published), default=None)
    return Feed(
        url=url, title=title, entries=items, found=found, older=len(old), newest_older=newest_old,
        over_cap=over_cap,
    )  # fmt: skip


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


# Languages whose month names the date handler knows. Each is a small data module of
# dateparser's; a name two languages give to different months is dropped as ambiguous.
_DATE_LANGUAGES = (
    "pt",
    "es",
    "fr",
    "de",
    "it",
    "nl",
    "ca",
    "ro",
    "pl",
    "cs",
    "sv",
    "da",
    "nb",
    "fi",
)
_MONTH_KEYS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
# European zone names the RFC 822 parser does not know (it knows the US ones and GMT/UT).
_ZONES = {
    "WET": "+0000", "WEST": "+0100", "CET": "+0100", "CEST": "+0200", "MEZ": "+0100",
    "MESZ": "+0200", "EET": "+0200", "EEST": "+0300", "BRT": "-0300", "Z": "+0000",
}  # fmt: skip
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# [weekday,] day [.] [de] month [.] [de] year [time] [zone]: RFC 822 with foreign names, and
# the "24 de setembro de 2018" form.
_LOCAL_DATE = re.compile(
    r"""^\s*(?:[^\W\d_]+(?:-[^\W\d_]+)?\.?,?\s+)?
    (?P<day>\d{1,2})\.?\s+(?:de\s+)?(?P<month>[^\W\d_]+)\.?,?\s+(?:de\s+)?(?P<year>\d{4}),?
    (?:\s+(?:[^\W\d_]{1,3}\s+)?(?P<time>\d{1,2}:\d{2}(?::\d{2})?))?
    \s*(?P<zone>[+-]\d{2}:?\d{2}|[A-Za-z]{1,5})?\s*$""",
    re.VERBOSE,
)


@functools.cache
def _month_numbers() -> dict[str, int]:
    months: dict[str, int] = {}
    ambiguous: set[str] = set()
    for lang in _DATE_LANGUAGES:
        info = importlib.import_module(f"dateparser.data.date_translation_data.{lang}").info
        for number, key in enumerate(_MONTH_KEYS, start=1):
            for name in info.get(key, []):
                word = name.lower().rstrip(".")
                if months.setdefault(word, number) != number:
                    ambiguous.add(word)
    for word in ambiguous:
        del months[word]
    return months


def local_date(value: str) -> time.struct_time | None:
    """A feed date with European month and weekday names -> UTC time tuple, else None.

    Registered with feedparser (`registerDateHandler`), which tries it after its own.
    """
    match = _LOCAL_DATE.match(value)
    if match is None:
        return None
    month = _month_numbers().get(match["month"].lower())
    if month is None:
        return None
    zone = (match["zone"] or "+0000").replace(":", "")
    zone = _ZONES.get(zone.upper(), zone)
    # Rebuilt in English and read by the standard library's RFC 822 parser, zones included.
    rfc822 = (
        f"{match['day']} {_EN_MONTHS[month - 1]} {match['year']} {match['time'] or '00:00'} {zone}"
    )
    try:
        when = email.utils.parsedate_to_datetime(rfc822)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # a zone name the parser does not know: taken as UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).timetuple()


@functools.cache
def _register_date_handler() -> None:
    import feedparser

    feedparser.registerDateHandler(local_date)
