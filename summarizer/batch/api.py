"""A provider's Files and Batch API (OpenAI's `/v1/files`, `/v1/batches`) over the SDK.

Every call goes through the run's harness transport, so upload, creation, polling and the
download of the output and error files are recorded with `--record` and answered from
the recordings with `--replay`, like the model calls themselves.

The input file holds one line per request: `{"custom_id", "method", "url", "body"}`, the
body exactly as the live path would send it (captured by the transport, batch/book.py)
and the custom_id its request key, so an answer finds its request by the same hash a
recording is filed under. The output and error files are read back into `AnswerRow`s:
- a line with an HTTP answer: 200, or a 4xx that blames the request (served as it is, so
  the article fails with the provider's own reason, as it would live);
- a line with a 5xx or 429 answer, or an `error` object (`batch_expired`,
  `batch_cancelled`): no answer, with why; the request may be retried (book.py);
- a request without a line (the batch failed validation, or a file was lost): no answer,
  and why, naming the batch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarizer.errors import BatchUnsupported, ProviderError
from summarizer.llm import failures
from summarizer.plumbing import untrusted_json
from summarizer.store.batches import AnswerRow

if TYPE_CHECKING:
    from summarizer.llm.client import LLM

log = logging.getLogger("summarizer.batch")

ENDPOINT = "/v1/chat/completions"
WINDOW = "24h"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
# OpenAI's limits on one input file: 50,000 requests, 200 MB. Kept under both.
MAX_LINES = 50_000
MAX_BYTES = 190_000_000
# Statuses a provider answers for routes it does not have (Ollama: 404 "page not found").
_NO_ROUTE = {404, 405, 501}


@dataclass(frozen=True)
class Status:
    batch_id: str
    status: str
    input_file_id: str = ""
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    total: int = 0
    errors: list[str] = field(default_factory=list)
    # When the provider ends the batch as expired (unix time; created_at + 24 h if unsaid).
    expires_at: float | None = None

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL

    def progress(self) -> str:
        done = f", {self.completed}/{self.total} done" if self.total else ""
        return f"{self.batch_id} ({self.status}{done})"


@dataclass(frozen=True)
class Download:
    path: Path  # the file's bytes, streamed to disk
    replayed: bool
    fixture: bool

    def lines(self) -> Iterator[str]:
        """The file's lines, one at a time. JSON Lines end at "\n" only: str.splitlines()
        would also break a line at U+2028 and the other separators a JSON string may hold
        unescaped (a binary file splits at b"\n" alone)."""
        with self.path.open("rb") as f:
            for raw in f:
                yield raw.decode("utf-8", "replace")


class TooLarge(Exception):
    """A downloaded file went past its size limit (nothing of it is used)."""


def input_lines(requests: dict[str, dict[str, Any]]) -> list[bytes]:
    """One JSONL line per request, in key order (the same requests make the same file)."""
    return [
        json.dumps(
            {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": requests[key]},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        ).encode("utf-8")
        + b"\n"
        for key in sorted(requests)
    ]


def split_files(lines: Sequence[bytes]) -> list[bytes]:
    """Lines packed into files within the provider's limits, in order."""
    files: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if current and (len(current) >= MAX_LINES or size + len(line) > MAX_BYTES):
            files.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        files.append(b"".join(current))
    return files


def file_name(content: bytes) -> str:
    # Named by its content, so a replay uploads byte for byte what was recorded.
    return f"summarizer-{hashlib.sha256(content).hexdigest()[:16]}.jsonl"


def _status(batch: Any) -> Status:
    counts = getattr(batch, "request_counts", None)
    expires = getattr(batch, "expires_at", None)
    created = getattr(batch, "created_at", None)
    if not isinstance(expires, int | float) and isinstance(created, int | float):
        expires = created + 24 * 3600  # the completion window asked for
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    said = [
        " ".join(
            str(x)
            for x in (
                getattr(e, "code", None),
                getattr(e, "message", None),
                f"(line {e.line})" if getattr(e, "line", None) else None,
            )
            if x
        )
        for e in errors
    ]
    return Status(
        batch_id=str(batch.id),
        status=str(batch.status),
        input_file_id=str(getattr(batch, "input_file_id", "") or ""),
        output_file_id=getattr(batch, "output_file_id", None) or None,
        error_file_id=getattr(batch, "error_file_id", None) or None,
        completed=int(getattr(counts, "completed", 0) or 0),
        failed=int(getattr(counts, "failed", 0) or 0),
        total=int(getattr(counts, "total", 0) or 0),
        errors=said,
        expires_at=float(expires) if isinstance(expires, int | float) else None,
    )


