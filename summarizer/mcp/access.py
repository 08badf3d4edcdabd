"""Who is calling the MCP server, and what they may read.

On stdio the caller is the local user, who may read everything the store holds, as the
CLI does. Over Streamable HTTP the caller is an API key (its id, never the key), checked
by the HTTP API's own key middleware: briefs made through a key are that key's, and what
daily runs made (daily briefs, stories, the question ledger) is readable as the service
setting `local_briefs` says, exactly as GET /v1/stories and /v1/questions decide.

The key id travels from the HTTP request to the tool and resource handlers through a
server middleware that runs in the handler's own task (`caller()` reads it there).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

_caller: ContextVar[str | None] = ContextVar("summarizer_mcp_caller", default=None)


@dataclass(frozen=True)
class Access:
    """The rules one server applies. The defaults are stdio's: a local user."""

    local_briefs: Literal["none", "admin", "all"] = "all"
    admins: frozenset[str] = field(default_factory=frozenset)
    #: Longest `text` accepted by the brief tool (None: only the byte limit of the settings).
    max_document_chars: int | None = None
    #: Fetch URLs on loopback and private networks (stdio: yes, as `summarizer brief` does).
    allow_private_urls: bool = True

    def may_read_daily(self, key: str | None) -> bool:
        """May this caller read what daily runs made (made outside any key)?"""
        if key is None:  # stdio
            return True
        return self.local_briefs == "all" or (self.local_briefs == "admin" and key in self.admins)


def caller() -> str | None:
    """The key id of the HTTP caller being served; None on stdio."""
    return _caller.get()


def caller_middleware(state_key: str) -> ServerMiddleware[Any]:
    """A ServerMiddleware: every inbound message is handled knowing its caller's key id,
    which the HTTP key middleware left in the request's ASGI state under `state_key`."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        request = getattr(ctx, "request", None)
        state = getattr(request, "scope", {}).get("state") if request is not None else None
        token = _caller.set(state.get(state_key) if isinstance(state, dict) else None)
        try:
            return await call_next(ctx)
        finally:
            _caller.reset(token)

    return middleware
