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
"""

from __future__ import annotations

import json
import random
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from summarizer.llm import failures, probe
from summarizer.llm.recordings import FIXTURE_HEADER
from summarizer.testing import batch_server

FIXTURE_NOTE = "summarizer test server: scripted answers, not a live model"


@dataclass
class Reply:
    """One scripted answer. `payload` is what the model 'writes' (dict -> JSON, str -> as is)."""

    payload: Any = None
    status: int = 200
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None  # send exactly this body (for broken answers)
    delay: float = 0.0
    prose: str | None = None  # the model answers in plain text, whatever the mode asked


Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class Quirks:
    """Behaviours of real endpoints, switched on one by one (see the module docstring)."""

    truncate: str | None = None  # finish_reason reported for an answer cut at max_tokens
    refuse: str | None = None  # refusal text
    reject_modes: Collection[str] = ()  # "json_schema" -> 500, "tools" -> 400
    context_window: int | None = None  # prompt tokens allowed
    tool_calls: str = "one"  # "one", "other_first", "parallel", "other_only"
    model_name: str | None = None  # the model name answered (e.g. a dated snapshot)
    usage: bool = True
    usage_values: dict[str, Any] | None = None  # usage fields sent as given (bad counts)
    slow_modes: dict[str, float] = field(default_factory=dict)  # mode -> seconds added
    lowercase_words: bool = False  # the probe's code word comes back in lower case
    drop_system: bool = False
    ignore_tools: bool = False  # answer in content, as chat formats without tool calling do
    prefix_cache: bool = True
    cache_ttl: float = 600.0
    batches: bool = True  # False: /v1/files and /v1/batches are 404, as on Ollama
    batch_steps: int = 2  # retrieves that show the batch still running
    batch_outcome: str = "completed"  # "failed", "expired", "cancelled"
    batch_error_lines: Collection[str] = ()  # custom_ids whose line fails with a 500
    batch_lose_output: bool = False  # the output file is gone (404) when downloaded
    batch_expires_in: int = 24 * 3600  # expires_at, from creation (negative: long past)
    batch_output_padding: int = 0  # bytes of blank lines appended to an output file


CACHE_MIN_TOKENS = 1024
CACHE_STEP_TOKENS = 128
CHARS_PER_TOKEN = 4

# What llama-cpp-python's server says about a response_format it cannot do: HTTP 500 with
# the exception (and, from some versions, the traceback) in the message.
_LLAMA_CPP_500 = {
    "error": {
        "message": (
            "Traceback (most recent call last):\n"
            '  File "/opt/venv/lib/python3.11/site-packages/llama_cpp/server/errors.py", '
            "line 171, in custom_route_handler\n"
            '  File "/opt/venv/lib/python3.11/site-packages/llama_cpp/llama_chat_format.py", '
            "line 612, in chat_completion_handler\n"
            "ValueError: response_format type 'json_schema' is not supported; "
            "use 'text' or 'json_object'"
        ),
        "type": "internal_server_error",
        "param": None,
        "code": None,
    }
}
_TOOLS_400 = {
    "error": {
        "message": "tools are not supported by this model's chat format",
        "type": "invalid_request_error",
        "param": "tools",
        "code": None,
    }
}


def prompt_text(request: dict[str, Any]) -> str:
    """The prompt as the provider sees it for caching: the fixed part (tool or response
    schema) first, then the messages in order."""
    fixed = request.get("tools") or request.get("response_format")
    return json.dumps(fixed) + json.dumps(request.get("messages", []))


def _context_exceeded(window: int, tokens: int) -> dict[str, Any]:
    # OpenAI's own wording and fields for this error.
    return {
        "error": {
            "message": (
                f"This model's maximum context length is {window} tokens. However, your "
                f"messages resulted in {tokens} tokens. Please reduce the length of the messages."
            ),
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }


def _format_unseen(seen: dict[str, Any]) -> bool:
    """An md_json request whose schema the "model" never saw (it was in a dropped system
    message): it cannot know to answer in JSON, and writes prose."""
    if seen.get("tools") or seen.get("response_format"):
        return False
    return not any("json_schema" in str(m.get("content") or "") for m in seen.get("messages", []))


def _probe_reply(request: dict[str, Any], lowercase: bool = False) -> Reply | None:
    """The answer to summarizer's --mode auto probe: the code word, if the 'model' saw the
    message that holds it (the request it is given has no system messages when they are
    dropped)."""
    texts = [str(m.get("content") or "") for m in request.get("messages", [])]
    if not any(probe.MARKER in t for t in texts):
        return None
    seen = any(probe.CODE_WORD in t.split(probe.MARKER)[0] for t in texts)
    word = probe.CODE_WORD.lower() if lowercase else probe.CODE_WORD
    return Reply({"word": word if seen else "I was not told a code word."})


_FENCE = re.compile(r"<<<(ARTICLE-[0-9a-f]+) id=(\w+)[^\n]*>>>\n(.*?)\n<<<END \1>>>", re.DOTALL)


def articles_in(request: dict[str, Any]) -> dict[str, str]:
    """The articles (id -> text) inside a request's user messages."""
    found: dict[str, str] = {}
    for m in request.get("messages", []):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            for _fence, sid, text in _FENCE.findall(m["content"]):
                found.setdefault(sid, text)
    return found


