"""Recordings of LLM exchanges: the key, the file format, and what is never written.

A recording is one pretty-printed JSON file per request, named by its key: the SHA-256 of
the canonical request body (sorted keys, no whitespace). The same prompt, schema and model
always find the same file, whichever base URL served them. No request header is stored,
query parameters that look like credentials are redacted, and of the response headers
only the content type survives, so a key or token cannot reach a recording.

`origin` says where the answer came from: "live" (a real model) or "fixture" (written by
hand or served by the test server). Anything replayed from a fixture says so downstream.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from summarizer.atomic import write_text

FORMAT = "summarizer-recording/1"
# A response header the test server (and any fixture server) sets: its answers are not a model's.
FIXTURE_HEADER = "x-summarizer-fixture"
_SECRET_PARAM = re.compile(r"key|token|secret|signature|sig$|auth|password", re.IGNORECASE)


def canonical_body(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode("utf-8", "replace")


def request_key(body: Any) -> str:
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:32]


def redact_query(params: list[tuple[str, str]]) -> dict[str, str]:
    return {k: ("REDACTED" if _SECRET_PARAM.search(k) else v) for k, v in params}


def prompt_start(body: Any, words: int = 12) -> str:
    """The first words of the last user message, to name a request in an error."""
    try:
        messages = body["messages"]
        text = next(m["content"] for m in reversed(messages) if m.get("role") == "user")
        if not isinstance(text, str):
            text = json.dumps(text)
    except (KeyError, TypeError, StopIteration):
        return ""
    # Skip the instruction line and the data fence, so the words name the article itself.
    _, fence, rest = text.partition(">>>\n")
    article = rest.partition("\n<<<END ")[0] if fence else text
    return " ".join(article.split()[:words])


@dataclass(frozen=True)
class Recording:
    key: str
    status: int
    content_type: str
    body: Any  # parsed JSON, or text when the answer was not JSON
    origin: str  # "live" or "fixture"

    @property
    def content(self) -> bytes:
        if isinstance(self.body, str) and "json" not in self.content_type:
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def path_for(directory: Path, key: str) -> Path:
    return directory / f"{key}.json"


def load(directory: Path, key: str) -> Recording | None:
    path = path_for(directory, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    resp = data["response"]
    return Recording(
        key=key,
        status=int(resp["status"]),
        content_type=resp.get("content_type", "application/json"),
        body=resp["body"],
        origin=data.get("origin", "live"),
    )


def save(
    directory: Path,
    *,
    key: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    request_body: Any,
    status: int,
    content_type: str,
    response_body: bytes,
    origin: str,
    origin_note: str,
) -> Path:
    record = {
        "format": FORMAT,
        "key": key,
        "origin": origin,
        "origin_note": origin_note,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "request": {
            "method": method,
            "path": path,
            "query": redact_query(query),
            "body": request_body,
        },
        "response": {
            "status": status,
            "content_type": content_type,
            "body": canonical_body(response_body),
        },
    }
    target = path_for(directory, key)
    write_text(target, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return target
