"""A loopback OpenAI-compatible server for tests, benchmarks and offline demos.

It speaks `POST /v1/chat/completions` over real HTTP, so the real SDK, the real instructor
and the real transport are exercised. Answers come from a script (a queue of `Reply`s)
and, when the script is empty, from a responder function. It can add fixed latency,
enforce a requests-per-window limit with 429 + Retry-After (`rpm_limit` per `window`
seconds, 60 by default), and inject 429 and 500 answers at random (`fail_rates`, from a
seeded RNG so a run is repeatable). Counters say what it saw: requests and their arrival
times, answers by status, injected failures, calls in flight at once, and what it wrote.

Every answer carries the `x-summarizer-fixture` header: a recording made against this
server is marked as fixture output, never as a live model's.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from summarizer.llm.recordings import FIXTURE_HEADER

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


Responder = Callable[[dict[str, Any]], Reply]

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


def completion_body(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    args = reply.payload if isinstance(reply.payload, str) else json.dumps(reply.payload)
    prompt_tokens = max(1, len(json.dumps(request.get("messages", []))) // 4)
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if request.get("tools"):
        name = request["tools"][0]["function"]["name"]
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": args}}
        ]
    elif request.get("response_format"):
        message["content"] = args
    else:  # md_json: the answer comes in a fenced block
        message["content"] = f"```json\n{args}\n```"
    return {
        "id": "chatcmpl-fixture",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fixture"),
        "choices": [{"index": 0, "finish_reason": reply.finish_reason, "message": message}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": max(1, len(args) // 4),
            "total_tokens": prompt_tokens + max(1, len(args) // 4),
        },
    }


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


class FakeOpenAI:
    """Run with `with FakeOpenAI() as server: server.base_url`."""

    def __init__(
        self,
        responder: Responder = grounded_brief,
        *,
        latency: float = 0.0,
        rpm_limit: int | None = None,
        host: str = "127.0.0.1",
        window: float = 60.0,
        fail_rates: dict[int, float] | None = None,
        seed: int = 0,
    ) -> None:
        self.responder = responder
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
        self._lock = threading.Lock()
        self._server = _Server((host, 0), self._handler_class())
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

    def _next(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            now = time.monotonic()
            self.requests.append(request)
            self.request_times.append(now)
            if self.rpm_limit is not None:
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
            if self.script:
                return self.script.popleft()
        return self.responder(request)

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

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                server.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
                try:
                    request = json.loads(raw)
                except ValueError:
                    request = {}
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    reply = server._next(request)
                    time.sleep(server.latency + reply.delay)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                if reply.raw_body is not None:
                    body = reply.raw_body
                elif reply.status == 200:
                    completion = completion_body(request, reply)
                    body = json.dumps(completion)
                    with server._lock:
                        server.completions.append(_written(completion))
                else:
                    body = json.dumps(
                        {"error": {"message": f"HTTP {reply.status}", "type": "fixture"}}
                    )
                data = body.encode("utf-8")
                with server._lock:
                    server.status_counts[reply.status] = (
                        server.status_counts.get(reply.status, 0) + 1
                    )
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header(FIXTURE_HEADER, FIXTURE_NOTE)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler
