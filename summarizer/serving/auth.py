"""Bearer API keys: who is calling, checked in constant time, never logged.

A caller is known by a key id (a short hash of its key): that id, never the key, is what
rate limits, brief and job ownership and logs use. Keys shorter than MIN_KEY_CHARS are
refused at start-up; failed attempts are throttled per client address.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import TypeVar

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from summarizer.errors import ConfigError
from summarizer.serving.limits import ApiError, RateLimiter, error_body
from summarizer.serving.settings import MIN_KEY_CHARS

#: Where the caller's key id is kept in the request state for the handlers.
KEY_ID = "key_id"

_T = TypeVar("_T")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="summarizer"'}


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


def check_key_strength(keys: Sequence[bytes], setting: str) -> None:
    """ConfigError when a key is too short to resist guessing (the key is never named)."""
    for n, key in enumerate(keys, 1):
        chars = len(key.decode("utf-8", errors="replace"))
        if chars < MIN_KEY_CHARS:
            raise ConfigError(
                f"{setting}: key {n} of {len(keys)} has {chars} characters, under the "
                f"{MIN_KEY_CHARS} needed; use long random keys, e.g. "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )


class KeyRing:
    def __init__(self, keys: Sequence[bytes], admin_keys: Sequence[bytes] = ()) -> None:
        # (key, id) pairs; ids are computed once so a lookup hashes nothing secret twice.
        self._keys = [(k, key_id(k)) for k in [*keys, *admin_keys] if k]
        self.admins = frozenset(key_id(k) for k in admin_keys if k)

    def __len__(self) -> int:
        return len(self._keys)

    def is_admin(self, kid: str) -> bool:
        return kid in self.admins

    def identify(self, token: str | None) -> str:
        """The key id for a bearer token, or ApiError 401. `token` is the credentials part
        of `Authorization: Bearer <token>`, None when the header is missing."""
        if not token:
            raise ApiError(
                401,
                "Unauthorized",
                "missing API key; send the header 'Authorization: Bearer <key>'",
                headers=_CHALLENGE,
            )
        candidate = token.encode("utf-8", errors="replace")
        found: str | None = None
        # Compare against every key, without stopping at a match: the time taken must not
        # tell which key (or how much of one) was right.
        for key, kid in self._keys:
            if hmac.compare_digest(candidate, key):
                found = kid
        if found is None:
            raise ApiError(
                401, "Unauthorized", "API key not recognised; check the key", headers=_CHALLENGE
            )
        return found


class AuthMiddleware:
    """Checks the key and the caller's rate before anything else happens to a /v1/ request,
    so an anonymous caller learns nothing from body parsing, and spends nothing.

    A client address (uvicorn's, which honours X-Forwarded-For from trusted proxies) that
    fails `failures.per_minute` times in a minute is refused with 429 until its bucket
    refills, right key or not: guessing keys is throttled to that rate."""

    def __init__(
        self,
        app: ASGIApp,
        keys: KeyRing,
        limiter: RateLimiter,
        failures: RateLimiter,
        on_error: Callable[[str], None],
        prefix: str = "/v1/",
    ) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter
        self.failures = failures
        self.on_error = on_error
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        try:
            wait = await _decide(self.failures, self.failures.blocked, client)
            if wait:
                raise ApiError(
                    429,
                    "TooManyFailedLogins",
                    "too many failed authentications from this address; "
                    f"retry in {wait}s with a valid key",
                    headers={"Retry-After": str(wait)},
                )
            try:
                kid = self.keys.identify(_bearer(scope))
            except ApiError:
                await _decide(self.failures, self.failures.spend, client)
                raise
            await _decide(self.limiter, self.limiter.check, kid)
        except ApiError as exc:
            self.on_error(exc.type)
            response = JSONResponse(
                error_body(exc.type, exc.message), status_code=exc.status, headers=exc.headers
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[KEY_ID] = kid
        await self.app(scope, receive, send)


async def _decide(limiter: RateLimiter, method: Callable[[str], _T], key: str) -> _T:
    """One of `limiter`'s decisions; one kept in the database runs off the event loop."""
    return await limiter.off_loop(method, key)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return credentials.strip() or None
            return None
    return None
