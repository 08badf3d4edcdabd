"""What a tool call answers: structured content (the same JSON as the API) plus short
Markdown, or a tool error (`isError`) holding one line, the CLI's, never a traceback.

A tool error is an answer, not an exception: the client's model reads it and the server
serves the next call. Messages pass through `redact.text` like every message we print.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mcp_types import CallToolResult, TextContent

from summarizer import redact
from summarizer.errors import SummarizerError

log = logging.getLogger("summarizer.mcp")

INTERNAL = "internal error; the server log has the details"

Describe = Callable[[SummarizerError], str]


def cli_message(exc: SummarizerError) -> str:
    """The line `summarizer brief` prints for this error (after "error: ")."""
    return redact.text(" ".join(str(exc).split()))


def result(
    data: dict[str, Any], markdown: str, meta: dict[str, Any] | None = None
) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=markdown)],
        structured_content=data,
        _meta=meta,
    )


def tool_error(message: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=f"error: {message}")], is_error=True
    )


def failed(tool: str, exc: SummarizerError, describe: Describe) -> CallToolResult:
    """A library error as a tool error; the operator's log gets the full (redacted) line."""
    body = getattr(exc, "body", None)
    extra = f" (upstream body: {redact.text(body)})" if body else ""
    log.warning("tool %s: %s: %s%s", tool, type(exc).__name__, cli_message(exc), extra)
    return tool_error(describe(exc))


def crashed(tool: str) -> CallToolResult:
    """A bug: its traceback goes to the log (never to the client), the server goes on."""
    log.exception("tool %s failed unexpectedly", tool)
    return tool_error(INTERNAL)
