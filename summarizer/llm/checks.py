"""The seam between instructor and the SDK: the last touches on every request, and checks
on every completion before instructor parses it.

instructor 1.17 is given this wrapper as its `create` function (`instructor.patch(create=
...)`, its public way to patch any create callable), so it runs on the first call and on
every reask, in every mode, after instructor has added its schema and reask messages:

- **Requests.** A reask carries at most `REASK_EXCERPT` characters of the failed output
  and `FEEDBACK_EXCERPT` of the error about it (instructor appends both whole: a 17 KB
  cut-off answer grew the prompt until the server refused it). With `system_prompt = "merge"` every system
  message (ours, and instructor's md_json schema) becomes the start of the first user
  message, for chat formats that drop the system role.
- **Completions.** What instructor would misread is settled here, once, and never reasked
  (raising anything but a validation error stops instructor's retry loop; client.py finds
  our error in the chain):
  - a refusal (`message.refusal`), in every mode: instructor reasks it in json_schema and
    md_json modes as "EOF while parsing";
  - truncation: `finish_reason == "length"`, or `completion_tokens >= max_tokens` whatever
    finish_reason says (llama.cpp reports "tool_calls" or "stop" for a cut answer);
  - the wrong tool: instructor parses `tool_calls[0]` without checking its name; the call
    named after the response model is moved first, and a completion that called only other
    tools is reported by name.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from summarizer.errors import ModelRefusal, TruncatedOutput, WrongToolCall

REASK_EXCERPT = 2_000
# The feedback (the validation or grounding errors) gets more room: it is what the model
# needs to fix its answer, and it names each ungrounded quote.
FEEDBACK_EXCERPT = 6_000
ALL_MODES = ("tools", "json_schema", "md_json")


def other_modes(mode: str) -> str:
    """The modes to suggest instead of `mode`, as a phrase for a hint."""
    return " or ".join(f"--mode {m}" for m in ALL_MODES if m != mode)


def excerpt(text: str, limit: int = REASK_EXCERPT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]} [... {len(text) - limit} more characters cut]"


def bound_reasks(messages: list[Any]) -> list[Any]:
    """Messages with what follows the first assistant turn (a reask: the failed output and
    the error about it) cut to bounded excerpts. Our prompts have no assistant turn."""
    out: list[Any] = []
    seen_assistant = False
    for m in messages:
        if not isinstance(m, dict):
            out.append(m)
            continue
        if m.get("role") == "assistant":
            seen_assistant = True
        if not seen_assistant:
            out.append(m)
            continue
        m = dict(m)
        if isinstance(m.get("content"), str):
            limit = REASK_EXCERPT if m.get("role") == "assistant" else FEEDBACK_EXCERPT
            m["content"] = excerpt(m["content"], limit)
        if m.get("tool_calls"):
            m["tool_calls"] = [_bounded_call(c) for c in m["tool_calls"]]
        out.append(m)
    return out


def _bounded_call(call: Any) -> Any:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        return call
    fn = dict(call["function"])
    if isinstance(fn.get("arguments"), str):
        fn["arguments"] = excerpt(fn["arguments"])
    return {**call, "function": fn}


def merge_system(messages: list[Any]) -> list[Any]:
    """System messages folded into the start of the first user message."""
    system = [m for m in messages if isinstance(m, dict) and m.get("role") == "system"]
    if not system:
        return messages
    text = "\n\n".join(str(m.get("content") or "") for m in system)
    rest = [m for m in messages if not (isinstance(m, dict) and m.get("role") == "system")]
    for i, m in enumerate(rest):
        if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
            rest[i] = {**m, "content": f"{text}\n\n{m['content']}"}
            return rest
    return [{"role": "user", "content": text}, *rest]


def check_completion(completion: Any, request: dict[str, Any], mode: str) -> None:
    """Raise what instructor would misread (see the module docstring); reorder tool calls."""
    choices = getattr(completion, "choices", None)
    if not choices:
        return  # instructor reports a completion without choices itself
    choice = choices[0]
    message = choice.message
    model = request.get("model", "?")
    refusal = getattr(message, "refusal", None)
    if refusal:
        raise ModelRefusal(
            f"model {model!r} refused to answer: {excerpt(' '.join(str(refusal).split()), 300)!r}; "
            "the request was not repeated (a refusal costs the same every time); "
            "try another model",
            raw_output=str(refusal),
        )
    limit = request.get("max_tokens") or request.get("max_completion_tokens")
    usage = getattr(completion, "usage", None)
    used = getattr(usage, "completion_tokens", None)
    cut_by_count = isinstance(limit, int) and isinstance(used, int) and used >= limit
    if choice.finish_reason == "length" or cut_by_count:
        raise TruncatedOutput(
            f"model output was cut off at max_tokens={limit} (finish_reason "
            f"{choice.finish_reason!r}, {used if used is not None else '?'} completion "
            "tokens); not reasked, since the answer would be cut again: raise --max-tokens "
            "or use a shorter article",
            raw_output=excerpt(_written(message)),
        )
    wanted = _wanted_tool(request)
    calls = list(getattr(message, "tool_calls", None) or [])
    if wanted is None or not calls:
        return
    named = [c for c in calls if getattr(getattr(c, "function", None), "name", None) == wanted]
    if not named:
        names = ", ".join(sorted({str(getattr(c.function, "name", "?")) for c in calls}))
        raise WrongToolCall(
            f"model {model!r} called only other tools ({names}), not {wanted}; "
            f"try {other_modes(mode)}",
            raw_output=excerpt(_written(message)),
        )
    if calls[0] is not named[0]:
        # instructor reads tool_calls[0]: put the call it asked for there.
        message.tool_calls = [named[0], *(c for c in calls if c is not named[0])]


def _wanted_tool(request: dict[str, Any]) -> str | None:
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if name:
            return str(name)
    tools = request.get("tools") or []
    if len(tools) == 1:
        return str(tools[0].get("function", {}).get("name")) or None
    return None


def _written(message: Any) -> str:
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return "\n".join(str(c.function.arguments) for c in calls)
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else json.dumps(content)


def guarded(
    create: Callable[..., Awaitable[Any]], *, mode: str, merge: bool
) -> Callable[..., Awaitable[Any]]:
    """`create` with the request touches and completion checks above around it."""

    async def create_checked(*args: Any, **kwargs: Any) -> Any:
        messages = list(kwargs.get("messages") or [])
        messages = bound_reasks(messages)
        if merge:
            messages = merge_system(messages)
        kwargs["messages"] = messages
        completion = await create(*args, **kwargs)
        check_completion(completion, kwargs, mode)
        return completion

    return create_checked
