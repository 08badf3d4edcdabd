"""Where articles come from: files, stdin, article URLs, feeds and directories, one way.

Every front door loads its sources here: `summarizer brief`, `summarizer daily`, the HTTP
API and the Slack bot.

    async with Loader.from_settings(settings, since=since, public_only=True) as loader:
        doc = await loader.page(url)                      # one article page; InputError
        loaded = await loader.sources(["https://example.com/feed", "clippings/", "a.txt"])
        for doc in loaded.documents: ...
        for source, why in loaded.failures: ...           # "Not included", with the reason

    loaded = await load_sources(args, settings=settings, feed_entries=20)   # the same, at once

A URL is fetched once and told apart by what comes back (a feed's root element, else its
media type), so feeds and pages can be listed together; `feed=True` insists on feeds. A
directory gives its .txt, .md and .html files (sorted by name; a symlink leading outside
the directory is skipped and listed). A .html file goes through extraction like a page.

`keep_going=False` (the CLI's `brief`: a bad input costs nothing and writes nothing)
raises InputError for a source that is itself bad; `keep_going=True` (`daily`) reports it
and goes on. Either way an article that fails inside a feed or directory is reported, not
fatal, as one `(url or path, message)` pair in `failures`, and every source that gives no
article says why ("the feed has no entries", "all 12 entries are older than the window").
What a source gave but was left out on purpose is counted in `left_out`, one line per source
and reason: entries past the per-feed cap, entries repeating another entry's link, entries
with no readable date when there is a window, and directory files dated before the
window (`since`) by the date their document states (an HTML page's metadata). A file
with no date of its own (.txt, .md) is taken whatever the window, and the brief counts it
as undated. Documents keep their source's order: a
feed's newest first, a directory's by file name.

Pages are extracted by one `Extractor` per loader (see summarizer.sources.extract_pool): never two
at once in this process, overflow in worker processes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx2

from summarizer.errors import InputError
from summarizer.plumbing.concurrency import gather_or_cancel
from summarizer.sources.extract import document_from_html, extract
from summarizer.sources.extract_pool import Extractor
from summarizer.sources.feeds import FeedEntry, parse_feed
from summarizer.sources.fetch import (
    FEED_MEDIA,
    FEED_TYPES,
    GENERIC_TYPES,
    PAGE_TYPES,
    Fetched,
    FetchLimits,
    fetch,
    new_client,
)
from summarizer.sources.ingest import Document, leads_outside, read_path

if TYPE_CHECKING:
    from summarizer.config import Settings

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
# What one article URL may be: a page, text, or a body under a label that says nothing.
ARTICLE_TYPES = PAGE_TYPES | GENERIC_TYPES
# The root element of RSS 2.0 / 0.9x, Atom and RSS 1.0 (rdf:RDF), after any prolog.
_FEED_ROOT = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*
    <(?:[a-z][\w.-]*:)?(?:rss|feed|RDF)[\s>/]""",
    re.I | re.S | re.X,
)


class LeftOut(NamedTuple):
    """Entries a source gave that were left out on purpose, counted, never silent."""

    source: str  # the feed or directory
    reason: str
    entries: int  # how many


class Loaded(NamedTuple):
    documents: list[Document]
    failures: list[tuple[str, str]]  # (url or path, one-line message)
    left_out: Sequence[LeftOut] = ()


def is_url(arg: str) -> bool:
    return arg.startswith(("http://", "https://"))


def looks_like_feed(content: bytes) -> bool:
    """True when the body's root element is a feed's, whatever the Content-Type said."""
    return _FEED_ROOT.match(content[:4096]) is not None


class Loader:
    """One HTTP client and one Extractor for a batch of sources (see module docstring).

    `public_only=True` (the API and the bot) connects only to public addresses, checked
    and pinned on every hop (summarizer.sources.addresses). `since` leaves out feed entries and
    directory files dated before it; `feed_entries` caps each feed (newest first).
    """

    def __init__(
        self,
        *,
        limits: FetchLimits | None = None,
        max_bytes: int = 2_000_000,
        since: datetime | None = None,
        feed_entries: int | None = 20,
        concurrency: int = 4,
        public_only: bool = False,
        client: httpx2.AsyncClient | None = None,
        extractor: Extractor | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self.max_bytes = max_bytes
        self.since = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
        self.feed_entries = feed_entries
        self.concurrency = max(1, concurrency)
        self._own_client = client is None
        self.client = client or new_client(self.limits, public_only=public_only)
        self._own_extractor = extractor is None
        self.extractor = extractor or Extractor()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Loader:
        # A page is mostly markup and scripts: it has its own, larger bound (max_page_bytes)
        # than the article text of a file (max_input_bytes).
        kwargs.setdefault("limits", FetchLimits.from_settings(settings))
        kwargs.setdefault("max_bytes", settings.max_input_bytes)
        return cls(**kwargs)

    async def __aenter__(self) -> Loader:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
        if self._own_extractor:
            await asyncio.to_thread(self.extractor.close)

    # one source --------------------------------------------------------------------------

    async def page(self, url: str) -> Document:
        """Fetch one article page and extract it. Raises InputError naming the URL."""
        fetched = await fetch(url, client=self.client, limits=self.limits, accept=ARTICLE_TYPES)
        return await self._extract(fetched)

    async def source(self, source: str, *, feed: bool = False) -> Loaded:
        """One source's documents. Raises InputError when the source itself is bad."""
        if is_url(source):
            return await self._url(source, feed=feed)
        if feed:
            raise InputError(f"{source}: --feed takes feed URLs (http:// or https://)")
        if source != "-" and Path(source).is_dir():
            return await self.directory(source)
        if Path(source).suffix.lower() in HTML_SUFFIXES:
            return Loaded([await self._html_file(Path(source))], [])
        return Loaded([read_path(source, max_bytes=self.max_bytes)], [])

    async def sources(
        self, sources: Iterable[str], *, feed: bool = False, keep_going: bool = True
    ) -> Loaded:
        """Every document the sources give, in their order, and what failed."""

        async def one(source: str) -> Loaded:
            try:
                return await self.source(source, feed=feed)
            except InputError as exc:
                if not keep_going:
                    raise
                return Loaded([], [(source, str(exc))])

        # The first bad source ends it (keep_going=False): the others' fetches stop too.
        results = await gather_or_cancel(one(s) for s in sources)
        documents: list[Document] = []
        failures: list[tuple[str, str]] = []
        left_out: list[LeftOut] = []
        for loaded in results:
            documents += loaded.documents
            failures += loaded.failures
            left_out += loaded.left_out
        return Loaded(documents, failures, left_out)

    # URLs and feeds ----------------------------------------------------------------------

    async def _url(self, url: str, *, feed: bool) -> Loaded:
        accept = FEED_TYPES if feed else FEED_TYPES | ARTICLE_TYPES
        fetched = await fetch(url, client=self.client, limits=self.limits, accept=accept)
        if feed or looks_like_feed(fetched.content) or _declared_feed(fetched):
            return await self.fetched_feed(fetched)
        return Loaded([await self._extract(fetched)], [])

    async def feed(self, url: str) -> Loaded:
        """A feed's entries, each entry's page fetched and extracted (InputError if the
        feed itself cannot be fetched or is not a feed)."""
        fetched = await fetch(url, client=self.client, limits=self.limits, accept=FEED_TYPES)
        return await self.fetched_feed(fetched)

    async def fetched_feed(self, fetched: Fetched) -> Loaded:
        origin = fetched.requested_url
        parsed = parse_feed(
            fetched.content,
            url=fetched.url,
            content_type=fetched.content_type,
            charset=fetched.charset,
            since=self.since,
            max_entries=self.feed_entries,
        )
        loaded = await self.entries(parsed.entries, origin=origin)
        documents, failures = loaded.documents, list(loaded.failures)
        left_out = [s._replace(source=origin) for s in loaded.left_out]
        if parsed.over_cap:
            left_out.insert(
                0,
                LeftOut(
                    origin,
                    f"past the cap of {self.feed_entries} entries per feed "
                    "(the newest are kept; raise --feed-entries)",
                    parsed.over_cap,
                ),
            )
        older = parsed.older
        if self.since is not None:
            # Entries the feed gave no readable date: their page's date decides.
            dated: list[Document] = []
            undated = 0
            for doc in documents:
                if doc.published is None:
                    undated += 1
                elif doc.published < self.since:
                    older += 1
                else:
                    dated.append(doc)
            documents = dated
            if undated:
                left_out.append(
                    LeftOut(
                        origin,
                        "no readable date in the feed or on the page, so not known to be "
                        "in the window",
                        undated,
                    )
                )
        if not documents and not failures:
            why = replace(parsed, older=older).why_empty(self.since)
            failures.append((origin, f"{origin}: {why}"))
        return Loaded(documents, failures, left_out)

    async def entries(self, entries: list[FeedEntry], *, origin: str) -> Loaded:
        """The pages of parsed feed entries; `origin` names the failure of a linkless one."""
        gate = asyncio.Semaphore(self.concurrency)
        seen: set[str] = set()
        unique: list[FeedEntry] = []
        for entry in entries:
            # Feeds repeat an article under two items now and then; brief it once.
            if entry.link is None or entry.link not in seen:
                unique.append(entry)
                if entry.link:
                    seen.add(entry.link)
        same_link = len(entries) - len(unique)

        async def one(entry: FeedEntry) -> Document | tuple[str, str]:
            if not entry.link:
                name = f"entry {entry.title!r}" if entry.title else "an untitled entry"
                return (origin, f"{origin}: {name} has no link; nothing to fetch, skipped")
            async with gate:
                try:
                    doc = await self.page(entry.link)
                except InputError as exc:
                    return (entry.link, str(exc))
            # The feed's title and date are cleaner than the page's, when it has them.
            return replace(
                doc, title=entry.title or doc.title, published=entry.published or doc.published
            )

        documents: list[Document] = []
        failures: list[tuple[str, str]] = []
        for result in await asyncio.gather(*(one(e) for e in unique)):
            if isinstance(result, Document):
                documents.append(result)
            else:
                failures.append(result)
        left_out: list[LeftOut] = []
        if same_link:
            left_out.append(LeftOut(origin, "repeating another entry's link", same_link))
        return Loaded(documents, failures, left_out)

    async def _extract(self, fetched: Fetched) -> Document:
        return await self.extractor.run(extract, fetched, what=fetched.requested_url)

    # files -------------------------------------------------------------------------------

    async def directory(self, path: str | Path) -> Loaded:
        """The .txt, .md and .html files directly in `path`, sorted by name.

        Raises InputError if `path` is not a directory or holds none of these. A symlink
        that leads outside the directory is skipped and listed: a folder of clippings must
        not be a way to send /etc/passwd to the model.
        """
        folder = Path(path)
        if not folder.exists():
            raise InputError(f"{path}: no such directory; check the path")
        if not folder.is_dir():
            raise InputError(f"{path}: is not a directory; give a directory of articles")
        failures: list[tuple[str, str]] = []
        files: list[Path] = []
        for f in sorted(folder.iterdir(), key=lambda f: f.name):
            if f.name.startswith(".") or f.suffix.lower() not in TEXT_SUFFIXES | HTML_SUFFIXES:
                continue
            if f.is_symlink() and leads_outside(f, folder):
                failures.append(
                    (
                        str(f),
                        f"{f}: is a symlink to a file outside {path}; skipped (copy the file in)",
                    )
                )
            elif f.is_file():
                files.append(f)
            elif f.is_symlink():
                failures.append((str(f), f"{f}: is a broken symlink; skipped"))
        if not files and not failures:
            raise InputError(
                f"{path}: has no .txt, .md or .html files; put the articles there, or check the path"
            )

        async def one(file: Path) -> Document | tuple[str, str]:
            try:
                if file.suffix.lower() in TEXT_SUFFIXES:
                    return read_path(str(file), max_bytes=self.max_bytes)
                return await self._html_file(file)
            except InputError as exc:
                return (str(file), str(exc))

        documents: list[Document] = []
        older = 0
        for result in await asyncio.gather(*(one(f) for f in files)):
            if isinstance(result, Document):
                when = _own_date(result)
                if self.since is not None and when is not None and when < self.since:
                    older += 1
                    continue
                documents.append(result)
            else:
                failures.append(result)
        left_out: list[LeftOut] = []
        if older:
            left_out.append(
                LeftOut(
                    str(path),
                    f"dated before the window (from {self.since:%Y-%m-%d %H:%M} UTC)",
                    older,
                )
            )
        if not documents and not failures and older:
            failures.append((str(path), f"{path}: all {older} files are dated before the window"))
        return Loaded(documents, failures, left_out)

    async def _html_file(self, file: Path) -> Document:
        if not file.exists():
            raise InputError(f"{file}: no such file; check the path")
        size = file.stat().st_size
        if size > self.max_bytes:
            raise InputError(
                f"{file}: {size:,} bytes is over the {self.max_bytes:,}-byte limit; "
                "split it, or raise max_input_bytes (--max-bytes)"
            )
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise InputError(
                f"{file}: cannot be read ({exc.strerror}); check its permissions"
            ) from None
        return await self.extractor.run(
            document_from_html, data, what=str(file), name=str(file), path=str(file)
        )


def _own_date(doc: Document) -> datetime | None:
    """A directory file's date: the one its document states (an HTML page's metadata).
    A file's modification time is not used: a checkout or a copy resets it, so a folder
    would drop out of the window for reasons that have nothing to do with its articles."""
    if doc.published is None:
        return None
    return doc.published if doc.published.tzinfo else doc.published.replace(tzinfo=UTC)


def _declared_feed(fetched: Fetched) -> bool:
    # A feed media type whose body is not HTML (an XHTML page may be served as XML): feeds.py
    # then says what is wrong with it, rather than extraction calling it "no article".
    head = fetched.content.lstrip()[:15].lower()
    return fetched.content_type in FEED_MEDIA and not head.startswith((b"<!doctype", b"<html"))


async def load_sources(
    sources: Iterable[str],
    *,
    settings: Settings,
    since: datetime | None = None,
    feed_entries: int | None = 20,
    feed: bool = False,
    keep_going: bool = True,
) -> Loaded:
    """Load `sources` with a Loader made for the run, then close it (see Loader.sources)."""
    async with Loader.from_settings(settings, since=since, feed_entries=feed_entries) as loader:
        return await loader.sources(sources, feed=feed, keep_going=keep_going)


# Shorthands for a caller that holds its own client (tests, scripts).


async def load_url(
    url: str, *, client: httpx2.AsyncClient, limits: FetchLimits | None = None
) -> Document:
    async with Loader(client=client, limits=limits, extractor=Extractor(1)) as loader:
        return await loader.page(url)


async def load_urls(
    urls: Iterable[str],
    *,
    client: httpx2.AsyncClient,
    limits: FetchLimits | None = None,
    concurrency: int = 4,
) -> Loaded:
    """Many article URLs at once; each failure is reported, in input order."""
    entries = [FeedEntry(title=None, link=u, published=None, summary=None) for u in urls]
    async with Loader(client=client, limits=limits, concurrency=concurrency) as loader:
        return await loader.entries(entries, origin="")


async def load_feed(
    url: str,
    *,
    client: httpx2.AsyncClient,
    since: datetime | None = None,
    max_entries: int | None = 20,
    limits: FetchLimits | None = None,
    concurrency: int = 4,
) -> Loaded:
    async with Loader(
        client=client, limits=limits, since=since, feed_entries=max_entries,
        concurrency=concurrency,
    ) as loader:  # fmt: skip
        return await loader.feed(url)


def load_directory(path: str | Path, *, max_bytes: int = 2_000_000) -> Loaded:
    async def go() -> Loaded:
        async with Loader(max_bytes=max_bytes, extractor=Extractor(1)) as loader:
            return await loader.directory(path)

    return asyncio.run(go())
