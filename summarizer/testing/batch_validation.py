"""Validating a batch input file as OpenAI does before it runs a batch: each line a JSON
object with a unique custom_id, method POST, the batch's endpoint, a JSON body, and one
model across the file."""

from __future__ import annotations

import json
from typing import Any


def validate(text: str, endpoint: str) -> tuple[list[dict[str, Any]], object, list[dict[str, Any]]]:
    """A batch input file read: (its lines, their model, its faults). The faults are as
    OpenAI lists them in `errors.data` (lines from 1); a file with faults has no lines."""
    lines: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []

    def fault(code: str, message: str, param: str | None, line: int | None) -> None:
        problems.append({"code": code, "message": message, "param": param, "line": line})

    seen: set[str] = set()
    model: object = None
    for n, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except ValueError:
            item = None
        if not isinstance(item, dict):
            fault("invalid_json_line", "This line is not parseable as valid JSON.", None, n)
            continue
        custom_id = item.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            fault(
                "missing_required_parameter",
                "Missing required parameter: 'custom_id'.",
                "custom_id",
                n,
            )
        elif custom_id in seen:
            message = (
                f"The custom_id '{custom_id}' is used by another request; each must be unique."
            )
            fault("duplicate_custom_id", message, "custom_id", n)
        else:
            seen.add(custom_id)
        if item.get("method") != "POST":
            fault("invalid_request", "The method of a batch request must be 'POST'.", "method", n)
        if item.get("url") != endpoint:
            message = "The URL provided for this request does not match the batch endpoint."
            fault("url_mismatch", message, "url", n)
        body = item.get("body")
        if not isinstance(body, dict):
            fault(
                "invalid_request",
                "The body of a batch request must be a JSON object.",
                "body",
                n,
            )
            continue
        if not lines:
            model = body.get("model")
        elif body.get("model") != model:
            message = (
                "The model of this request differs from the model of the batch's other requests."
            )
            fault("model_mismatch", message, "body.model", n)
        lines.append(item)
    if not problems and not lines:
        fault("empty_file", "The batch input file is empty.", None, None)
    if problems:
        lines.clear()
    return lines, model, problems