def first_sentence(text: str, limit: int = 160) -> str:
    # The first real paragraph: a short first line is usually the headline.
    para = next((p.strip() for p in text.split("\n") if len(p.strip()) > 60), text.strip())
    end = para.find(". ")
    sentence = para[: end + 1] if 0 < end < limit else para[:limit]
    return sentence.strip()


def _notes(docs: dict[str, str]) -> dict[str, dict[str, Any]] | None:
    """The story prompt sends each article's brief as JSON notes; the brief prompt, text."""
    try:
        return {sid: json.loads(text) for sid, text in docs.items()}
    except ValueError:
        return None


def _story_brief(notes: dict[str, dict[str, Any]]) -> Reply:
    quotes = {
        sid: next((ev["quote"] for row in n.get("stances", []) for ev in row["evidence"]), None)
        for sid, n in notes.items()
    }
    rows = [
        {
            "actor": f"Outlet {sid}",
            "issue": "Main claim",
            "position": "Reports the opening claim.",
            "stance": "neutral",
            "evidence": [{"quote": q, "source_id": sid}],
        }
        for sid, q in quotes.items()
        if q
    ]
    claims = [{"source_id": sid, "claim": "Says so.", "quote": q} for sid, q in quotes.items() if q]
    first = next(iter(notes.values()))
    return Reply(
        {
            "title": f"Story: {first.get('title', '')}"[:120],
            "summary": " ".join(n.get("summary", "") for n in notes.values())[:500],
            "key_points": [kp for n in notes.values() for kp in n.get("key_points", [])][:6],
            "stances": rows,
            "open_questions": [q for n in notes.values() for q in n.get("open_questions", [])][:3],
            "disagreements": [{"topic": "What happened", "kind": "fact", "claims": claims[:2]}]
            if len(claims) >= 2
            else [],
        }
    )


def grounded_brief(request: dict[str, Any]) -> Reply:
    """A valid brief built from the request itself, so its quotes are grounded: from the
    article's first sentence, or for a story, from the notes' own quotes."""
    docs = articles_in(request)
    notes = _notes(docs) if docs else None
    if notes:
        return _story_brief(notes)
    sid, text = next(iter(docs.items()), ("S1", "No article text was found in the request."))
    quote = first_sentence(text)
    return Reply(
        {
            "title": f"Brief: {quote[:60]}",
            "summary": quote,
            "key_points": [quote],
            "stances": [
                {
                    "actor": "The article",
                    "issue": "Main claim",
                    "position": "Reports the opening claim.",
                    "stance": "neutral",
                    "evidence": [{"quote": quote, "source_id": sid}],
                }
            ],
            "open_questions": [
                {
                    "question": "What happens next?",
                    "why_it_matters": "Readers need to know the follow-up.",
                    "what_would_resolve_it": "A later report.",
                }
            ],
        }
    )


