"""Reading an endpoint's error answers: what the provider said, whose fault it is, and
whether the endpoint refused the structured-output mode itself.

Error bodies come from many servers: OpenAI's `{"error": {"message", "type", "param",
"code"}}`, FastAPI's `{"detail": ...}` (llama-cpp-python), plain text, HTML from a proxy,
and sometimes a Python traceback with the server's file paths. What reaches a person is
the provider's code and message, one line, shortened, with credentials and traceback
lines removed; the whole body (redacted) is for the log only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from summarizer.plumbing import redact, untrusted_json

# The request parameters that carry a structured-output mode: an error naming one of
# them is the endpoint saying it cannot do the mode, not a passing fault.
MODE_PARAMS = {
    "tools": ("tools", "tool_choice"),
    "json_schema": ("response_format", "json_schema"),
    "md_json": (),
}
_MODE_PARAM = re.compile(r"\b(response_format|tool_choice|tools|json_schema)\b")
# A traceback's frames and file paths say nothing to the user and leak the server's layout.
_FRAME = re.compile(r'File "[^"]+", line \d+(, in \S+)?')
_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)+[\w.@+-]+\.py\b")
SHORT = 200


@dataclass(frozen=True)
class ProviderSaid:
    code: str | None
    message: str
    param: str | None


def read_error(body: str) -> ProviderSaid:
    """The provider's code, message and parameter from an error body, as far as it says."""
    data: Any
    try:
        data = untrusted_json.loads(body, what="the endpoint's error body")
    except ValueError:
        data = None
    err = data.get("error", data) if isinstance(data, dict) else None
    if isinstance(err, dict):
        message = err.get("message") or err.get("detail") or err.get("msg")
        if isinstance(message, list | dict):
            message = json.dumps(message)
        code = err.get("code") or err.get("type")
        param = err.get("param")
        return ProviderSaid(
            code=str(code) if code else None,
            message=str(message) if message else body,
            param=str(param) if param else None,
        )
    if isinstance(err, str):
        return ProviderSaid(None, err, None)
    return ProviderSaid(None, body, None)


# What a connection failure's own text says, for the cases the exception type does not.
_UNRESOLVED = re.compile(
    r"name or service not known|nodename nor servname|getaddrinfo|no address associated|"
    r"temporary failure in name resolution|name resolution",
    re.IGNORECASE,
)
_REFUSED = re.compile(r"connection refused|errno 111|errno 61|actively refused", re.IGNORECASE)


def connection_failure(chain: list[BaseException]) -> str:
    """How a request that got no answer failed, from its exception chain: "refused",
    "unresolved", "unreachable", "timeout" or "dropped" (see ProviderUnreachable)."""
    import httpx2

    for e in chain:
        if isinstance(e, httpx2.TimeoutException):
            return "timeout"
        if isinstance(e, httpx2.ConnectError | ConnectionRefusedError):
            text = " ".join(str(x) for x in chain)
            if _UNRESOLVED.search(text):
                return "unresolved"
            if _REFUSED.search(text) or isinstance(e, ConnectionRefusedError):
                return "refused"
            return "unreachable"
        if isinstance(
            e,
            httpx2.RemoteProtocolError | httpx2.ReadError | httpx2.WriteError | httpx2.CloseError
            | ConnectionResetError | BrokenPipeError,
        ):  # fmt: skip
            return "dropped"
    text = " ".join(str(x) for x in chain)
    if _UNRESOLVED.search(text):
        return "unresolved"
    return "refused" if _REFUSED.search(text) else "unreachable"


def not_a_completion(parsed: Any, content: bytes) -> str | None:
    """Why a 200 answer to a chat request is not a chat completion, or None when it is."""
    if isinstance(parsed, dict) and isinstance(parsed.get("choices"), list):
        return None
    if isinstance(parsed, dict) and "error" in parsed:
        said = read_error(json.dumps(parsed))
        return f"an error in a 200 answer: {clean(said.message, [], 120)}"
    text = content.decode("utf-8", "replace").strip()
    if not text:
        return "an empty body"
    start = clean(text, [], 60)
    return f"JSON without choices: {start}" if parsed is not None else f"not JSON: {start!r}"


def clean(text: str, secrets: list[str | None], limit: int = SHORT) -> str:
    """One line for a person: no traceback, no server paths, no secrets, at most `limit`."""
    head, tb, tail = text.partition("Traceback (most recent call last):")
    if tb:
        # Keep what was said before the traceback and its last line (the exception itself).
        lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
        text = f"{head} {lines[-1] if lines else ''}"
    text = _FRAME.sub("", text)
    text = _PATH.sub("<path>", text)
    text = " ".join(redact.text(text, secrets).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def refused_mode(status: int, body: str, mode: str | None) -> bool:
    """True when an error answer names a parameter of the structured-output mode in use
    (or of any mode, when the mode is not known): llama-cpp-python answers a json_schema
    response_format with HTTP 500, which no number of retries will change."""
    if status < 400 or status == 429:
        return False
    said = read_error(body)
    haystack = f"{said.param or ''} {said.message}"
    names = set(_MODE_PARAM.findall(haystack))
    if not names:
        return False
    if mode is None:
        return True
    return bool(names & set(MODE_PARAMS.get(mode, ())))


def request_mode(body: Any) -> str | None:
    """Which structured-output mode a chat-completion request body is in."""
    if not isinstance(body, dict):
        return None
    if body.get("tools"):
        return "tools"
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return "json_schema"
    return "md_json"
