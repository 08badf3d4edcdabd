"""OpenAI's HTTP answers as the loopback server writes them: JSON bodies, the error body,
and one page of a list. An `Answer` is (status, headers, body)."""

from __future__ import annotations

import json
import uuid
from typing import Any

Answer = tuple[int, dict[str, str], bytes]


def json_answer(status: int, obj: Any) -> Answer:
    return status, {"content-type": "application/json"}, json.dumps(obj).encode("utf-8")


def error_answer(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> Answer:
    """OpenAI's error body."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return json_answer(status, {"error": error})


def new_id(prefix: str, size: int = 32) -> str:
    return prefix + uuid.uuid4().hex[:size]


def invalid_url(method: str, path: str) -> Answer:
    return error_answer(404, f"Invalid URL ({method} {path})")


def page(items: list[dict[str, Any]], params: dict[str, list[str]]) -> Answer:
    """One page of an OpenAI list, `items` in the order listed; `after` is an item's id."""
    try:
        limit = min(max(int(params.get("limit", ["20"])[0]), 1), 100)
    except ValueError:
        return error_answer(
            400, "Invalid value for 'limit': expected an integer.", "limit", "invalid_value"
        )
    ids = [item["id"] for item in items]
    after = params.get("after", [None])[0]
    start = ids.index(after) + 1 if after in ids else 0 if after is None else len(ids)
    page = items[start : start + limit]
    return json_answer(
        200,
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": start + limit < len(items),
        },
    )
