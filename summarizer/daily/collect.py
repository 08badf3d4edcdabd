"""Sources to documents: each source string is a directory, a file, a feed or a page.

A URL is fetched once and told apart by what comes back (a feed's media type or its
opening tag), so a user can list feeds and pages together without saying which is which.
A source that fails is reported and the others go on.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from summarizer.errors import InputError
from summarizer.extract import extract
from summarizer.fetch import FEED_TYPES, PAGE_TYPES, FetchLimits, fetch, new_client
from summarizer.ingest import Document, read_path
from summarizer.sources import Loaded, load_directory, load_fetched_feed

if TYPE_CHECKING:
    import httpx2

# XHTML is a page, not a feed, though its type says xml.
_FEED_MEDIA = {t for t in FEED_TYPES if "xml" in t and "html" not in t}
_FEED_START = (b"<?xml", b"<rss", b"<feed", b"<rdf:rdf")


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


async def _load_remote(
    url: str, *, client: httpx2.AsyncClient, limits: FetchLimits, since: datetime, feed_entries: int
) -> Loaded:
    fetched = await fetch(url, client=client, limits=limits, accept=FEED_TYPES | PAGE_TYPES)
    head = fetched.content[:200].lstrip().lower()
    if fetched.content_type in _FEED_MEDIA or head.startswith(_FEED_START):
        return await load_fetched_feed(
            fetched, client=client, since=since, max_entries=feed_entries, limits=limits
        )
    return Loaded([await asyncio.to_thread(extract, fetched)], [])


async def collect(
    sources: list[str],
    *,
    since: datetime,
    feed_entries: int,
    max_bytes: int,
    page_bytes: int | None = None,
) -> Loaded:
    """Every document the sources give, and (source, message) for each one that failed."""
    limits = FetchLimits(max_bytes=page_bytes or max_bytes)
    documents: list[Document] = []
    failures: list[tuple[str, str]] = []

    async with new_client(limits) as client:

        async def one(source: str) -> Loaded:
            try:
                if _is_url(source):
                    return await _load_remote(
                        source, client=client, limits=limits, since=since, feed_entries=feed_entries
                    )
                if Path(source).is_dir():
                    return await asyncio.to_thread(load_directory, source, max_bytes=max_bytes)
                return Loaded([read_path(source, max_bytes=max_bytes)], [])
            except InputError as exc:
                return Loaded([], [(source, str(exc))])

        for loaded in await asyncio.gather(*(one(s) for s in sources)):
            documents += loaded.documents
            failures += loaded.failures
    return Loaded(documents, failures)
