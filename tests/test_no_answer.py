""" "Cannot reach" means cannot reach (issue 19.10): refused, timed out, dropped mid-answer
and an unreadable answer are told apart, each with its number of attempts, against a
loopback server that does each of them."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from summarizer.config import load_settings
from summarizer.core.pipeline import brief_documents
from summarizer.errors import ProviderUnreachable, SummarizerError, UnreadableAnswer
from summarizer.llm.client import is_local
from summarizer.sources.ingest import Document

Behaviour = Callable[[socket.socket], None]


@contextmanager
def raw_server(behaviour: Behaviour) -> Iterator[tuple[str, list[int]]]:
    """A loopback server that reads each request's head, then does `behaviour` with the
    connection; yields its base URL and a list counting the connections it accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[int] = []
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            behaviour(conn)

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1", accepted
    finally:
        stop.set()
        listener.close()


def drop_at_once(conn: socket.socket) -> None:
    conn.shutdown(socket.SHUT_RDWR)


def drop_mid_answer(conn: socket.socket) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n"
        b'{"id": "chatcmpl-1", "choices": [{"index": 0, "message": {"role": "assis'
    )
    conn.shutdown(socket.SHUT_RDWR)


def html_page(conn: socket.socket) -> None:
    body = b"<html><body>Welcome to nginx!</body></html>"
    conn.sendall(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: %d\r\n\r\n%s"
        % (len(body), body)
    )


def never_answer(conn: socket.socket) -> None:
    while conn.recv(65536):  # read the body, then wait until the client gives up
        pass


def _brief(base_url: str, **settings: object) -> SummarizerError:
    s = load_settings(base_url=base_url, **settings)
    with pytest.raises(SummarizerError) as err:
        asyncio.run(brief_documents([Document(text="The port reopened on Monday.")], s))
    return err.value


@pytest.mark.parametrize("behaviour", [drop_at_once, drop_mid_answer])
def test_a_dropped_connection_is_not_called_unreachable(behaviour: Behaviour) -> None:
    with raw_server(behaviour) as (url, accepted):
        err = _brief(url, http_retries=2)
    assert isinstance(err, ProviderUnreachable) and err.how == "dropped" and err.exit_code == 6
    message = str(err)
    assert "accepted the connection and dropped it" in message and "(3 attempts)" in message
    assert "cannot reach" not in message and "is running" not in message
    assert len(accepted) == 3


def test_refused_says_refused_with_its_attempts() -> None:
    with raw_server(drop_at_once) as (url, _):
        pass  # closed: nothing listens on its port any more
    err = _brief(url, http_retries=1)
    assert isinstance(err, ProviderUnreachable) and err.how == "refused"
    assert "connection refused (2 attempts)" in str(err) and "server is running" in str(err)


def test_an_answer_that_is_not_a_completion_is_unreadable_not_the_models_fault() -> None:
    with raw_server(html_page) as (url, accepted):
        err = _brief(url, http_retries=1)
    assert isinstance(err, UnreadableAnswer) and err.exit_code == 6
    message = str(err)
    assert "answered HTTP 200 with no chat completion" in message
    assert "Welcome to nginx" in message and "(2 attempts)" in message
    assert "gave no valid brief" not in message and len(accepted) == 2


def test_a_timeout_on_a_local_server_is_not_retried_and_names_max_tokens() -> None:
    with raw_server(never_answer) as (url, accepted):
        err = _brief(url, http_retries=2, timeout=0.3)
    assert isinstance(err, ProviderUnreachable) and err.how == "timeout"
    message = str(err)
    assert "timed out after 0.3s (1 attempt)" in message
    assert "lower --max-tokens" in message and "not retried" in message
    assert len(accepted) == 1  # no retry queued behind the abandoned answer


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://localhost:11434/v1", True),
        ("http://192.168.1.20:8000/v1", True),
        ("http://[::1]:8080/v1", True),
        ("http://llama:8080/v1", True),
        ("https://api.openai.com/v1", False),
        ("https://8.8.8.8/v1", False),
        (None, False),
    ],
)
def test_which_endpoints_are_local(url: str | None, local: bool) -> None:
    assert is_local(url) is local