EMBEDDING_DIMENSIONS = 64


def embed_text(text: str) -> list[float]:
    """A deterministic stand-in for an embedding: the text's words hashed into 64 signed
    buckets, normalised, so texts sharing words point the same way (not a model's meaning)."""
    import hashlib
    import math

    vec = [0.0] * EMBEDDING_DIMENSIONS
    for word in re.findall(r"\w{3,}", text.lower()):
        h = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big")
        vec[h % EMBEDDING_DIMENSIONS] += 1.0 if h & 1 << 31 else -1.0
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [round(x / norm, 6) for x in vec]


def embeddings_body(request: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's /v1/embeddings answer for `request` (input: a string or a list of them)."""
    texts = request.get("input") or []
    if isinstance(texts, str):
        texts = [texts]
    tokens = sum(max(1, len(str(t)) // CHARS_PER_TOKEN) for t in texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": embed_text(str(t))}
            for i, t in enumerate(texts)
        ],
        "model": request.get("model", "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def completion_body(
    request: dict[str, Any], reply: Reply, quirks: Quirks | None = None, cached: int = 0
) -> dict[str, Any]:
    q = quirks or Quirks()
    args = reply.payload if isinstance(reply.payload, str) else json.dumps(reply.payload)
    prompt_tokens = max(1, len(prompt_text(request)) // CHARS_PER_TOKEN)
    limit = int(request.get("max_tokens") or request.get("max_completion_tokens") or 4096)
    # Characters / 4 overcounts JSON; a scripted answer is never cut unless asked to be.
    completion_tokens = max(1, min(len(args) // CHARS_PER_TOKEN, limit - 1))
    finish = reply.finish_reason
    if q.truncate is not None:
        args = args[: max(1, len(args) // 2)]
        completion_tokens, finish = limit, q.truncate
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if q.refuse is not None:
        message["refusal"] = q.refuse
    elif reply.prose is not None:
        message["content"] = reply.prose
    elif request.get("tools") and not q.ignore_tools:
        name = request["tools"][0]["function"]["name"]
        ours = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": args}}
        other = {
            "id": "call_0",
            "type": "function",
            "function": {"name": "web_search", "arguments": '{"query": "latest news"}'},
        }
        message["tool_calls"] = {
            "one": [ours],
            "other_first": [other, ours],
            "parallel": [other, ours, {**other, "id": "call_2"}],
            "other_only": [other],
        }[q.tool_calls]
        if finish == "stop" and q.truncate is None:
            finish = "tool_calls"
    elif request.get("response_format"):
        message["content"] = args
    else:  # md_json: the answer comes in a fenced block
        message["content"] = f"```json\n{args}\n```"
    body: dict[str, Any] = {
        "id": "chatcmpl-fixture",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": q.model_name or request.get("model", "fixture"),
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
    }
    if q.usage:
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": min(cached, prompt_tokens)},
        }
        for name, value in (q.usage_values or {}).items():
            if name == "cached_tokens":
                body["usage"]["prompt_tokens_details"]["cached_tokens"] = value
            else:
                body["usage"][name] = value
    return body


def _written(completion: dict[str, Any]) -> str:
    """The text the model wrote in a completion: tool-call arguments or content."""
    message = completion["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    return str(calls[0]["function"]["arguments"]) if calls else str(message.get("content") or "")


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections when a client opens many at once
    # (a run at concurrency 16): the dropped SYN is retried a second later, which reads as
    # a slow or failed call. A real endpoint accepts them.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test) leaves a broken pipe: normal here, and
        # not printed. Printing a traceback from this thread would also run ast.parse
        # (3.11's traceback carets) while the main thread compiles a module, which trips
        # CPython 3.11.7's "AST constructor recursion depth mismatch" bug.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


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
        # Prompt-prefix hashes (at 128-token boundaries) -> when last seen: the prompt cache.
        self._prefixes: dict[int, float] = {}
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
        self._server = _Server((host, port), self._handler_class())
        # A short poll interval: shutdown() waits up to one interval, and tests start many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

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
            fault = self._endpoint_fault(request)
            if fault is not None:
                return fault
            if q.drop_system and _format_unseen(seen):
                return Reply(prose="Sure, here is what I found in the text.")
            answer = _probe_reply(seen, q.lowercase_words)
            if answer is not None:
                return answer
            if self.script:
                return self.script.popleft()
        return self.responder(seen)

    def _endpoint_fault(self, request: dict[str, Any]) -> Reply | None:
        """An answer about the request itself: a mode the server cannot do, or a prompt
        longer than its context window."""
        q = self.quirks
        fmt = request.get("response_format")
        if (
            "json_schema" in q.reject_modes
            and isinstance(fmt, dict)
            and fmt.get("type") == "json_schema"
        ):
            return Reply(status=500, raw_body=json.dumps(_LLAMA_CPP_500))
        if "tools" in q.reject_modes and request.get("tools"):
            return Reply(status=400, raw_body=json.dumps(_TOOLS_400))
        if q.context_window is not None:
            tokens = len(prompt_text(request)) // CHARS_PER_TOKEN
            if tokens > q.context_window:
                body = _context_exceeded(q.context_window, tokens)
                return Reply(status=400, raw_body=json.dumps(body))
        return None

    def _cached(self, request: dict[str, Any]) -> int:
        """Prompt tokens served from the simulated prompt cache, and remember this prompt."""
        if not self.quirks.prefix_cache:
            return 0
        text = prompt_text(request)
        tokens = len(text) // CHARS_PER_TOKEN
        bounds = range(CACHE_MIN_TOKENS, tokens + 1, CACHE_STEP_TOKENS)
        keys = [hash(text[: b * CHARS_PER_TOKEN]) for b in bounds]
        with self._lock:
            now = time.monotonic()
            ttl = self.quirks.cache_ttl
            cached = 0
            # Prefixes nest: the first boundary not seen ends the cached part.
            for b, k in zip(bounds, keys, strict=True):
                seen = self._prefixes.get(k)
                if seen is None or now - seen > ttl:
                    break
                cached = b
            for k in keys:
                self._prefixes[k] = now
        return cached

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
                self.completions.append(_written(completion))
                self.cached_tokens.append(cached)
        else:
            body = json.dumps({"error": {"message": f"HTTP {reply.status}", "type": "fixture"}})
        with self._lock:
            self.status_counts[reply.status] = self.status_counts.get(reply.status, 0) + 1
        return reply.status, dict(reply.headers), body.encode("utf-8")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the body waits
            # for the client's delayed ACK of the headers, ~40 ms a call on loopback. Real
            # servers (uvicorn, nginx) set TCP_NODELAY too.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                headers = {"content-type": "application/json", **headers}
                self.send_header("content-type", headers.pop("content-type"))
                self.send_header("content-length", str(len(data)))
                self.send_header(FIXTURE_HEADER, FIXTURE_NOTE)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str, raw: bytes) -> None:
                server.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
                path, _, query = self.path.partition("?")
                if batch_server.handles(path):
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    self._send(*server.batch_api.handle(method, path, query, headers, raw))
                elif method == "POST" and path.endswith("/embeddings"):
                    try:
                        request = json.loads(raw)
                    except ValueError:
                        request = {}
                    with server._lock:
                        server.requests.append(request)
                        server.embedding_requests += 1
                    self._send(200, {}, json.dumps(embeddings_body(request)).encode())
                elif method == "POST":  # every other POST is a chat completion, as always
                    try:
                        request = json.loads(raw)
                    except ValueError:
                        request = {}
                    self._send(*server.answer_chat(request))
                else:
                    self._send(*batch_server.invalid_url(method, path))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self._route("POST", self.rfile.read(length))

            def do_GET(self) -> None:
                self._route("GET", b"")

        return Handler
