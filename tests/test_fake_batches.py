"""The test server's Files and Batch APIs, driven through the real openai SDK: a batch's
lines are answered as live calls with the same bodies are, and each batch quirk (failed,
expired, cancelled, failing lines, lost output, no Batch API at all) looks as it does on
the wire from OpenAI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from openai.types import Batch

from summarizer.llm.recordings import FIXTURE_HEADER
from summarizer.testing.openai_server import FakeOpenAI, Quirks, Reply

CHAT = "/v1/chat/completions"
SHARED = "You are a careful analyst. " * 300  # ~2,000 tokens of fixed prefix


def echo(request: dict[str, Any]) -> Reply:
    return Reply({"echo": request["messages"][-1]["content"]})


def line(custom_id: str, text: str, **body: Any) -> dict[str, Any]:
    messages = [{"role": "system", "content": SHARED}, {"role": "user", "content": text}]
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {
            "model": "gpt-4o-mini",
            "messages": messages,
            "response_format": {"type": "json_object"},
            **body,
        },
    }


def lines(n: int) -> list[dict[str, Any]]:
    return [line(f"r{i}", f"Article {i}.") for i in range(n)]


def jsonl(rows: list[Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(echo) as fake:
        yield fake


@pytest.fixture
def client(server: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as c:
        yield c


def submit(client: openai.OpenAI, rows: list[Any]) -> Batch:
    file = client.files.create(file=("requests.jsonl", jsonl(rows)), purpose="batch")
    return client.batches.create(
        input_file_id=file.id, endpoint=CHAT, completion_window="24h", metadata={"run": "t"}
    )


def poll(client: openai.OpenAI, batch: Batch) -> list[Batch]:
    """Every state the batch shows, retrieve by retrieve, until it is terminal."""
    seen = [batch]
    while seen[-1].status not in ("completed", "failed", "expired", "cancelled"):
        assert len(seen) < 10
        seen.append(client.batches.retrieve(batch.id))
    return seen


def download(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines()]


def test_a_batch_answers_each_line_as_a_live_call_with_that_body(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    tool = {"type": "function", "function": {"name": "Brief", "parameters": {"type": "object"}}}
    rows = [*lines(2), line("tools", "Article t.")]
    del rows[2]["body"]["response_format"]
    rows[2]["body"]["tools"] = [tool]
    steps = poll(client, submit(client, rows))
    out = download(client, steps[-1].output_file_id)
    with FakeOpenAI(echo) as fresh:
        live = [
            httpx2.post(f"{fresh.base_url}/chat/completions", json=r["body"]).json() for r in rows
        ]
        live_cached = list(fresh.cached_tokens)
    assert [b.status for b in steps] == ["validating", "in_progress", "finalizing", "completed"]
    assert [o["custom_id"] for o in out] == ["r0", "r1", "tools"]
    for got, want in zip(out, live, strict=True):
        assert got["id"].startswith("batch_req_") and got["error"] is None
        assert got["response"]["status_code"] == 200
        assert got["response"]["request_id"].startswith("req_")
        body = got["response"]["body"]
        assert body["choices"] == want["choices"] and body["usage"] == want["usage"]
        assert body["model"] == want["model"] and body["object"] == "chat.completion"
    assert out[2]["response"]["body"]["choices"][0]["message"]["tool_calls"]
    done = steps[-1]
    assert done.error_file_id is None and done.errors is None and done.model == "gpt-4o-mini"
    assert done.request_counts is not None and done.usage is not None
    assert (done.request_counts.total, done.request_counts.completed) == (3, 3)
    usages = [o["response"]["body"]["usage"] for o in out]
    assert done.usage.input_tokens == sum(u["prompt_tokens"] for u in usages)
    assert done.usage.output_tokens == sum(u["completion_tokens"] for u in usages)
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens
    assert done.usage.output_tokens_details.reasoning_tokens == 0
    assert done.completed_at and done.in_progress_at and done.finalizing_at
    assert done.expires_at == done.created_at + 24 * 3600 and done.metadata == {"run": "t"}
    # The same counters as live calls move, and the batched ones are counted apart.
    assert server.batched_requests == 3 and len(server.requests) == 3
    assert server.status_counts == {200: 3} and len(server.completions) == 3
    assert server.cached_tokens == live_cached
    output = client.files.retrieve(done.output_file_id or "")
    assert output.purpose == "batch_output" and output.filename == f"{done.id}_output.jsonl"


def test_prefix_caching_shows_in_batched_lines_and_the_batch_usage(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    done = poll(client, submit(client, lines(3)))[-1]
    cached = [
        o["response"]["body"]["usage"]["prompt_tokens_details"]["cached_tokens"]
        for o in download(client, done.output_file_id)
    ]
    assert cached[0] == 0 and cached[1] >= 1024 and cached[2] >= 1024
    assert server.cached_tokens == cached
    assert done.usage is not None and done.usage.input_tokens_details.cached_tokens == sum(cached)
    # A live call after the batch shares its prefix with the batched prompts.
    live = client.chat.completions.create(**line("x", "Article x.")["body"])
    assert live.usage is not None and live.usage.prompt_tokens_details is not None
    assert (live.usage.prompt_tokens_details.cached_tokens or 0) >= 1024


@pytest.mark.parametrize(
    ("steps", "shown"),
    [
        (0, ["validating", "completed"]),
        (1, ["validating", "in_progress", "completed"]),
        (3, ["validating", "in_progress", "in_progress", "finalizing", "completed"]),
    ],
)
def test_batch_steps_is_the_retrieves_before_the_batch_is_done(
    server: FakeOpenAI, client: openai.OpenAI, steps: int, shown: list[str]
) -> None:
    server.quirks = Quirks(batch_steps=steps)
    assert [b.status for b in poll(client, submit(client, lines(1)))] == shown


def test_a_failed_batch_lists_its_error_and_answers_nothing(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.quirks = Quirks(batch_outcome="failed")
    steps = poll(client, submit(client, lines(2)))
    failed = steps[-1]
    assert [b.status for b in steps] == ["validating", "failed"]
    assert failed.errors is not None and failed.errors.object == "list"
    assert [e.code for e in failed.errors.data or []] == ["token_limit_exceeded"]
    assert failed.failed_at and failed.output_file_id is None and failed.error_file_id is None
    assert server.requests == [] and server.batched_requests == 0


def test_an_expired_batch_answers_the_first_half_and_reports_the_rest(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.quirks = Quirks(batch_outcome="expired")
    expired = poll(client, submit(client, lines(5)))[-1]
    out = download(client, expired.output_file_id)
    errors = download(client, expired.error_file_id)
    assert expired.status == "expired" and expired.expired_at
    assert [o["custom_id"] for o in out] == ["r0", "r1"]
    assert [e["custom_id"] for e in errors] == ["r2", "r3", "r4"]
    assert errors[0]["response"] is None
    assert errors[0]["error"] == {
        "code": "batch_expired",
        "message": "This request could not be executed before the completion window expired.",
    }
    assert expired.request_counts is not None
    assert (expired.request_counts.completed, expired.request_counts.failed) == (2, 3)
    assert server.batched_requests == 2


def test_a_cancelled_batch_keeps_the_first_half_answered(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    batch = submit(client, lines(4))
    assert client.batches.retrieve(batch.id).status == "in_progress"
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at
    cancelled = client.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at
    assert [o["custom_id"] for o in download(client, cancelled.output_file_id)] == ["r0", "r1"]
    errors = download(client, cancelled.error_file_id)
    assert [(e["custom_id"], e["error"]["code"]) for e in errors] == [
        ("r2", "batch_cancelled"),
        ("r3", "batch_cancelled"),
    ]
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(batch.id)
    # The quirk cancels a batch the same way without a cancel call.
    server.quirks = Quirks(batch_outcome="cancelled", batch_steps=0)
    quirked = poll(client, submit(client, lines(3)))[-1]
    assert quirked.status == "cancelled" and quirked.request_counts is not None
    assert (quirked.request_counts.completed, quirked.request_counts.failed) == (1, 2)


def test_failing_lines_go_to_the_error_file_with_their_status_and_body(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.quirks = Quirks(batch_error_lines={"r1"})
    rejected = {"error": {"message": "bad request", "type": "invalid_request_error"}}
    rows = lines(4)
    # The script is shared with live calls: the first line answered takes the first Reply.
    server.queue(Reply(status=400, raw_body=json.dumps(rejected)))
    done = poll(client, submit(client, rows))[-1]
    errors = {e["custom_id"]: e for e in download(client, done.error_file_id)}
    assert done.status == "completed"
    assert [o["custom_id"] for o in download(client, done.output_file_id)] == ["r2", "r3"]
    assert errors["r0"]["response"]["status_code"] == 400
    assert errors["r0"]["response"]["body"] == rejected and errors["r0"]["error"] is None
    assert errors["r1"]["response"]["status_code"] == 500
    assert errors["r1"]["response"]["body"]["error"]["type"] == "server_error"
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 2)
    assert server.status_counts == {400: 1, 200: 2} and server.batched_requests == 3


def test_injected_failures_reach_batched_lines_too() -> None:
    with (
        FakeOpenAI(echo, fail_rates={500: 1.0}) as server,
        openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
    ):
        done = poll(client, submit(client, lines(2)))[-1]
        errors = download(client, done.error_file_id)
    assert done.output_file_id is None
    assert [e["response"]["status_code"] for e in errors] == [500, 500]
    assert server.injected == {500: 2} and server.status_counts == {500: 2}


def test_a_lost_output_file_is_named_but_answers_404(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.quirks = Quirks(batch_lose_output=True)
    done = poll(client, submit(client, lines(2)))[-1]
    assert done.status == "completed" and done.output_file_id
    with pytest.raises(openai.NotFoundError) as lost:
        client.files.content(done.output_file_id)
    assert lost.value.body == {
        "message": f"No such File object: {done.output_file_id}",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(done.output_file_id)


def test_without_a_batch_api_files_and_batches_are_404_and_chat_still_works(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.quirks = Quirks(batches=False)
    with pytest.raises(openai.NotFoundError):
        client.files.create(file=("r.jsonl", jsonl(lines(1))), purpose="batch")
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_x")
    raw = httpx2.get(f"{server.base_url}/batches")
    assert (raw.status_code, raw.text) == (404, "404 page not found")
    assert raw.headers[FIXTURE_HEADER]
    assert client.chat.completions.create(**line("x", "hi")["body"]).choices


def test_the_sdk_pages_through_batches_newest_first(server: FakeOpenAI) -> None:
    async def run() -> tuple[list[str], list[str], Any]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="k") as client:
            file = await client.files.create(file=("r.jsonl", jsonl(lines(1))), purpose="batch")
            made = [
                (
                    await client.batches.create(
                        input_file_id=file.id, endpoint=CHAT, completion_window="24h"
                    )
                ).id
                for _ in range(5)
            ]
            listed = [b.id async for b in client.batches.list(limit=2)]
            first = await client.batches.list(limit=2)
            return made, listed, first

    made, listed, first = asyncio.run(run())
    assert listed == made[::-1]
    assert first.has_more and [b.id for b in first.data] == made[::-1][:2]
    raw = httpx2.get(f"{server.base_url}/batches", params={"limit": 2, "after": made[1]}).json()
    assert raw["object"] == "list" and [b["id"] for b in raw["data"]] == [made[0]]
    assert raw["first_id"] == raw["last_id"] == made[0] and raw["has_more"] is False


def _without(key: str) -> dict[str, Any]:
    row = line("r1", "one")
    row.pop(key)
    return row


@pytest.mark.parametrize(
    ("bad", "code", "param"),
    [
        (_without("custom_id"), "missing_required_parameter", "custom_id"),
        (line("r0", "again"), "duplicate_custom_id", "custom_id"),
        ({**line("r1", "x"), "url": "/v1/embeddings"}, "url_mismatch", "url"),
        ({**line("r1", "x"), "method": "GET"}, "invalid_request", "method"),
        ({**line("r1", "x"), "body": "text"}, "invalid_request", "body"),
        ("{not json", "invalid_json_line", None),
    ],
    ids=["no-custom-id", "duplicate-custom-id", "wrong-url", "wrong-method", "body", "json"],
)
def test_an_invalid_input_line_fails_the_batch_with_its_line_number(
    server: FakeOpenAI, client: openai.OpenAI, bad: Any, code: str, param: str | None
) -> None:
    rows = [line("r0", "zero"), bad, line("r2", "two")]
    data = b"".join(r.encode() + b"\n" if isinstance(r, str) else jsonl([r]) for r in rows)
    file = client.files.create(file=("r.jsonl", data), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")
    failed = client.batches.retrieve(batch.id)
    assert failed.status == "failed" and failed.errors is not None
    assert [(e.code, e.param, e.line) for e in failed.errors.data or []] == [(code, param, 2)]
    assert failed.output_file_id is None and failed.error_file_id is None
    assert server.requests == []


def test_files_keep_their_bytes_and_unknown_ids_are_refused(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    data = b'{"a": 1}\r\n\xff\x00 binary\n'
    file = client.files.create(file=("any.bin", data), purpose="user_data")
    assert (file.object, file.bytes, file.filename, file.purpose) == (
        "file",
        len(data),
        "any.bin",
        "user_data",
    )
    assert file.id.startswith("file-") and file.status == "processed"
    assert client.files.content(file.id).content == data
    assert client.files.retrieve(file.id) == file
    assert [f.id for f in client.files.list()] == [file.id]
    answer = client.files.with_raw_response.retrieve(file.id)
    assert answer.headers[FIXTURE_HEADER]
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-none", endpoint=CHAT, completion_window="24h")
    with pytest.raises(openai.BadRequestError) as wrong:
        client.batches.create(
            input_file_id=file.id, endpoint="/v1/embeddings", completion_window="24h"
        )
    assert wrong.value.param == "endpoint"
    with pytest.raises(openai.BadRequestError):  # not uploaded for a batch
        client.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_none")
    other = httpx2.get(f"{server.base_url}/models")
    assert other.status_code == 404
    assert other.json()["error"]["message"] == "Invalid URL (GET /v1/models)"
