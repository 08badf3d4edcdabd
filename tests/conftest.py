"""Test harness: no test reaches the network or reads the user's configuration.

Any connection to a non-loopback address fails the test at once (it never hangs), and
the environment is scrubbed of OPENAI_* / SUMMARIZER_* so a developer's real key or
config file cannot leak into, or change, a test.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from summarizer.testing.openai_server import FakeOpenAI
from tests.pg import pg_url
from tests.web_server import WebServer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_ARTICLE = SEEDS / "haftar-turkiye-visit.txt"


class NetworkBlocked(AssertionError):
    pass


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guard_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    # A unix socket (e.g. multiprocessing's fork server) is on this machine by definition.
    if self.family != socket.AF_UNIX and not _is_loopback(host):
        raise NetworkBlocked(f"test tried to reach {address!r}: tests must stay on loopback")
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guard_connect_ex(self: socket.socket, address: object) -> int:
    host = address[0] if isinstance(address, tuple) else address
    if self.family != socket.AF_UNIX and not _is_loopback(host):
        raise NetworkBlocked(f"test tried to reach {address!r}: tests must stay on loopback")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _guard_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not _is_loopback(name):
        raise NetworkBlocked(f"test tried to resolve {name!r}: tests must stay on loopback")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guard_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guard_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guard_getaddrinfo)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "SUMMARIZER_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def web() -> Iterator[WebServer]:
    """A loopback web server for the fetching and feed tests (tests/web_server.py)."""
    with WebServer() as server:
        yield server


# PostgreSQL: `pg_url` (a throwaway database, from tests/pg.py) and `store_target`.


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where to open a store, once per backend: the conformance suite runs on both."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    url: str = request.getfixturevalue("pg_url")
    return url


__all__ = ["pg_url"]  # re-exported so pytest sees the fixture in every test module
