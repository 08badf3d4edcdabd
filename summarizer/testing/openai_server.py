"""A loopback OpenAI-compatible server for tests, benchmarks and offline demos.

It speaks `POST /v1/chat/completions` over real HTTP, so the real SDK, the real instructor
and the real transport are exercised. Answers come from a script (a queue of `Reply`s)
and, when the script is empty, from a responder function. It can add fixed latency,
enforce a requests-per-window limit with 429 + Retry-After (`rpm_limit` per `window`
seconds, 60 by default), and inject 429 and 500 answers at random (`fail_rates`, from a
seeded RNG so a run is repeatable). Counters say what it saw: requests and their arrival
times, answers by status, injected failures, calls in flight at once, and what it wrote.

It answers `POST /v1/embeddings` too, deterministically (`embed_text`: words hashed into
64 buckets, not a model's meaning), with usage, counted in `embedding_requests`.

It also speaks OpenAI's Files and Batch APIs (`batch_server.py`): `POST /v1/files`
(multipart upload), `GET /v1/files`, `GET /v1/files/{id}` and `/v1/files/{id}/content`;
`POST /v1/batches`, `GET /v1/batches` (a cursor page, newest first), `GET /v1/batches/{id}`
and `POST /v1/batches/{id}/cancel`. Each retrieve moves a batch one step; when it ends, its
lines are answered by `answer_chat`, as live calls with the same bodies would be (same
script, responder, quirks, injected failures and prompt cache, same counters; not rate
limited nor delayed), and `batched_requests` counts them.

Every answer carries the `x-summarizer-fixture` header: a recording made against this
server is marked as fixture output, never as a live model's.

Real endpoints misbehave in ways a test must reproduce; each is a switch in `Quirks`
(`FakeOpenAI(quirks=Quirks(...))`, or `server.quirks` changed mid-test), each seen on a
real server:
- `truncate="tool_calls"`: the answer is cut at max_tokens but finish_reason says
  "tool_calls" (or "stop"), completion_tokens == max_tokens (llama.cpp's server);
- `refuse="..."`: content null and `refusal` set, in every mode (OpenAI);
- `reject_modes={"json_schema"}`: HTTP 500 naming response_format (llama-cpp-python,
  which accepts only text and json_object); `{"tools"}`: HTTP 400 naming tools;
- `context_window=N`: a prompt over N tokens gets OpenAI's 400 context_length_exceeded;
- `tool_calls="other_first" | "parallel" | "other_only"`: the brief is not the first
  tool call, is one of several parallel calls, or is missing;
- `model_name="gpt-4o-2024-08-06"`: the dated snapshot name OpenAI returns;
- `slow_modes={"tools": 5.0}`: every answer in that mode takes that much longer (a CPU
  model that is slow with a tool grammar); `lowercase_words=True`: the "model" writes the
  probe's code word in lower case (a small model did: `periwinkle-7319`);
- `usage=False`: no usage in the answer; `usage_values={"prompt_tokens": -500, ...}`:
  these fields of `usage` as given (negative, absurd, cached above prompt: a broken or
  hostile endpoint's counts);
- `drop_system=True`: the "model" never sees system messages (llama-cpp-python's `gemma`
  chat format), so in md_json, whose schema instructor puts there, it answers in prose;
- `ignore_tools=True`: tools are accepted but the answer comes as text content, as from a
  chat format without tool calling;
- `prefix_cache` (on by default): OpenAI's prompt caching, simulated. A request whose
  prompt (tool or response schema first, then the messages) starts with a prefix of
  1,024 tokens or more that a recent request (within `cache_ttl` seconds) also had gets
  that prefix, in 128-token steps, as `usage.prompt_tokens_details.cached_tokens`;
- `batches=False`: /v1/files and /v1/batches answer Ollama's text `404 page not found`;
- `batch_steps=N` (2): retrieves that show a batch in_progress (then finalizing) before
  the one that shows it done; 0: done at the first retrieve (create says "validating");
- `batch_outcome="failed"`: the batch fails validation (`errors.data`, OpenAI's
  token_limit_exceeded), nothing answered; `"expired"` / `"cancelled"`: the first half of
  the lines (rounded down) are answered, the rest are in the error file with
  `"response": null` and error code batch_expired / batch_cancelled (a cancel call does
  the same);
- `batch_error_lines={"id", ...}`: those custom_ids end in the error file with a 500;
- `batch_lose_output=True`: the batch names an output file that answers 404.
Tokens are counted as 4 characters each.

The parts live in modules named after what they do: `scripted` (replies, grounded briefs),
`quirks` (the switches above, and a request's faults), `completions` (answer bodies, the
prompt cache), `embeddings`, `loopback` (the HTTP plumbing) and `batch_server`. Their
public names are importable from here too, as they always were.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from typing import Any

from summarizer.llm import failures
from summarizer.testing import batch_server
from summarizer.testing.completions import (
    CACHE_MIN_TOKENS,
    CACHE_STEP_TOKENS,
    PromptCache,
    completion_body,
    written,
)
from summarizer.testing.embeddings import EMBEDDING_DIMENSIONS, embed_text, embeddings_body
from summarizer.testing.loopback import FIXTURE_NOTE, Loopback
from summarizer.testing.quirks import (
    CHARS_PER_TOKEN,
    Quirks,
    endpoint_fault,
    format_unseen,
    prompt_text,
)
from summarizer.testing.scripted import (
    Reply,
    Responder,
    articles_in,
    first_sentence,
    grounded_brief,
    probe_reply,
)
from summarizer.testing.wire import Answer, invalid_url

__all__ = [
    "CACHE_MIN_TOKENS",
    "CACHE_STEP_TOKENS",
    "CHARS_PER_TOKEN",
    "EMBEDDING_DIMENSIONS",
    "FIXTURE_NOTE",
    "FakeOpenAI",
    "Quirks",
    "Reply",
    "Responder",
    "articles_in",
    "completion_body",
    "embed_text",
    "embeddings_body",
    "first_sentence",
    "grounded_brief",
    "prompt_text",
]


class FakeOpenAI:
    """Run with `with FakeOpenAI() as server: server.base_url`."""

    def __init__(
        self,
        responder: Responder = grounded_brief,
        *,
        latency: float = 0.0,
        rpm_limit: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,  # 0: any free port (tests); `summarizer testserver --port N` picks one
        window: float = 60.0,
        fail_rates: dict[int, float] | None = None,
        seed: int = 0,
        quirks: Quirks | None = None,
    ) -> None:
        self.responder = responder
        self.quirks = quirks or Quirks()
        self._prompt_cache = PromptCache()
        self.cached_tokens: list[int] = []  # cached_tokens of each 200 answer, in order
        self.latency = latency
        self.rpm_limit = rpm_limit
        self.window = window
        # status -> probability, e.g. {429: 0.03, 500: 0.03}: injected before the script.
        self.fail_rates = dict(fail_rates or {})
        self._rng = random.Random(seed)
        self.injected: dict[int, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.completions: list[str] = []  # what the "model" wrote, in 200 answers
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.request_times: list[float] = []
        self.headers_seen: list[dict[str, str]] = []
        self.status_counts: dict[int, int] = {}
        self._accepted: deque[float] = deque()
        self.batched_requests = 0  # chat requests answered as lines of a batch
        self.embedding_requests = 0  # POST /v1/embeddings answered
        self.batch_api = batch_server.BatchAPI(self)  # /v1/files and /v1/batches
        self._lock = threading.Lock()
        self._loopback = Loopback(self.route, host, port)

    @property
    def base_url(self) -> str:
        host, port = self._loopback.address
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._loopback.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._loopback.stop()

    def queue(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def _next(self, request: dict[str, Any], *, batched: bool = False) -> Reply:
        with self._lock:
            now = time.monotonic()
            self.requests.append(request)
            self.request_times.append(now)
            if self.rpm_limit is not None and not batched:
                while self._accepted and now - self._accepted[0] >= self.window:
                    self._accepted.popleft()
                if len(self._accepted) >= self.rpm_limit:
                    wait = self.window - (now - self._accepted[0])
                    return Reply(
                        status=429,
                        raw_body=json.dumps(
                            {"error": {"message": "rate limited", "type": "rate_limit"}}
                        ),
                        headers={"retry-after": f"{max(wait, 0.01):.2f}"},
                    )
                self._accepted.append(now)
            roll = self._rng.random() if self.fail_rates else 1.0
            for status, rate in self.fail_rates.items():
                if roll < rate:
                    self.injected[status] = self.injected.get(status, 0) + 1
                    headers = {"retry-after": "0.05"} if status == 429 else {}
                    return Reply(status=status, headers=headers)
                roll -= rate
            q = self.quirks
            # What the "model" is given: a chat format without a system turn drops them.
            seen = request
            if q.drop_system:
                kept = [m for m in request.get("messages", []) if m.get("role") != "system"]
                seen = {**request, "messages": kept}
            fault = endpoint_fault(q, request)
            if fault is not None:
                return fault
            if q.drop_system and format_unseen(seen):
                return Reply(prose="Sure, here is what I found in the text.")
            answer = probe_reply(seen, q.lowercase_words)
            if answer is not None:
                return answer
            if self.script:
                return self.script.popleft()
        return self.responder(seen)

    def _cached(self, request: dict[str, Any]) -> int:
        """Prompt tokens served from the simulated prompt cache, and remember this prompt."""
        if not self.quirks.prefix_cache:
            return 0
        return self._prompt_cache.cached(request, self.quirks.cache_ttl)

    def answer_chat(
        self, request: dict[str, Any], *, batched: bool = False
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one chat-completion request: (status, headers, body). The HTTP route and
        each line of a batch are answered here, so both see the same script, responder,
        quirks, injected failures and prompt cache, and move the same counters. A batched
        line skips the rate limit and the latency: the batch queue is not the live API."""
        live = 0 if batched else 1  # a batched line is no HTTP call in flight
        with self._lock:
            self.in_flight += live
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.batched_requests += 1 - live
        try:
            reply = self._next(request, batched=batched)
            slow = self.quirks.slow_modes.get(failures.request_mode(request) or "", 0.0)
            time.sleep((self.latency + reply.delay + slow) * live)
        finally:
            with self._lock:
                self.in_flight -= live
        if reply.raw_body is not None:
            body = reply.raw_body
        elif reply.status == 200:
            cached = self._cached(request)
            completion = completion_body(request, reply, self.quirks, cached)
            body = json.dumps(completion)
            with self._lock:
                self.completions.append(written(completion))
                self.cached_tokens.append(cached)
        else:
            body = json.dumps({"error": {"message": f"HTTP {reply.status}", "type": "fixture"}})
        with self._lock:
            self.status_counts[reply.status] = self.status_counts.get(reply.status, 0) + 1
        return reply.status, dict(reply.headers), body.encode("utf-8")

    def route(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Answer one HTTP request: the Files and Batch APIs, embeddings, and every other
        POST as a chat completion."""
        self.headers_seen.append(headers)
        path, _, query = target.partition("?")
        if batch_server.handles(path):
            return self.batch_api.handle(method, path, query, headers, raw)
        if method != "POST":
            return invalid_url(method, path)
        try:
            request = json.loads(raw)
        except ValueError:
            request = {}
        if path.endswith("/embeddings"):
            with self._lock:
                self.requests.append(request)
                self.embedding_requests += 1
            return 200, {}, json.dumps(embeddings_body(request)).encode()
        return self.answer_chat(request)  # every other POST is a chat completion, as always
