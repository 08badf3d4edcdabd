"""The loopback server's HTTP plumbing: a threaded server on a free port that answers
every GET and POST through one route function, each answer marked as fixture output."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from summarizer.llm.recordings import FIXTURE_HEADER
from summarizer.testing.wire import Answer

FIXTURE_NOTE = "summarizer test server: scripted answers, not a live model"

# (method, path with its query, headers with lower-case names, body) -> the answer.
Route = Callable[[str, str, dict[str, str], bytes], Answer]


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


def _handler_class(route: Route) -> type[BaseHTTPRequestHandler]:
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

        def _answer(self, method: str, body: bytes) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*route(method, self.path, headers, body))

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self._answer("POST", self.rfile.read(length))

        def do_GET(self) -> None:
            self._answer("GET", b"")

    return Handler


class Loopback:
    """A server on (host, port), port 0 for any free one, run on a daemon thread between
    `start()` and `stop()`."""

    def __init__(self, route: Route, host: str, port: int) -> None:
        self._server = _Server((host, port), _handler_class(route))
        # A short poll interval: shutdown() waits up to one interval, and tests start many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