class BatchApi:
    """The provider's batch endpoints, through `llm`'s SDK client (with its retries)."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    @asynccontextmanager
    async def _asking(self, what: str) -> AsyncIterator[None]:
        """Failures said as ours (client.py); a route the endpoint does not have (Ollama,
        llama.cpp) as the one line that says it has no Batch API."""
        try:
            async with self.llm.translated():
                yield
        except ProviderError as exc:
            status = _status_code(exc)
            if status in _NO_ROUTE:
                raise BatchUnsupported(
                    f"the model endpoint {self.llm.endpoint} has no Batch API ({what} "
                    f"answered HTTP {status}); run daily without --batch (batch = false in "
                    "[daily]), or use an endpoint that has one (OpenAI)"
                ) from None
            raise

    async def upload(self, content: bytes) -> str:
        """The input file's id at the provider."""
        async with self._asking("POST /files"):
            made = await self.llm.sdk.files.create(
                file=(file_name(content), content, "application/jsonl"), purpose="batch"
            )
        return str(made.id)

    async def create(self, input_file_id: str, batch: str) -> Status:
        """The batch made from an uploaded file. Asked once, never retried: a retry after an
        answer that was lost would make a second batch (the API takes no idempotency key);
        the caller finds a batch that was made after all by its input file (`find`)."""
        async with self._asking("POST /batches"):
            made = await self.llm.sdk.with_options(max_retries=0).batches.create(
                input_file_id=input_file_id,
                endpoint=ENDPOINT,
                completion_window=WINDOW,
                metadata={"summarizer_batch": batch},
            )
        return _status(made)

    async def status(self, batch_id: str) -> Status | None:
        """The batch as the provider has it now; None when it no longer knows it (404)."""
        try:
            async with self.llm.translated():
                return _status(await self.llm.sdk.batches.retrieve(batch_id))
        except ProviderError as exc:
            if _status_code(exc) in (404, 410):
                return None
            raise

    async def find(self, input_file_id: str, pages: int = 5) -> Status | None:
        """The batch made from this input file, if the provider has one: a run killed
        between creating it and storing its id, or a lost answer to the creation, left it
        there."""
        async with self._asking("GET /batches"):
            page = await self.llm.sdk.batches.list(limit=100)
            for _ in range(pages):
                for batch in page.data:
                    if batch.input_file_id == input_file_id:
                        return _status(batch)
                if not page.has_next_page():
                    break
                page = await page.get_next_page()
        return None

    async def download(self, file_id: str, into: Path, *, max_bytes: int) -> Download | None:
        """A file streamed to `into` (a batch's output can be hundreds of MB: it is never
        held in memory); None when the provider no longer has it (404). Raises TooLarge
        past `max_bytes`."""
        from summarizer.llm.recordings import FIXTURE_HEADER
        from summarizer.llm.transport import REPLAYED_HEADER

        try:
            async with (
                self.llm.translated(),
                self.llm.sdk.files.with_streaming_response.content(file_id) as got,
            ):
                size = 0
                with into.open("wb") as f:
                    async for chunk in got.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            break  # the rest is not read: the connection is closed
                        f.write(chunk)
                headers = got.headers
        except ProviderError as exc:
            if _status_code(exc) in (404, 410):
                return None
            raise
        if size > max_bytes:
            raise TooLarge(f"over the {max_bytes:,}-byte limit")
        return Download(
            into, replayed=REPLAYED_HEADER in headers, fixture=FIXTURE_HEADER in headers
        )


def _status_code(exc: BaseException) -> int | None:
    code = getattr(_cause(exc), "status_code", None)
    return code if isinstance(code, int) else None


def _cause(exc: BaseException) -> Exception:
    cur: BaseException | None = exc
    while cur is not None:
        if type(cur).__module__.startswith("openai"):
            return cur  # type: ignore[return-value]
        cur = cur.__cause__
    return exc  # type: ignore[return-value]


def read_lines(
    lines: Iterable[str], expected: set[str], batch: Status, got: Download
) -> dict[str, AnswerRow]:
    """The answers in an output or error file (`Download.lines()`), by request key (lines
    for requests this batch did not have are ignored, and counted in the log)."""
    found: dict[str, AnswerRow] = {}
    unreadable = stray = 0
    why: str | None = None  # the first unreadable line's reason, for the log
    for line in lines:
        if not line.strip():
            continue
        try:
            item = untrusted_json.loads(line, what=f"a line of batch {batch.batch_id}'s output")
            key = item["custom_id"]
        except untrusted_json.JSONRefused as exc:
            unreadable += 1
            why = why or exc.reason
            continue
        except (KeyError, TypeError):
            unreadable += 1
            continue
        if not isinstance(key, str):
            unreadable += 1
            continue
        if key not in expected:
            stray += 1
            continue
        found[key] = _row(key, item, batch, got)
    if unreadable or stray:
        log.warning(
            "batch %s: %d line(s) could not be read%s and %d named no request of it",
            batch.batch_id, unreadable, f" (the first: {why})" if why else "", stray,
        )  # fmt: skip
    return found


def _row(key: str, item: dict[str, Any], batch: Status, got: Download) -> AnswerRow:
    response = item.get("response")
    error = item.get("error")
    where = f"batch {batch.batch_id} ({batch.status})"
    if isinstance(response, dict) and isinstance(response.get("status_code"), int):
        status = int(response["status_code"])
        body = response.get("body")
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        # A 4xx (but 408, 429) blames the request: the answer it would get live, too.
        if status == 200 or (400 <= status < 500 and status not in (408, 429)):
            return AnswerRow(key, "answer", status, text, None, got.replayed, got.fixture)
        said = failures.read_error(text)
        message = failures.clean(said.message or text, [])
        return AnswerRow(
            key, "error", status, None, f"{where}: its answer was HTTP {status}: {message}",
            got.replayed, got.fixture,
        )  # fmt: skip
    if isinstance(error, dict):
        code = error.get("code") or "error"
        message = failures.clean(str(error.get("message") or ""), [])
        return AnswerRow(
            key, "error", None, None, f"{where}: {code}: {message}".rstrip(": "),
            got.replayed, got.fixture,
        )  # fmt: skip
    return AnswerRow(
        key, "error", None, None, f"{where}: its line for this request has no answer",
        got.replayed, got.fixture,
    )  # fmt: skip
