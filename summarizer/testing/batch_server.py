"""OpenAI's Files and Batch APIs for the loopback server (`openai_server.FakeOpenAI`).

Files are kept in memory; a batch moves one step each time it is retrieved (the server
has no clock of its own, so a test polls it forward without sleeping):
validating -> in_progress -> finalizing -> completed (or failed, expired, cancelled).
The first retrieve validates the input file; the one that makes the batch terminal answers
its lines, in file order, through `FakeOpenAI.answer_chat`, exactly as live calls with the
same bodies would be answered. Listing a batch does not move it.

The wire format is OpenAI's: input lines `{"custom_id", "method": "POST", "url", "body"}`;
output lines `{"id": "batch_req_...", "custom_id", "response": {"status_code",
"request_id", "body"}, "error": null}`; a line that was never executed (expired,
cancelled) has `"response": null` and `"error": {"code", "message"}`. An expired or
cancelled batch has answered the first half of its lines (rounded down), the rest are in
the error file.

Files are kept by `files_api.Files`, an input file is checked by `batch_validation`, and
the answers' shapes are `wire`'s; `error_answer`, `json_answer` and `invalid_url` are
importable from here too, as they always were.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from summarizer.testing.batch_validation import validate
from summarizer.testing.files_api import Files
from summarizer.testing.wire import Answer, error_answer, invalid_url, json_answer, new_id, page

if TYPE_CHECKING:
    from summarizer.testing.openai_server import FakeOpenAI

CHAT_ENDPOINT = "/v1/chat/completions"
DAY = 24 * 3600
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_ROOTS = ("/v1/files", "/v1/batches")

# What OpenAI writes for a line the batch never ran.
UNEXECUTED = {
    "expired": (
        "batch_expired",
        "This request could not be executed before the completion window expired.",
    ),
    "cancelled": (
        "batch_cancelled",
        "This request was not executed because the batch was cancelled.",
    ),
}
# A batch refused as a whole while validating (`Quirks(batch_outcome="failed")`).
_QUEUE_FULL = {
    "code": "token_limit_exceeded",
    "message": (
        "Enqueued token limit reached for this model in organization org-fixture. "
        "Please try again once some in_progress batches have been completed."
    ),
    "param": None,
    "line": None,
}
_LINE_500 = {
    "error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}
# A server without these endpoints (Ollama's Go router) answers a bare text 404.
_NO_ROUTE: Answer = (404, {"content-type": "text/plain; charset=utf-8"}, b"404 page not found")


def handles(path: str) -> bool:
    """Whether a request path belongs to the Files or Batch API."""
    return any(path == root or path.startswith(root + "/") for root in _ROOTS)


@dataclass
class BatchState:
    """A batch as the server keeps it."""

    obj: dict[str, Any]  # the Batch object, as answered
    retrieves: int = 0  # retrieves since validation
    cancel: bool = False
    lines: list[dict[str, Any]] = field(default_factory=list)  # validated input lines


class BatchAPI:
    """The Files and Batch endpoints of one FakeOpenAI; `files`, `contents` and `batches`
    are what it holds (by id, oldest first)."""

    def __init__(self, server: FakeOpenAI) -> None:
        self._server = server
        self.file_store = Files()
        # The same dicts as the file store's: what tests read.
        self.files = self.file_store.files
        self.contents = self.file_store.contents
        self.batches: dict[str, BatchState] = {}
        self._lock = threading.Lock()

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        if not self._server.quirks.batches:
            return _NO_ROUTE
        with self._lock:
            match method, path.strip("/").split("/")[1:]:
                case "POST", ["files"]:
                    return self.file_store.upload(headers.get("content-type", ""), body)
                case "GET", ["files"]:
                    return self.file_store.listed(parse_qs(query))
                case "GET", ["files", file_id]:
                    return self.file_store.retrieve(file_id)
                case "GET", ["files", file_id, "content"]:
                    return self.file_store.content(file_id)
                case "POST", ["batches"]:
                    return self._create(body)
                case "GET", ["batches"]:
                    newest = [b.obj for b in reversed(self.batches.values())]
                    return page(newest, parse_qs(query))
                case "GET", ["batches", batch_id]:
                    return self._retrieve(batch_id)
                case "POST", ["batches", batch_id, "cancel"]:
                    return self._cancel(batch_id)
            return invalid_url(method, path)

    # Batches

    def _create(self, body: bytes) -> Answer:
        try:
            params = json.loads(body)
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return error_answer(400, "We could not parse the JSON body of your request.")
        for key in ("input_file_id", "endpoint", "completion_window"):
            if key not in params:
                return error_answer(
                    400, f"Missing required parameter: '{key}'.", key, "missing_required_parameter"
                )
        if params["endpoint"] != CHAT_ENDPOINT:
            message = f"Invalid value for 'endpoint': this server batches only {CHAT_ENDPOINT}."
            return error_answer(400, message, "endpoint", "invalid_value")
        if params["completion_window"] != "24h":
            message = "Invalid value for 'completion_window': only '24h' is supported."
            return error_answer(400, message, "completion_window", "invalid_value")
        file = self.files.get(params["input_file_id"])
        if file is None:
            return error_answer(
                404, f"No such File object: {params['input_file_id']}", "input_file_id"
            )
        if file["purpose"] != "batch":
            message = f"The input file {file['id']} must have been uploaded with purpose 'batch'."
            return error_answer(400, message, "input_file_id", "invalid_value")
        now = int(time.time())
        obj: dict[str, Any] = {
            "id": new_id("batch_"),
            "object": "batch",
            "endpoint": CHAT_ENDPOINT,
            "errors": None,
            "input_file_id": file["id"],
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + self._server.quirks.batch_expires_in,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "usage": _usage([]),
            "metadata": params.get("metadata"),
            "model": None,
        }
        self.batches[obj["id"]] = BatchState(obj)
        return json_answer(200, obj)

    def _retrieve(self, batch_id: str) -> Answer:
        batch = self.batches.get(batch_id)
        if batch is None:
            return error_answer(404, f"No such Batch object: {batch_id}")
        self._advance(batch)
        return json_answer(200, batch.obj)

    def _cancel(self, batch_id: str) -> Answer:
        batch = self.batches.get(batch_id)
        if batch is None:
            return error_answer(404, f"No such Batch object: {batch_id}")
        status = batch.obj["status"]
        if status in TERMINAL:
            return error_answer(409, f"Cannot cancel a batch with status '{status}'.")
        if not batch.cancel:
            batch.cancel = True
            batch.obj.update(status="cancelling", cancelling_at=int(time.time()))
        return json_answer(200, batch.obj)

    def _advance(self, batch: BatchState) -> None:
        """One step along the batch's life; the quirks are read at each step."""
        obj, q = batch.obj, self._server.quirks
        if obj["status"] in TERMINAL:
            return
        now = int(time.time())
        if obj["in_progress_at"] is None:  # still to validate
            text = self.contents[obj["input_file_id"]].decode("utf-8", errors="replace")
            batch.lines, obj["model"], problems = validate(text, obj["endpoint"])
            if not problems and q.batch_outcome == "failed":
                problems = [dict(_QUEUE_FULL)]
            if problems:
                obj.update(
                    status="failed", failed_at=now, errors={"object": "list", "data": problems}
                )
                return
            obj["in_progress_at"] = now
            obj["request_counts"] = {"total": len(batch.lines), "completed": 0, "failed": 0}
            if not batch.cancel:
                obj["status"] = "in_progress"
        batch.retrieves += 1
        if batch.cancel:
            self._finish(batch, "cancelled")
        elif batch.retrieves > q.batch_steps:
            outcome = q.batch_outcome if q.batch_outcome in UNEXECUTED else "completed"
            self._finish(batch, outcome)
        elif batch.retrieves == q.batch_steps >= 2:
            obj.update(status="finalizing", finalizing_at=now)

    def _finish(self, batch: BatchState, status: str) -> None:
        """Answer the lines the batch gets to and write its output and error files."""
        obj, q, server = batch.obj, self._server.quirks, self._server
        ran = batch.lines if status == "completed" else batch.lines[: len(batch.lines) // 2]
        done: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for line in ran:
            body: Any
            if line["custom_id"] in q.batch_error_lines:
                code, body = 500, _LINE_500
            else:
                code, _headers, data = server.answer_chat(line["body"], batched=True)
                try:
                    body = json.loads(data)
                except ValueError:
                    body = data.decode("utf-8", errors="replace")
            response = {"status_code": code, "request_id": new_id("req_"), "body": body}
            (done if code == 200 else failed).append(_result(line, response, None))
        if status in UNEXECUTED:
            reason, message = UNEXECUTED[status]
            for line in batch.lines[len(ran) :]:
                failed.append(_result(line, None, {"code": reason, "message": message}))
        now = int(time.time())
        obj["status"] = status
        obj[f"{status}_at"] = now
        if status == "completed":
            obj["finalizing_at"] = obj["finalizing_at"] or now
        if status == "cancelled":
            obj["cancelling_at"] = obj["cancelling_at"] or now
        obj["request_counts"] = {
            "total": len(batch.lines),
            "completed": len(done),
            "failed": len(failed),
        }
        obj["usage"] = _usage([r["response"]["body"] for r in done])
        if done:
            # Padding makes an output file as large as a test needs, answers unchanged.
            padded = _jsonl(done) + b"\n" * q.batch_output_padding
            output = self.file_store.store(padded, f"{obj['id']}_output.jsonl", "batch_output")
            obj["output_file_id"] = output["id"]
            if q.batch_lose_output:
                del self.files[output["id"]], self.contents[output["id"]]
        if failed:
            errors = self.file_store.store(
                _jsonl(failed), f"{obj['id']}_error.jsonl", "batch_output"
            )
            obj["error_file_id"] = errors["id"]


def _result(
    line: dict[str, Any], response: dict[str, Any] | None, error: dict[str, str] | None
) -> dict[str, Any]:
    return {
        "id": new_id("batch_req_"),
        "custom_id": line["custom_id"],
        "response": response,
        "error": error,
    }


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8")


def _usage(completions: list[Any]) -> dict[str, Any]:
    """A batch's usage: the sum of its answered completions' usage."""
    usages = [c.get("usage") or {} for c in completions if isinstance(c, dict)]
    prompt = sum(int(u.get("prompt_tokens", 0)) for u in usages)
    output = sum(int(u.get("completion_tokens", 0)) for u in usages)
    cached = sum(
        int((u.get("prompt_tokens_details") or {}).get("cached_tokens", 0)) for u in usages
    )
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + output,
    }
