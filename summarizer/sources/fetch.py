"""Fetching one URL over HTTP, with limits, and every failure as a one-line InputError.

    async with new_client() as client:               # one client, shared: connections reused
        page = await fetch(url, client=client)       # -> Fetched(url, content, content_type, ...)
        feed = await fetch(url, client=client, accept=FEED_TYPES)

`fetch` follows redirects itself (so the cap and the http/https rule hold for any client
passed in), sets timeouts per request, refuses a body over `FetchLimits.max_bytes` while
streaming it, and refuses a content type outside `accept` before reading the body. Every
failure is an `InputError` (exit 4) whose message names the URL and what to do: a page
the user pointed at is their input, whether it is missing, slow or a PNG.

This module imports httpx2 at the top; the CLI imports it only inside a command.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2

from summarizer import __version__
from summarizer.errors import InputError
from summarizer.plumbing import redact

if TYPE_CHECKING:
    from summarizer.config import Settings

USER_AGENT = f"summarizer/{__version__} (news briefing tool; python-httpx2)"

#: Media types accepted for an article page. A missing Content-Type is let through and left
#: to extraction, since some servers send none for perfectly good HTML.
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
#: The media types feeds are served with. `application/x-rss+xml` is what Debian's
#: mime.types (so Apache, nginx and Python's http.server) gives a `.rss` file.
FEED_MEDIA = frozenset(
    {
        "application/rss+xml",
        "application/x-rss+xml",
        "application/atom+xml",
        "application/x-atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+xml",
    }
)
#: Labels that say nothing about what the body is: the body is sniffed instead.
GENERIC_TYPES = frozenset(
    {"application/octet-stream", "binary/octet-stream", "application/x-download", "text/plain"}
)
#: Media types accepted for a feed. HTML is let in on purpose so feeds.py can say "this is a
#: web page, not a feed" (and point at the page's own feed link) instead of "bad type".
FEED_TYPES = FEED_MEDIA | GENERIC_TYPES | {"text/html", "application/xhtml+xml"}

_ACCEPT_PAGE = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
_ACCEPT_FEED = (
    "application/rss+xml,application/atom+xml;q=0.9,application/xml;q=0.8,text/xml;q=0.8,*/*;q=0.1"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchLimits:
    """How long to wait and how much to take from one URL."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    # Bounds a server that drips bytes just fast enough never to trip read_timeout.
    total_timeout: float = 60.0
    max_bytes: int = 2_000_000
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> FetchLimits:
        # A page is mostly markup and scripts: it gets its own, larger bound than the
        # article text (max_input_bytes), which files and extracted text keep.
        return cls(**{"max_bytes": settings.max_page_bytes, **overrides})

    def timeout(self) -> httpx2.Timeout:
        return httpx2.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )


@dataclass(frozen=True)
class Fetched:
    """A response body that passed every check."""

    url: str  # final URL, after redirects
    requested_url: str
    content: bytes
    content_type: str  # media type, lower case, no parameters; "" when the server sent none
    charset: str | None  # from the Content-Type header only; extract.py also reads <meta>


def new_client(
    limits: FetchLimits | None = None, *, public_only: bool = False, **kwargs: Any
) -> httpx2.AsyncClient:
    """An AsyncClient set up for fetching articles; share one across many fetches.

    `public_only=True` (the HTTP API and the Slack bot: URLs from strangers) connects only
    to public addresses, each checked and then pinned for the connection, on every hop
    (see summarizer.sources.addresses); such a client uses no proxy. Extra keyword arguments go to
    `httpx2.AsyncClient` (e.g. `trust_env=False`, `proxy=`).
    """
    from summarizer.sources.addresses import CONNECTION_LIMITS, public_only_transport

    limits = limits or FetchLimits()
    options: dict[str, Any] = {
        "headers": {"User-Agent": USER_AGENT},
        "timeout": limits.timeout(),
        "follow_redirects": False,
        "limits": CONNECTION_LIMITS,
    }
    if public_only:
        options["transport"] = public_only_transport(limits)
        options["trust_env"] = False
    options.update(kwargs)
    return httpx2.AsyncClient(**options)


def parse_content_type(value: str | None) -> tuple[str, str | None]:
    """'text/html; charset="Shift_JIS"' -> ('text/html', 'shift_jis')."""
    if not value:
        return "", None
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return media.strip().lower(), charset


def check_url(url: str) -> httpx2.URL:
    """Refuse anything but an absolute http(s) URL, before any connection is made."""
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, TypeError, ValueError) as exc:
        raise InputError(f"{url}: not a valid URL ({exc}); check it") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError(
            f"{url}: not an http(s) URL; give a full address like https://example.com/article"
        )
    return parsed


async def fetch(
    url: str,
    *,
    client: httpx2.AsyncClient,
    limits: FetchLimits | None = None,
    accept: Collection[str] = PAGE_TYPES,
) -> Fetched:
    """GET `url` and return its body, or raise InputError naming the URL."""
    limits = limits or FetchLimits()
    start = check_url(url)
    try:
        async with asyncio.timeout(limits.total_timeout):
            return await _fetch(url, start, client, limits, accept)
    except TimeoutError:
        raise InputError(
            f"{url}: took longer than {limits.total_timeout:g}s in total; try again later"
        ) from None


