"""The loopback server's chat completion answers: the body a reply becomes in each mode
(tool call, response_format content, a fenced md_json block) with its usage, and the
simulated prompt cache that fills `usage.prompt_tokens_details.cached_tokens`."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from summarizer.testing.quirks import CHARS_PER_TOKEN, Quirks, prompt_text
from summarizer.testing.scripted import Reply

CACHE_MIN_TOKENS = 1024
CACHE_STEP_TOKENS = 128


def completion_body(
    request: dict[str, Any], reply: Reply, quirks: Quirks | None = None, cached: int = 0
) -> dict[str, Any]:
    q = quirks or Quirks()
    args = reply.payload if isinstance(reply.payload, str) else json.dumps(reply.payload)
    prompt_tokens = max(1, len(prompt_text(request)) // CHARS_PER_TOKEN)
    limit = int(request.get("max_tokens") or request.get("max_completion_tokens") or 4096)
    # Characters / 4 overcounts JSON; a scripted answer is never cut unless asked to be.
    completion_tokens = max(1, min(len(args) // CHARS_PER_TOKEN, limit - 1))
    finish = reply.finish_reason
    if q.truncate is not None:
        args = args[: max(1, len(args) // 2)]
        completion_tokens, finish = limit, q.truncate
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if q.refuse is not None:
        message["refusal"] = q.refuse
    elif reply.prose is not None:
        message["content"] = reply.prose
    elif request.get("tools") and not q.ignore_tools:
        name = request["tools"][0]["function"]["name"]
        ours = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": args}}
        other = {
            "id": "call_0",
            "type": "function",
            "function": {"name": "web_search", "arguments": '{"query": "latest news"}'},
        }
        message["tool_calls"] = {
            "one": [ours],
            "other_first": [other, ours],
            "parallel": [other, ours, {**other, "id": "call_2"}],
            "other_only": [other],
        }[q.tool_calls]
        if finish == "stop" and q.truncate is None:
            finish = "tool_calls"
    elif request.get("response_format"):
        message["content"] = args
    else:  # md_json: the answer comes in a fenced block
        message["content"] = f"```json\n{args}\n```"
    body: dict[str, Any] = {
        "id": "chatcmpl-fixture",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": q.model_name or request.get("model", "fixture"),
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
    }
    if q.usage:
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": min(cached, prompt_tokens)},
        }
        for name, value in (q.usage_values or {}).items():
            if name == "cached_tokens":
                body["usage"]["prompt_tokens_details"]["cached_tokens"] = value
            else:
                body["usage"][name] = value
    return body


def written(completion: dict[str, Any]) -> str:
    """The text the model wrote in a completion: tool-call arguments or content."""
    message = completion["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    return str(calls[0]["function"]["arguments"]) if calls else str(message.get("content") or "")


class PromptCache:
    """OpenAI's prompt caching, simulated: a prompt that starts with a prefix of 1,024
    tokens or more that a recent prompt (within `ttl` seconds) also had gets that prefix,
    in 128-token steps, as cached tokens."""

    def __init__(self) -> None:
        # Prompt-prefix hashes (at 128-token boundaries) -> when last seen.
        self._prefixes: dict[int, float] = {}
        self._lock = threading.Lock()

    def cached(self, request: dict[str, Any], ttl: float) -> int:
        """Prompt tokens served from the cache, and remember this prompt."""
        text = prompt_text(request)
        tokens = len(text) // CHARS_PER_TOKEN
        bounds = range(CACHE_MIN_TOKENS, tokens + 1, CACHE_STEP_TOKENS)
        keys = [hash(text[: b * CHARS_PER_TOKEN]) for b in bounds]
        with self._lock:
            now = time.monotonic()
            cached = 0
            # Prefixes nest: the first boundary not seen ends the cached part.
            for b, k in zip(bounds, keys, strict=True):
                seen = self._prefixes.get(k)
                if seen is None or now - seen > ttl:
                    break
                cached = b
            for k in keys:
                self._prefixes[k] = now
        return cached
