"""OpenAI's Files API for the loopback server, in memory: multipart upload, list,
retrieve and content (`POST /v1/files`, `GET /v1/files`, `/v1/files/{id}`,
`/v1/files/{id}/content`)."""

from __future__ import annotations

import email.parser
import email.policy
import time
from typing import Any

from summarizer.testing.wire import Answer, error_answer, json_answer, new_id, page

PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})


class Files:
    """The files one server holds: `files` (id -> FileObject) and `contents` (id -> bytes),
    oldest first."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}

    def store(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        """Keep a file, as an upload would, and answer its FileObject."""
        obj: dict[str, Any] = {
            "id": new_id("file-", 24),
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }
        self.files[obj["id"]] = obj
        self.contents[obj["id"]] = data
        return obj

    def upload(self, content_type: str, body: bytes) -> Answer:
        if not content_type.startswith("multipart/form-data"):
            return error_answer(400, "Expected a multipart/form-data body.")
        head = f"content-type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields: dict[str, str] = {}
        data, filename = None, "upload"
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            if name == "file":
                data, filename = payload, part.get_filename() or filename
            elif isinstance(name, str):
                fields[name] = payload.decode("utf-8")
        if data is None:
            return error_answer(
                400, "Missing required parameter: 'file'.", "file", "missing_required_parameter"
            )
        purpose = fields.get("purpose")
        if purpose not in PURPOSES:
            return error_answer(
                400, f"Invalid value for 'purpose': {purpose!r}.", "purpose", "invalid_value"
            )
        return json_answer(200, self.store(data, filename, purpose))

    def listed(self, params: dict[str, list[str]]) -> Answer:
        purpose = params.get("purpose", [None])[0]
        found = [f for f in self.files.values() if purpose in (None, f["purpose"])]
        if params.get("order", ["desc"])[0] == "desc":
            found.reverse()
        return page(found, params)

    def retrieve(self, file_id: str) -> Answer:
        found = self.files.get(file_id)
        return json_answer(200, found) if found else _no_file(file_id)

    def content(self, file_id: str) -> Answer:
        data = self.contents.get(file_id)
        if data is None:
            return _no_file(file_id)
        return 200, {"content-type": "application/octet-stream"}, data


def _no_file(file_id: str) -> Answer:
    return error_answer(404, f"No such File object: {file_id}")