async def _fetch(
    url: str,
    current: httpx2.URL,
    client: httpx2.AsyncClient,
    limits: FetchLimits,
    accept: Collection[str],
) -> Fetched:
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": _ACCEPT_FEED if _is_feed(accept) else _ACCEPT_PAGE,
    }
    for _hop in range(limits.max_redirects + 1):
        request = client.build_request("GET", current, headers=headers, timeout=limits.timeout())
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx2.HTTPError as exc:
            raise _transport_error(url, exc, limits) from exc
        except InputError as exc:  # only summarizer.sources.addresses raises one from a transport
            hop = "" if str(current) == url else f" (redirected to {redact.url(str(current))})"
            raise InputError(f"{url}{hop}: {exc}") from None
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                current = _next_hop(url, response)
                continue
            _check_status(url, response)
            content_type, charset = parse_content_type(response.headers.get("content-type"))
            if content_type and content_type not in accept:
                raise InputError(
                    f"{url}: is {content_type}, not {_kind(accept)}; {_what_to_give(accept)}"
                )
            content = await _read_capped(url, response, limits)
            return Fetched(
                url=str(response.url),
                requested_url=url,
                content=content,
                content_type=content_type,
                charset=charset,
            )
        finally:
            await response.aclose()
    raise InputError(
        f"{url}: more than {limits.max_redirects} redirects (last to {current}); "
        "it may redirect in a loop: open it in a browser, or give the final address"
    )


def _next_hop(url: str, response: httpx2.Response) -> httpx2.URL:
    location = response.headers["location"]
    try:
        target = response.url.join(location)
    except (httpx2.InvalidURL, ValueError):
        raise InputError(
            f"{url}: redirects to an invalid address ({location!r}); check the URL"
        ) from None
    if target.scheme not in ("http", "https"):
        raise InputError(
            f"{url}: redirects to a non-http(s) address ({target}); give an http(s) article URL"
        )
    return target


def _check_status(url: str, response: httpx2.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = response.reason_phrase or "error"
    if status in (404, 410):
        raise InputError(f"{url}: not found (HTTP {status} {reason}); check the address")
    if status == 429:
        raise InputError(f"{url}: rate limited (HTTP 429); wait a while and try again")
    if status in (401, 403):
        raise InputError(
            f"{url}: access refused (HTTP {status} {reason}); the page may need a login or "
            "block automated readers: save it from a browser and give the file"
        )
    if status >= 500:
        raise InputError(f"{url}: server error (HTTP {status} {reason}); try again later")
    if 300 <= status < 400:
        raise InputError(f"{url}: HTTP {status} {reason} without a usable redirect; check the URL")
    raise InputError(f"{url}: HTTP {status} {reason}; check the URL")


async def _read_capped(url: str, response: httpx2.Response, limits: FetchLimits) -> bytes:
    too_big = (
        f"{url}: page is over the {limits.max_bytes:,}-byte limit (max_page_bytes); "
        "raise max_page_bytes (SUMMARIZER_MAX_PAGE_BYTES) or save the article text to a file"
    )
    declared = response.headers.get("content-length", "")
    # Content-Length counts the compressed size, so it can only prove a body too big, never
    # small enough; the decoded bytes are counted below as they arrive.
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise InputError(too_big)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limits.max_bytes:
                raise InputError(too_big)
            chunks.append(chunk)
    except httpx2.HTTPError as exc:
        raise _transport_error(url, exc, limits) from exc
    return b"".join(chunks)


def _transport_error(url: str, exc: httpx2.HTTPError, limits: FetchLimits) -> InputError:
    if isinstance(exc, httpx2.ConnectTimeout | httpx2.PoolTimeout):
        return InputError(
            f"{url}: timed out connecting after {limits.connect_timeout:g}s; "
            "check the address or your network, or try again later"
        )
    if isinstance(exc, httpx2.TimeoutException):
        return InputError(
            f"{url}: timed out after {limits.read_timeout:g}s waiting for the server; "
            "try again later"
        )
    if isinstance(exc, httpx2.ConnectError):
        cause = _root_cause(exc)
        if isinstance(cause, socket.gaierror):
            return InputError(f"{url}: host not found (DNS lookup failed); check the address")
        if isinstance(cause, ssl.SSLError):
            return InputError(f"{url}: TLS handshake failed ({cause}); check the address")
        return InputError(
            f"{url}: could not connect (connection refused or host unreachable); "
            "check the address, or try again later"
        )
    if isinstance(exc, httpx2.UnsupportedProtocol):
        return InputError(f"{url}: not an http(s) URL; give a full address like https://...")
    if isinstance(exc, httpx2.DecodingError):
        return InputError(
            f"{url}: the response could not be decoded (bad compression); try again later"
        )
    if isinstance(exc, httpx2.TransportError):
        detail = str(exc) or type(exc).__name__
        return InputError(f"{url}: the connection failed ({detail}); try again later")
    return InputError(f"{url}: request failed ({str(exc) or type(exc).__name__}); check the URL")


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc


def _is_feed(accept: Collection[str]) -> bool:
    return "application/rss+xml" in accept


def _kind(accept: Collection[str]) -> str:
    # A feed fetch also takes HTML (to point at the page's feed link): it names both.
    return "a feed or web page" if _is_feed(accept) else "a web page or text"


def _what_to_give(accept: Collection[str]) -> str:
    if _is_feed(accept):
        return "give the URL of an RSS or Atom feed, or of an HTML article"
    return "give the URL of an HTML article (PDFs and images are not read)"
