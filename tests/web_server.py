"""A loopback HTTP server for the fetch, extract, feed and source tests.

    with WebServer() as web:
        web.add("/a", Route(body=b"<html>...", headers={"Content-Type": "text/html"}))
        web.add("/old", redirect("/a"))
        url = web.url("/a")

Routes are path -> Route(status, headers, body); a Route can also sleep before answering,
drip its body slowly, or stream a huge body that never ends unless the client hangs up.
Every request is logged (path, headers), and each route counts the bytes it really sent,
so a test can prove the client stopped reading early.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "web"

HTML = "text/html; charset=utf-8"


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": HTML})
    body: bytes = b""
    delay: float = 0.0  # seconds to sleep before the status line
    drip: float = 0.0  # seconds between 1-byte writes of the body
    stream_bytes: int = 0  # when set, send this many bytes of filler without Content-Length
    sent: int = 0  # body bytes actually written, filled in by the server


def page(name: str, content_type: str = HTML, **kwargs: object) -> Route:
    """A route serving a fixture file from tests/fixtures/web."""
    body = (FIXTURES / name).read_bytes()
    return Route(headers={"Content-Type": content_type}, body=body, **kwargs)  # type: ignore[arg-type]


def redirect(location: str, status: int = 302) -> Route:
    return Route(status=status, headers={"Location": location})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        web = self.server.web
        with web.lock:
            web.requests.append((self.path, dict(self.headers.items())))
            web.connections.add(self.client_address)
        route = web.routes.get(self.path.split("?")[0])
        if route is None:
            route = Route(status=404, body=b"<html><body><h1>Not found</h1></body></html>")
        if route.delay:
            time.sleep(route.delay)
        try:
            self._answer(route)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up, as the limit tests want

    def _answer(self, route: Route) -> None:
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.stream_bytes:
            # No Content-Length: the body ends when the connection closes (HTTP/1.1 allows it).
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
            chunk = b"<p>" + b"filler text " * 5000 + b"</p>\n"
            while route.sent < route.stream_bytes:
                self.wfile.write(chunk)
                route.sent += len(chunk)
            return
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        if route.drip:
            for i in range(len(route.body)):
                self.wfile.write(route.body[i : i + 1])
                self.wfile.flush()
                route.sent += 1
                time.sleep(route.drip)
        else:
            self.wfile.write(route.body)
            route.sent += len(route.body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A handler still sleeping for a timeout test must not hold up shutdown.
    block_on_close = False
    web: WebServer

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients here hang up on purpose (limits, refused types, timeouts); only report
        # anything else.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class WebServer:
    def __init__(
        self,
        routes: dict[str, Route] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.connections: set[tuple[str, int]] = set()
        self.lock = threading.Lock()
        # Any 127.x.y.z is loopback on Linux: a second host lets a test tell two "sites" apart
        # by address alone (the DNS rebinding tests).
        self.host = host
        self._httpd = _Server((host, port), _Handler)
        self._httpd.web = self
        self.scheme = "https" if tls else "http"
        if tls is not None:  # HTTPS: the handshake happens as each connection is accepted
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        # A short poll interval keeps shutdown (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}:{self._httpd.server_port}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_port)

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def __enter__(self) -> WebServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def closed_port_url(path: str = "/") -> str:
    """A loopback URL nothing listens on: bind a port, then free it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
