"""The ways real endpoints misbehave, as switches of the loopback server (`Quirks`; the
list, and where each was seen, is in openai_server's docstring), and the answers a server
gives about a request itself: a mode it cannot do, a prompt over its context window."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from summarizer.testing.scripted import Reply

# Tokens are counted as 4 characters each.
CHARS_PER_TOKEN = 4


@dataclass
class Quirks:
    """Behaviours of real endpoints, switched on one by one (see the module docstring)."""

    truncate: str | None = None  # finish_reason reported for an answer cut at max_tokens
    refuse: str | None = None  # refusal text
    reject_modes: Collection[str] = ()  # "json_schema" -> 500, "tools" -> 400
    context_window: int | None = None  # prompt tokens allowed
    tool_calls: str = "one"  # "one", "other_first", "parallel", "other_only"
    model_name: str | None = None  # the model name answered (e.g. a dated snapshot)
    usage: bool = True
    usage_values: dict[str, Any] | None = None  # usage fields sent as given (bad counts)
    slow_modes: dict[str, float] = field(default_factory=dict)  # mode -> seconds added
    lowercase_words: bool = False  # the probe's code word comes back in lower case
    drop_system: bool = False
    ignore_tools: bool = False  # answer in content, as chat formats without tool calling do
    prefix_cache: bool = True
    cache_ttl: float = 600.0
    batches: bool = True  # False: /v1/files and /v1/batches are 404, as on Ollama
    batch_steps: int = 2  # retrieves that show the batch still running
    batch_outcome: str = "completed"  # "failed", "expired", "cancelled"
    batch_error_lines: Collection[str] = ()  # custom_ids whose line fails with a 500
    batch_lose_output: bool = False  # the output file is gone (404) when downloaded
    batch_expires_in: int = 24 * 3600  # expires_at, from creation (negative: long past)
    batch_output_padding: int = 0  # bytes of blank lines appended to an output file


# What llama-cpp-python's server says about a response_format it cannot do: HTTP 500 with
# the exception (and, from some versions, the traceback) in the message.
_LLAMA_CPP_500 = {
    "error": {
        "message": (
            "Traceback (most recent call last):\n"
            '  File "/opt/venv/lib/python3.11/site-packages/llama_cpp/server/errors.py", '
            "line 171, in custom_route_handler\n"
            '  File "/opt/venv/lib/python3.11/site-packages/llama_cpp/llama_chat_format.py", '
            "line 612, in chat_completion_handler\n"
            "ValueError: response_format type 'json_schema' is not supported; "
            "use 'text' or 'json_object'"
        ),
        "type": "internal_server_error",
        "param": None,
        "code": None,
    }
}
_TOOLS_400 = {
    "error": {
        "message": "tools are not supported by this model's chat format",
        "type": "invalid_request_error",
        "param": "tools",
        "code": None,
    }
}


def prompt_text(request: dict[str, Any]) -> str:
    """The prompt as the provider sees it for caching: the fixed part (tool or response
    schema) first, then the messages in order."""
    fixed = request.get("tools") or request.get("response_format")
    return json.dumps(fixed) + json.dumps(request.get("messages", []))


def _context_exceeded(window: int, tokens: int) -> dict[str, Any]:
    # OpenAI's own wording and fields for this error.
    return {
        "error": {
            "message": (
                f"This model's maximum context length is {window} tokens. However, your "
                f"messages resulted in {tokens} tokens. Please reduce the length of the messages."
            ),
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }


def format_unseen(seen: dict[str, Any]) -> bool:
    """An md_json request whose schema the "model" never saw (it was in a dropped system
    message): it cannot know to answer in JSON, and writes prose."""
    if seen.get("tools") or seen.get("response_format"):
        return False
    return not any("json_schema" in str(m.get("content") or "") for m in seen.get("messages", []))


def endpoint_fault(q: Quirks, request: dict[str, Any]) -> Reply | None:
    """An answer about the request itself: a mode the server cannot do, or a prompt
    longer than its context window."""
    fmt = request.get("response_format")
    if (
        "json_schema" in q.reject_modes
        and isinstance(fmt, dict)
        and fmt.get("type") == "json_schema"
    ):
        return Reply(status=500, raw_body=json.dumps(_LLAMA_CPP_500))
    if "tools" in q.reject_modes and request.get("tools"):
        return Reply(status=400, raw_body=json.dumps(_TOOLS_400))
    if q.context_window is not None:
        tokens = len(prompt_text(request)) // CHARS_PER_TOKEN
        if tokens > q.context_window:
            body = _context_exceeded(q.context_window, tokens)
            return Reply(status=400, raw_body=json.dumps(body))
    return None
