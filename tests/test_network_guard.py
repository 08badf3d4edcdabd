"""The guard itself: a test that tries the internet fails fast instead of hanging."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import NetworkBlocked


def test_public_address_is_refused() -> None:
    s = socket.socket()
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("93.184.216.34", 80))
    finally:
        s.close()


def test_private_range_and_names_are_refused() -> None:
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("api.openai.com", 443)
    s = socket.socket()
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("10.0.0.1", 80))
    finally:
        s.close()


def test_loopback_is_allowed(fake_openai) -> None:
    host, port = fake_openai.base_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=2):
        pass
