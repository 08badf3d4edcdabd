"""What a tool call answers: structured content (the same JSON as the API) plus short
Markdown, or a tool error (`isError`) holding one line, the CLI's, never a traceback.

A tool error is an answer, not an exception: the client's model reads it and the server
serves the next call. Messages pass through `redact.text` like every message we print.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mcp_types import CallToolResult, TextContent

from summarizer.errors import SummarizerError
from summarizer.plumbing import redact

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


def argument_check(schemas: Callable[[], Awaitable[dict[str, dict[str, Any]]]]) -> Any:
    """A ServerMiddleware that answers a tools/call whose arguments do not fit the tool's
    input schema with one line naming the argument (the SDK's own answer is pydantic's
    several-line report). `schemas()` gives each tool's input schema by name."""
    import jsonschema

    async def middleware(ctx: Any, call_next: Any) -> Any:
        params = ctx.params if isinstance(ctx.params, dict) else {}
        if ctx.method == "tools/call" and isinstance(params.get("name"), str):
            schema = (await schemas()).get(params["name"])
            arguments = params.get("arguments") or {}
            if schema is not None:
                validator = jsonschema.Draft202012Validator(schema)
                # best_match looks inside anyOf (our optional arguments) for the real reason.
                problem = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
                if problem is not None and problem.context:
                    # "valid under none of": say why it is not the one that is not null.
                    real = [e for e in problem.context if e.schema.get("type") != "null"]
                    problem = real[0] if real else problem
                if problem is not None:
                    where = ".".join(str(p) for p in problem.absolute_path) or "arguments"
                    said = " ".join(problem.message.split())
                    said = said if len(said) <= 200 else said[:197] + "..."
                    return tool_error(f"{where}: {said}; see the tool's input schema")
        return await call_next(ctx)

    return middleware
