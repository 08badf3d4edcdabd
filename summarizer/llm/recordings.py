"""Recordings of LLM exchanges: the key, the file format, and what is never written.

A recording is one pretty-printed JSON file per request, named by its key: the SHA-256 of
the canonical request body (sorted keys, no whitespace). The same prompt, schema and model
always find the same file, whichever base URL served them. No request header is stored,
query parameters that look like credentials are redacted, and of the response headers
only the content type survives, so a key or token cannot reach a recording.

The response body is kept twice: parsed (`body`, for a reviewer to read and diff) and as
the bytes received (`raw`: UTF-8 text, or base64 when it is not text), so a replay answers
byte for byte what the endpoint said, error texts included. Recordings written before
`raw` existed are replayed from `body`.

`origin` says where the answer came from: "live" (a real model) or "fixture" (written by
hand or served by the test server). Anything replayed from a fixture says so downstream.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from summarizer.errors import RecordingUnreadable
from summarizer.plumbing import redact, untrusted_json
from summarizer.plumbing.atomic import write_text

FORMAT = "summarizer-recording/1"
# A response header the test server (and any fixture server) sets: its answers are not a model's.
FIXTURE_HEADER = "x-summarizer-fixture"


def canonical_body(body: bytes) -> Any:
    """A body as JSON data when it is JSON (bounded: untrusted_json), else as text."""
    try:
        return untrusted_json.loads(body, what="a request body") if body else None
    except ValueError:
        return body.decode("utf-8", "replace")


def request_key(body: Any) -> str:
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:32]


# The Batch API's resources, as a path relative to any base URL (/v1, /openai/v1, ...).
_API_PATH = re.compile(r"/(?:files|batches)(?:/[^?]*)?$")
_BOUNDARY = re.compile(r"boundary=\"?([^\";]+)\"?")


def api_path(path: str) -> str:
    found = _API_PATH.search(path)
    return found.group(0) if found else path


def api_key(
    method: str, path: str, query: list[tuple[str, str]], content_type: str, raw: bytes
) -> tuple[Any, str]:
    """(body to record, key) of a request that is not a chat completion (the Batch API's
    files and batches). The key covers method, path and query too: a GET has no body. An
    upload's multipart boundary is random, so it is taken out before hashing; the upload
    itself is recorded by its hash and size (the requests in it are recorded by the run
    that answers them)."""
    body: Any
    boundary = _BOUNDARY.search(content_type) if content_type.startswith("multipart/") else None
    if boundary is not None:
        fixed = raw.replace(boundary.group(1).encode("latin-1"), b"BOUNDARY")
        body = {"multipart_sha256": hashlib.sha256(fixed).hexdigest(), "bytes": len(raw)}
    else:
        body = canonical_body(raw)
    keyed = body
    if isinstance(body, dict) and "metadata" in body:
        # A batch's metadata names it by the run's day and store: a replay on another day,
        # or into another store, asks for the same batch.
        keyed = {k: v for k, v in body.items() if k != "metadata"}
    ident = {
        "method": method,
        "path": api_path(path),
        "query": sorted(redact_query(query).items()),
        "body": keyed,
    }
    return body, request_key(ident)


def redact_query(params: list[tuple[str, str]]) -> dict[str, str]:
    return {k: ("REDACTED" if redact.SECRET_PARAM.search(k) else v) for k, v in params}


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
    raw: bytes | None = None  # the body exactly as received (None in older recordings)

    @property
    def content(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if isinstance(self.body, str) and "json" not in self.content_type:
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def path_for(directory: Path, key: str) -> Path:
    return directory / f"{key}.json"


def _encode_raw(content: bytes) -> dict[str, str]:
    try:
        return {"encoding": "utf-8", "data": content.decode("utf-8")}
    except UnicodeDecodeError:
        return {"encoding": "base64", "data": base64.b64encode(content).decode("ascii")}


def _decode_raw(raw: Any) -> bytes | None:
    if raw is None:
        return None
    if raw["encoding"] == "utf-8":
        return str(raw["data"]).encode("utf-8")
    if raw["encoding"] == "base64":
        return base64.b64decode(raw["data"], validate=True)
    raise ValueError(f"unknown raw encoding {raw['encoding']!r}")


def load(directory: Path, key: str) -> Recording | None:
    """The recording for `key`, None when there is none; RecordingUnreadable (naming the
    file and why) when there is one that cannot be used."""
    path = path_for(directory, key)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, directory, key, _why(exc)) from None
    try:
        data = untrusted_json.loads(text, what="the recording")
        resp = data["response"]
        return Recording(
            key=key,
            status=int(resp["status"]),
            content_type=str(resp.get("content_type", "application/json")),
            body=resp["body"],
            origin=str(data.get("origin", "live")),
            raw=_decode_raw(resp.get("raw")),
        )
    except untrusted_json.JSONRefused as exc:
        raise _unreadable(path, directory, key, exc.reason) from None
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise _unreadable(path, directory, key, f"not a recording: {_why(exc)}") from None


def _why(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__


def _unreadable(path: Path, directory: Path, key: str, why: str) -> RecordingUnreadable:
    return RecordingUnreadable(
        f"replay: recording {path} cannot be used ({why}); delete it and record it again "
        f"with --record {directory} against a live endpoint",
        key=key,
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
            "raw": _encode_raw(response_body),
        },
    }
    target = path_for(directory, key)
    write_text(target, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return target
