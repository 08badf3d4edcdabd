"""Loopback servers for the front-door tests (HTTP API and Slack bot).

    with FakeSlack() as slack:                 # the Slack Web API, on 127.0.0.1
        slack.url                              # -> SUMMARIZER_SLACK_API_URL
        slack.wait_for(lambda: slack.posts)    # poll until the bot has posted
    with LiveServer(app) as server:            # a real uvicorn serving an ASGI app
        server.url

FakeSlack answers `POST /api/<method>` as Slack does (auth.test, chat.postMessage) and
records every call; `POST /response/<id>` stands for a slash command's response_url; and
`GET /pages/<name>` serves article pages, so URL briefs never leave loopback either.
`check_message()` holds a posted message to Slack's Block Kit limits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from summarizer.render.slack import (
    MAX_BLOCKS,
    MAX_CONTEXT_CHARS,
    MAX_HEADER_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_CHARS,
    block_chars,
)

BOT_TOKEN = "xoxb-test-0000-SECRET"
SIGNING_SECRET = "test-signing-secret-0123456789"


@dataclass
class Call:
    method: str
    payload: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeSlack:
    fail: dict[str, str] = field(default_factory=dict)  # channel -> Slack error code
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (type, body)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    throttle: int = 0  # answer this many chat.postMessage calls with 429 + Retry-After
    throttled: int = 0

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._ts = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def page_url(self, name: str) -> str:
        return f"{self.base}/pages/{name}"

    @property
    def posts(self) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == "chat.postMessage"]

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked on every recorded call)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s; calls: {self.calls}")
                self._cond.wait(left)

    def _record(self, method: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
        with self._cond:
            if method == "response_url":
                self.responses.append(payload)
            else:
                self.calls.append(Call(method, payload, headers))
            self._cond.notify_all()

    def _answer(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Test",
                "user": "summarizer",
                "team_id": "T0001",
                "user_id": "UBOT",
                "bot_id": "B0001",
            }
        if method == "chat.postMessage":
            channel = str(payload.get("channel"))
            if channel in self.fail:
                return {"ok": False, "error": self.fail[channel]}
            with self._cond:
                self._ts += 1
                ts = f"1700000000.{self._ts:06d}"
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                name = self.path.removeprefix("/pages/")
                if name in fake.pages:
                    ctype, body = fake.pages[name]
                    self._send(200, body, ctype)
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                ctype = self.headers.get("content-type", "")
                if "json" in ctype:
                    payload = json.loads(raw or b"{}")
                else:
                    payload = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                if isinstance(payload.get("blocks"), str):
                    payload["blocks"] = json.loads(payload["blocks"])
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.startswith("/response/"):
                    fake._record("response_url", payload, headers)
                    self._send(200, b"ok", "text/plain")
                    return
                method = self.path.removeprefix("/api/").split("?")[0]
                if method == "chat.postMessage" and fake.throttle > 0:
                    fake.throttle -= 1
                    fake.throttled += 1
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    body = b'{"ok": false, "error": "ratelimited"}'
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                answer = fake._answer(method, payload)
                fake._record(method, payload, headers)
                self._send(200, json.dumps(answer).encode(), "application/json")

        return Handler


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    """The headers Slack sends with a request: v0 HMAC-SHA256 over 'v0:ts:body'."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={mac}"}


_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
_ANGLE = re.compile(r"<(?!https?://[^|<>\s]+\|[^<>]*>)")


def check_message(message: dict[str, Any]) -> None:
    """Assert a chat.postMessage payload is valid Block Kit within Slack's limits, and that
    its mrkdwn holds no live markup but links (no <!channel>, no stray & < >)."""
    blocks = message["blocks"]
    assert message["text"].strip(), "fallback text is required"
    assert 1 <= len(blocks) <= MAX_BLOCKS
    total = len(message["text"])
    for block in blocks:
        kind = block["type"]
        assert kind in {"header", "section", "context", "divider"}, kind
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= MAX_HEADER_CHARS
        texts: list[str] = []
        if kind == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_CHARS
            texts.append(block["text"]["text"])
        if kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            for el in block["elements"]:
                assert el["type"] == "mrkdwn" and 0 < len(el["text"]) <= MAX_CONTEXT_CHARS
                texts.append(el["text"])
        for text in [*texts, message["text"]]:
            assert not _ENTITY.search(text), f"unescaped & in {text[:200]!r}"
            assert not _ANGLE.search(text), f"unescaped < in {text[:200]!r}"
            bare = _QUOTE_MARK.sub("", _LINKS.sub("", text))
            assert ">" not in bare, f"unescaped > in {text[:200]!r}"
        total += block_chars(block)
    assert total <= MAX_MESSAGE_CHARS, total


_LINKS = re.compile(r"<https?://[^|<>\s]+\|[^<>]*>")
_QUOTE_MARK = re.compile(r"^> ", re.MULTILINE)  # mrkdwn's block quote: markup of our own


class LiveServer:
    """Serve an ASGI app with uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: Any, config: Any = None) -> None:
        import uvicorn

        config = config or uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.005)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
