"""Where articles come from, beyond one file: a URL, a list of URLs, a feed, a directory.

The high-level API the CLI, cron, HTTP API and Slack bot share:

    from summarizer.fetch import FetchLimits, new_client
    from summarizer.sources import load_directory, load_entries, load_feed, load_url, load_urls

    limits = FetchLimits.from_settings(settings)         # max_page_bytes bounds a page
    async with new_client(limits) as client:               # one client: connections reused
        doc = await load_url(url, client=client, limits=limits)      # raises InputError
        docs, failures = await load_feed(
            feed_url, client=client, limits=limits, since=since, max_entries=20
        )
        docs, failures = await load_urls(urls, client=client, limits=limits)
        # A feed already fetched and parsed (feeds.parse_feed): load its entries' pages.
        docs, failures = await load_entries(feed.entries, origin=feed_url, client=client)
    docs, failures = load_directory(path, max_bytes=settings.max_input_bytes)

`load_url` raises `InputError` (exit 4) naming the URL. The many-article loaders raise
only when the source itself is bad (the feed is unreachable or not a feed; the directory
is missing or holds no articles); an article that fails is reported, not fatal, as one
`(url or path, message)` pair in `failures`, and the rest load. Documents keep the order
of their source: a feed's newest first, a directory's by file name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import httpx2

from summarizer.errors import InputError
from summarizer.extract import document_from_html, extract
from summarizer.feeds import FeedEntry, parse_feed
from summarizer.fetch import FEED_TYPES, Fetched, FetchLimits, fetch, new_client
from summarizer.ingest import Document, read_path

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})


class Loaded(NamedTuple):
    documents: list[Document]
    failures: list[tuple[str, str]]  # (url or path, one-line message)


async def load_url(
    url: str, *, client: httpx2.AsyncClient, limits: FetchLimits | None = None
) -> Document:
    """Fetch one article page and extract it. Raises InputError naming the URL."""
    fetched = await fetch(url, client=client, limits=limits)
    # trafilatura is CPU-bound; a thread keeps other downloads moving meanwhile.
    return await asyncio.to_thread(extract, fetched)


async def load_urls(
    urls: Iterable[str],
    *,
    client: httpx2.AsyncClient,
    limits: FetchLimits | None = None,
    concurrency: int = 4,
) -> Loaded:
    """Load many article URLs at once; each failure is reported, in input order."""
    entries = [FeedEntry(title=None, link=u, published=None, summary=None) for u in urls]
    return await load_entries(
        entries, origin="", client=client, limits=limits, concurrency=concurrency
    )


async def load_feed(
    url: str,
    *,
    client: httpx2.AsyncClient,
    since: datetime | None = None,
    max_entries: int | None = 20,
    limits: FetchLimits | None = None,
    concurrency: int = 4,
) -> Loaded:
    """Fetch a feed, then each entry's page (newest first, at most `max_entries`).

    Raises InputError if the feed itself cannot be fetched or is not a feed. An entry's
    title and date come from the feed when it has them (they are cleaner than the page's).
    """
    fetched = await fetch(url, client=client, limits=limits, accept=FEED_TYPES)
    return await load_fetched_feed(
        fetched, client=client, since=since, max_entries=max_entries, limits=limits,
        concurrency=concurrency,
    )  # fmt: skip


async def load_fetched_feed(
    fetched: Fetched,
    *,
    client: httpx2.AsyncClient,
    since: datetime | None = None,
    max_entries: int | None = 20,
    limits: FetchLimits | None = None,
    concurrency: int = 4,
) -> Loaded:
    """The entries of a feed already fetched (e.g. by a caller that sniffed it first)."""
    feed = parse_feed(
        fetched.content,
        url=fetched.url,
        content_type=fetched.content_type,
        charset=fetched.charset,
        since=since,
        max_entries=max_entries,
    )
    return await load_entries(
        feed.entries, origin=fetched.requested_url, client=client, limits=limits,
        concurrency=concurrency,
    )  # fmt: skip


async def load_entries(
    entries: list[FeedEntry],
    *,
    origin: str,
    client: httpx2.AsyncClient,
    limits: FetchLimits | None = None,
    concurrency: int = 4,
) -> Loaded:
    """Load the pages of already-parsed feed entries (for a caller that fetched the feed).

    `origin` (the feed's URL) names the failure of an entry that has no link.
    """
    gate = asyncio.Semaphore(max(1, concurrency))
    seen: set[str] = set()
    unique: list[FeedEntry] = []
    for entry in entries:
        # Feeds repeat an article under two items now and then; brief it once.
        if entry.link is None or entry.link not in seen:
            unique.append(entry)
            if entry.link:
                seen.add(entry.link)

    async def one(entry: FeedEntry) -> Document | tuple[str, str]:
        if not entry.link:
            name = f"entry {entry.title!r}" if entry.title else "an untitled entry"
            return (origin, f"{origin}: {name} has no link; nothing to fetch, skipped")
        async with gate:
            try:
                doc = await load_url(entry.link, client=client, limits=limits)
            except InputError as exc:
                return (entry.link, str(exc))
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
    return Loaded(documents, failures)


def load_directory(path: str | Path, *, max_bytes: int = 2_000_000) -> Loaded:
    """Documents from the .txt, .md and .html files directly in `path`, sorted by name.

    Text files pass the same checks as `summarizer brief FILE`; HTML files go through
    extraction. Raises InputError if `path` is not a directory or holds none of these.
    """
    folder = Path(path)
    if not folder.exists():
        raise InputError(f"{path}: no such directory; check the path")
    if not folder.is_dir():
        raise InputError(f"{path}: is not a directory; give a directory of articles")
    files = sorted(
        (
            f
            for f in folder.iterdir()
            if f.is_file()
            and not f.name.startswith(".")
            and f.suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES
        ),
        key=lambda f: f.name,
    )
    if not files:
        raise InputError(
            f"{path}: has no .txt, .md or .html files; put the articles there, or check the path"
        )
    documents: list[Document] = []
    failures: list[tuple[str, str]] = []
    for file in files:
        try:
            if file.suffix.lower() in TEXT_SUFFIXES:
                documents.append(read_path(str(file), max_bytes=max_bytes))
            else:
                documents.append(_read_html(file, max_bytes=max_bytes))
        except InputError as exc:
            failures.append((str(file), str(exc)))
    return Loaded(documents, failures)


def _read_html(file: Path, *, max_bytes: int) -> Document:
    size = file.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"{file}: {size:,} bytes is over the {max_bytes:,}-byte limit; "
            "split it, or raise max_input_bytes (--max-bytes)"
        )
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{file}: cannot be read ({exc.strerror}); check its permissions"
        ) from None
    return document_from_html(data, name=str(file), path=str(file))


def is_url(arg: str) -> bool:
    return arg.startswith(("http://", "https://"))


async def load_inputs(
    args: Iterable[str],
    *,
    max_bytes: int,
    page_bytes: int | None = None,
    feed: bool = False,
    feed_entries: int = 20,
) -> Loaded:
    """What `summarizer brief` reads: files, '-', article URLs, or (feed=True) feed URLs.

    A bad file, an unreachable page or a feed that is not a feed raises InputError, so a
    bad input costs nothing and writes nothing; a feed entry whose page fails is reported
    in `failures` and the feed's other entries are still briefed.
    """
    args = list(args)
    if feed:
        bad = [a for a in args if not is_url(a)]
        if bad:
            raise InputError(f"{bad[0]}: --feed takes feed URLs (http:// or https://)")
    limits = FetchLimits(max_bytes=page_bytes or max_bytes)
    documents: list[Document] = []
    failures: list[tuple[str, str]] = []
    async with new_client(limits) as client:
        for arg in args:
            if feed:
                loaded = await load_feed(
                    arg, client=client, max_entries=feed_entries, limits=limits
                )
                documents += loaded.documents
                failures += loaded.failures
            elif is_url(arg):
                documents.append(await load_url(arg, client=client, limits=limits))
            else:
                documents.append(read_path(arg, max_bytes=max_bytes))
    return Loaded(documents, failures)
