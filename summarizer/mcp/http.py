"""The MCP server over Streamable HTTP (path /mcp), held to the HTTP API's rules.

Outermost first, each refusal before anything else runs:

    Origin     a browser page from a foreign origin gets 403 (the MCP spec's guard against
               DNS rebinding); loopback origins and --allow-origin ones pass, and so does a
               request without Origin (not a browser)
    key        the API's own key middleware, keys and settings (`summarizer serve`'s:
               SUMMARIZER_API_KEYS, admin_keys, the per-key rate limit, the failed-login
               throttle); 401 without a valid key
    body       the API's body limit (max_body_bytes); 413 past it
    MCP        the SDK's Streamable HTTP app; every tool and resource call knows its
               caller's key id (access.caller_middleware) for ownership

The key checking, limits and settings are the HTTP API's (summarizer/service), reused
here, not copied: one place decides who may call either door. Nothing logs a key or an
article: uvicorn logs request lines only, with credential-like query values masked.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from summarizer.errors import ConfigError, SummarizerError
from summarizer.mcp.access import caller_middleware
from summarizer.mcp.server import Served
from summarizer.serving.auth import KEY_ID, AuthMiddleware, KeyRing, check_key_strength
from summarizer.serving.limits import BodySizeLimit, send_error_start
from summarizer.serving.logs import redact_access_log
from summarizer.serving.settings import ServiceSettings
from summarizer.serving.shared_limits import limiters_for
from summarizer.store import Store

PATH = "/mcp"
LOOPBACK_ORIGINS = ("http://127.0.0.1", "http://localhost", "http://[::1]")


def keys_for(service: ServiceSettings) -> KeyRing:
    """The API's keys; ConfigError when there are none or one is too short."""
    keys = KeyRing(service.key_values(), service.admin_key_values())
    if not len(keys):
        raise ConfigError(
            "no API keys configured: set SUMMARIZER_API_KEYS=key1,key2 (or api_keys in the "
            "service config); `summarizer mcp --transport http` does not run without "
            "authentication (stdio, the default, needs no key)"
        )
    check_key_strength(service.key_values(), "SUMMARIZER_API_KEYS")
    check_key_strength(service.admin_key_values(), "SUMMARIZER_ADMIN_KEYS")
    return keys


def http_app(
    served: Served,
    service: ServiceSettings,
    store: Store,
    keys: KeyRing,
    *,
    allow_origins: Sequence[str] = (),
) -> ASGIApp:
    server = served.mcp
    server.middleware.append(caller_middleware(KEY_ID))
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=PATH,
        max_request_body_size=service.max_body_bytes,
        # The Origin check is ours (below, before the key check); the SDK's would stand
        # after it and knows nothing of --allow-origin.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    app = BodySizeLimit(app, max_bytes=service.max_body_bytes, paths=(PATH,))
    requests, failures = limiters_for(
        served.astore, service.rate_limit_per_minute, service.auth_failures_per_minute
    )
    app = AuthMiddleware(
        app, keys=keys, limiter=requests, failures=failures, on_error=_ignore, prefix=PATH
    )
    app = OriginCheck(app, allow=allow_origins)
    return _Lifespan(app, served)


def _ignore(_error_type: str) -> None:
    """The API counts refusals in its metrics; this door has no metrics endpoint."""


class OriginCheck:
    """403 for a request whose Origin header is neither loopback nor allowed."""

    def __init__(self, app: ASGIApp, allow: Sequence[str] = ()) -> None:
        self.app = app
        self.allow = {o.rstrip("/") for o in allow}

    def allowed(self, origin: str) -> bool:
        if origin in self.allow:
            return True
        # A loopback origin on any port: a local client (an inspector, a desktop app's view).
        return any(origin == o or origin.startswith(o + ":") for o in LOOPBACK_ORIGINS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            origin = next(
                (v.decode("latin-1") for k, v in scope["headers"] if k == b"origin"), None
            )
            if origin is not None and not self.allowed(origin):
                body = await send_error_start(
                    send, 403, "ForbiddenOrigin",
                    f"origin {origin[:100]!r} may not call this server; serve it with "
                    "--allow-origin ORIGIN to allow a browser page there",
                )  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class _Lifespan:
    """At start-up, the API's access-log filter (uvicorn's loggers exist by then); at
    shut-down, the server's clients are closed, in the loop that used them."""

    def __init__(self, app: ASGIApp, served: Served) -> None:
        self.app = app
        self.served = served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        redact_access_log()

        async def sending(message: Message) -> None:
            # Closed before uvicorn hears that shut-down is complete (it stops the loop then).
            if message["type"] == "lifespan.shutdown.complete":
                await self.served.aclose()
            await send(message)

        await self.app(scope, receive, sending)


def public_message(exc: SummarizerError) -> str:
    """What an HTTP caller is told: the API's public line (what failed, never what the
    model endpoint answered), except for sampling, where the caller is the model's owner."""
    from summarizer.errors import SamplingDeclined, SamplingUnavailable
    from summarizer.mcp.answers import cli_message
    from summarizer.serving.answers import public_message as api_message

    if isinstance(exc, SamplingUnavailable | SamplingDeclined):
        return cli_message(exc)
    return api_message(exc)
