"""Building the client: the settings checked, then the OpenAI SDK over the harness
transport (replay, record or live), with the rate limiter and the connection pool."""

from __future__ import annotations

import atexit
import functools
import gc
from typing import TYPE_CHECKING, Any

from summarizer.config import Settings
from summarizer.errors import ConfigError

if TYPE_CHECKING:
    import httpx2

    from summarizer.batch.book import Book
    from summarizer.llm.limiter import RateLimiter

NO_ENDPOINT = (
    "no LLM endpoint configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL "
    "(Ollama, vLLM, any OpenAI-compatible server), or pass --base-url; to try it offline, "
    "use --replay seeds/recordings"
)
# Placeholder for servers that take no key (Ollama, llama.cpp); the SDK insists on one.
_NO_KEY = "no-key-needed"
_REPLAY_BASE_URL = "http://replay.invalid/v1"
OPENAI_BASE_URL = "https://api.openai.com/v1"


def check(settings: Settings) -> None:
    """Raise ConfigError for settings no client can be built from; make the recordings
    directory."""
    if settings.replay_dir is not None:
        if not settings.replay_dir.is_dir():
            raise ConfigError(
                f"{settings.replay_dir}: recordings directory not found; check --replay"
            )
    elif not settings.has_endpoint:
        raise ConfigError(NO_ENDPOINT)
    if settings.record_dir is not None:
        # Made now, so a run whose every call fails still leaves the directory, and its
        # replay says "no recording" (exit 5), not "directory not found".
        try:
            settings.record_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"{settings.record_dir}: cannot create the recordings directory "
                f"({exc.strerror}); check --record"
            ) from None


def build(
    settings: Settings,
    *,
    inner_transport: httpx2.AsyncBaseTransport | None,
    book: Book | None,
    secret: str | None,
) -> tuple[Any, RateLimiter | None]:
    """(the SDK client, the rate limiter or None) for `settings`."""
    # Heavy imports live here, not at module import, so `summarizer --help` stays fast,
    # and of the SDKs only what a call uses (llm/lean.py).
    from summarizer.llm.lean import defer_unused_sdk_modules

    defer_unused_sdk_modules()
    import httpx2
    import openai

    from summarizer.llm.limiter import RateLimiter
    from summarizer.llm.transport import HarnessTransport

    _skip_final_collection()
    limiter: RateLimiter | None = None
    if settings.replay_dir is not None:
        transport = HarnessTransport("replay", directory=settings.replay_dir, book=book)
        base_url: str | None = settings.base_url or _REPLAY_BASE_URL
        # Replay is deterministic: a retry would get the same answer.
        http_retries = 0
    else:
        # No limits configured, no limiter: the transport then skips the per-call estimate.
        limits = RateLimiter(
            settings.rpm, settings.tpm, window=settings.rate_window, log=_shared_log(settings)
        )
        limiter = limits if limits.active else None
        # One pool for the whole run: connections are reused across articles, and it is
        # sized to the concurrency so no call waits for a connection.
        pool = httpx2.Limits(max_connections=max(settings.concurrency, 10))
        inner = inner_transport or httpx2.AsyncHTTPTransport(limits=pool)
        # A local server (one slot, often) keeps generating an abandoned answer: a
        # retry after a timeout would queue behind it and time out too.
        retry_timeouts = not is_local(settings.base_url)
        if settings.record_dir is not None:
            transport = HarnessTransport(
                "record", directory=settings.record_dir, inner=inner, limiter=limiter,
                book=book, retry_timeouts=retry_timeouts,
            )  # fmt: skip
        else:
            transport = HarnessTransport(
                "live", inner=inner, limiter=limiter, book=book,
                retry_timeouts=retry_timeouts,
            )  # fmt: skip
        base_url = settings.base_url
        http_retries = settings.http_retries
    http = httpx2.AsyncClient(transport=transport, timeout=settings.timeout)
    sdk = openai.AsyncOpenAI(
        api_key=secret or _NO_KEY,
        base_url=base_url,
        http_client=http,
        max_retries=http_retries,
        timeout=settings.timeout,
    )
    return sdk, limiter


def is_local(base_url: str | None) -> bool:
    """True for an endpoint on this machine or the local network (llama.cpp, Ollama,
    vLLM next door): loopback, private and link-local addresses, `localhost`, and host
    names without a dot (a container's service name)."""
    import ipaddress
    from urllib.parse import urlsplit

    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if not host:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or host.endswith(".localhost") or "." not in host
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _shared_log(settings: Settings) -> Any:
    """On a PostgreSQL store, the rate-limit window is shared by every process using it."""
    from summarizer.store import is_database_url

    if not (settings.rpm or settings.tpm) or not is_database_url(settings.database_url):
        return None
    from summarizer.llm.shared_window import StoreWindow, scope_for

    key = settings.api_key.get_secret_value() if settings.api_key else None
    return StoreWindow(str(settings.database_url), scope_for(settings.base_url, key))


@functools.cache
def _skip_final_collection() -> None:
    """At exit, skip the garbage collector's last pass over what openai and instructor
    imported (tens of thousands of pydantic classes and their schemas): ~0.3 s of every
    command that made a call, spent after its work is done. gc.freeze() moves every object
    alive at that point to the permanent generation, which the final collection does not
    walk; memory goes back to the system with the process either way."""
    atexit.register(gc.freeze)
