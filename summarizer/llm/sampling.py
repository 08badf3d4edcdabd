"""MCP sampling as an LLM endpoint: a transport under the OpenAI SDK that asks the connected
MCP client's model (`sampling/createMessage`) instead of an OpenAI-compatible server.

With `summarizer mcp --llm client` a chat user briefs with the assistant's own model and
needs no API key. Everything above the transport stays as it is: instructor (in md_json
mode: a sampled model writes JSON in text, it has no tools or response_format), the
grounding check and its reasks, the refusal and truncation checks (checks.py), the
harness's call log and --record. Only the wire changes:

    chat.completions request  ->  CreateMessageRequestParams (system prompt, messages,
                                  max_tokens, temperature, stop)
    CreateMessageResult       ->  an OpenAI-shaped completion: stopReason maxTokens is
                                  finish_reason "length", a refusal stop is `refusal`;
                                  no `usage` (the client reports none), so tokens and
                                  cost are recorded as unknown, never as 0

Who answers is not known when the LLM is built: each tool call sets its own `Sampler`
(the session of the client that called, `sampling_with`), which the transport finds in
a context variable, so one LLM serves every connected client.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx2
import mcp_types as types
import openai

from summarizer.errors import SamplingDeclined, SamplingUnavailable, SummarizerError

#: What the SDK is pointed at in client mode; nothing is ever sent there.
SAMPLING_BASE_URL = "http://mcp-client.invalid/v1"
#: The model name a brief's provenance shows when the client's own model wrote it.
CLIENT_MODEL = "mcp-client"

NO_SAMPLING = (
    "the connected MCP client does not offer sampling (sampling/createMessage), so it "
    "cannot lend its model; start `summarizer mcp` with --llm endpoint and OPENAI_BASE_URL "
    "(or OPENAI_API_KEY), or --replay DIR to answer from recordings"
)

NO_BACK_CHANNEL = (
    "this MCP connection cannot carry sampling requests back to the client (a stateless "
    "or 2026-07-28 session); connect with a session-based client, or start `summarizer mcp` "
    "with --llm endpoint and OPENAI_BASE_URL (or --replay DIR)"
)

Sampler = Callable[[types.CreateMessageRequestParams], Awaitable[types.CreateMessageResult]]

_current: ContextVar[Sampler | None] = ContextVar("summarizer_sampler", default=None)

# Stop reasons clients report for a model that declined; the spec leaves the set open.
_REFUSALS = {"refusal", "contentFilter", "content_filter", "safety"}


@contextmanager
def sampling_with(sampler: Sampler) -> Iterator[None]:
    """Model calls made inside go to `sampler` (one tool call's client)."""
    token = _current.set(sampler)
    try:
        yield
    finally:
        _current.reset(token)


class SamplingFailed(openai.OpenAIError):
    """Carries our error (its __cause__) up through the SDK, which re-raises an OpenAIError
    as it is instead of retrying it as a connection error; client.py finds the cause."""


def _text(content: Any) -> str:
    """A chat message's content as text: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return "" if content is None else str(content)


def to_create_message(body: dict[str, Any]) -> types.CreateMessageRequestParams:
    """A chat.completions request as sampling/createMessage params. System (and developer)
    messages become the system prompt; tool results, which our prompts never send, are
    passed as user text."""
    system: list[str] = []
    messages: list[types.SamplingMessage] = []
    for m in body.get("messages", []):
        role = m.get("role")
        text = _text(m.get("content"))
        if role in ("system", "developer"):
            system.append(text)
            continue
        messages.append(
            types.SamplingMessage(
                role="assistant" if role == "assistant" else "user",
                content=types.TextContent(type="text", text=text),
            )
        )
    stop = body.get("stop")
    return types.CreateMessageRequestParams(
        messages=messages,
        system_prompt="\n\n".join(system) or None,
        max_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 4096),
        temperature=body.get("temperature"),
        stop_sequences=[stop] if isinstance(stop, str) else stop,
        # The article is all the model needs: no other context from the client's chat.
        include_context="none",
    )


def to_completion(result: types.CreateMessageResult, seq: int) -> dict[str, Any]:
    """A sampling result as the chat.completion instructor and checks.py read."""
    content = result.content
    if not isinstance(content, types.TextContent):
        raise SamplingDeclined(
            f"the MCP client's model answered with {content.type} content, not text; "
            "a brief needs a text-writing model (or use --llm endpoint)"
        )
    reason = result.stop_reason
    message: dict[str, Any] = {"role": "assistant", "content": content.text, "refusal": None}
    if reason in _REFUSALS:
        message = {"role": "assistant", "content": None, "refusal": content.text or str(reason)}
    finish = {"maxTokens": "length", "toolUse": "tool_calls"}.get(str(reason), "stop")
    return {
        "id": f"mcp-sampling-{seq}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": result.model,
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        # No "usage": the client does not report tokens; the harness records them as unknown.
    }


class SamplingTransport(httpx2.AsyncBaseTransport):
    """Answers the SDK's chat requests through the current tool call's `Sampler`."""

    def __init__(self) -> None:
        # The client chooses its model (no preferences are sent): the brief names it
        # CLIENT_MODEL and each completion carries the name the client reported.
        self._seq = itertools.count(1)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        raw = await request.aread()
        if not request.url.path.endswith("/chat/completions"):
            # The Batch API and anything else an endpoint offers do not exist here.
            return httpx2.Response(
                404,
                json={"error": {"message": "only chat completions go through MCP sampling"}},
                request=request,
            )
        sampler = _current.get()
        if sampler is None:
            raise SamplingFailed(NO_SAMPLING) from SamplingUnavailable(NO_SAMPLING)
        params = to_create_message(json.loads(raw))
        try:
            result = await sampler(params)
            completion = to_completion(result, next(self._seq))
        except SummarizerError as exc:
            raise SamplingFailed(str(exc)) from exc
        except Exception as exc:
            raise SamplingFailed(str(exc)) from _declined(exc)
        return httpx2.Response(200, json=completion, request=request)


def _declined(exc: Exception) -> SummarizerError:
    """A sampling request the client answered with an error (the user said no, it has no
    model, the request was malformed) or could not be sent at all."""
    from mcp.shared.exceptions import MCPError, NoBackChannelError

    if isinstance(exc, NoBackChannelError):
        return SamplingUnavailable(NO_BACK_CHANNEL)
    if isinstance(exc, MCPError):
        said = " ".join(exc.error.message.split())[:200]
        return SamplingDeclined(
            f"the MCP client declined the sampling request ({said}); allow sampling in the "
            "client, or use --llm endpoint with OPENAI_BASE_URL"
        )
    return SamplingDeclined(
        f"sampling through the MCP client failed ({type(exc).__name__}); try again, or use "
        "--llm endpoint with OPENAI_BASE_URL"
    )
