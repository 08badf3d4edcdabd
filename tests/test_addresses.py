"""addresses.py: the address that passed the SSRF check is the one connected to (DNS rebinding).

Two loopback "sites": 127.0.0.2 plays the public web, 127.0.0.1 the private network. The
policy under test treats only 127.0.0.2 as public, and an in-process resolver changes its
answer after the first lookup, as a rebinding DNS server does between check and connect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Iterator

import pytest

from summarizer.errors import InputError
from summarizer.sources.addresses import Address, is_public, public_only_transport
from summarizer.sources.fetch import FetchLimits, fetch, new_client
from summarizer.sources.loader import Loader
from tests.web_server import FIXTURES, Route, WebServer, redirect

LIMITS = FetchLimits(read_timeout=2.0, total_timeout=10.0)
PUBLIC = ipaddress.ip_address("127.0.0.2")


def only_public_site(addr: Address) -> bool:
    return addr == PUBLIC


class Rebinding:
    """Answers `first` for a name's first lookup and `then` for every later one."""

    def __init__(self, first: str, then: str, names: dict[str, str] | None = None) -> None:
        self.first, self.then, self.names = first, then, names or {}
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in self.names:
            return [self.names[host]]
        return [self.first if self.lookups.count(host) == 1 else self.then]


@pytest.fixture
def sites() -> Iterator[tuple[WebServer, WebServer]]:
    # The same port on both addresses, so only the address decides which site answers: a
    # second lookup that returned 127.0.0.1 would reach the private site.
    with WebServer(host="127.0.0.2") as public, WebServer(port=public.port) as private:
        yield public, private


def get(url: str, resolver: Rebinding) -> bytes:
    async def go() -> bytes:
        transport = public_only_transport(resolver=resolver, allowed=only_public_site)
        async with new_client(LIMITS, transport=transport) as client:
            return (await fetch(url, client=client, limits=LIMITS)).content

    return asyncio.run(go())


def test_a_rebinding_answer_never_reaches_the_private_site(
    sites: tuple[WebServer, WebServer],
) -> None:
    public, private = sites
    public.add("/article", Route(body=b"<html><body><p>public page</p></body></html>"))
    private.add("/article", Route(body=b"<html><body><p>SECRET admin page</p></body></html>"))
    resolver = Rebinding(first="127.0.0.2", then="127.0.0.1")
    url = f"http://news.test:{public.port}/article"
    body = get(url, resolver)
    assert b"public page" in body
    assert resolver.lookups == ["news.test"]  # resolved once: checked and connected alike
    assert private.requests == []
    # The Host header is still the name, not the address that was connected to.
    assert public.requests[0][1]["Host"] == f"news.test:{public.port}"


def test_every_redirect_hop_is_checked(sites: tuple[WebServer, WebServer]) -> None:
    public, private = sites
    private.add("/admin", Route(body=b"<html><body><p>SECRET</p></body></html>"))
    public.add("/go", redirect(f"http://intranet.test:{private.port}/admin"))
    resolver = Rebinding(first="127.0.0.2", then="127.0.0.2", names={"intranet.test": "127.0.0.1"})
    url = f"http://news.test:{public.port}/go"
    with pytest.raises(InputError) as err:
        get(url, resolver)
    message = str(err.value)
    assert message.startswith(f"{url} (redirected to http://intranet.test:{private.port}/admin):")
    assert "intranet.test is a private or local address (127.0.0.1)" in message
    assert private.requests == []


def test_tls_keeps_the_server_name_while_connecting_to_the_checked_address() -> None:
    # news_test.pem: a self-signed certificate for news.test only (no IP address in it), so
    # the handshake succeeds only if the name, not 127.0.0.2, is sent and verified.
    server_names: list[str | None] = []
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(FIXTURES / "news_test.pem", FIXTURES / "news_test.key")

    def remember(_sock: object, name: str | None, _ctx: object) -> None:
        server_names.append(name)

    tls.sni_callback = remember  # type: ignore[assignment]
    with WebServer(host="127.0.0.2", tls=tls) as site:
        site.add("/article", Route(body=b"<html><body><p>over TLS</p></body></html>"))
        resolver = Rebinding(first="127.0.0.2", then="127.0.0.1")
        trust = ssl.create_default_context(cafile=str(FIXTURES / "news_test.pem"))

        async def go() -> bytes:
            transport = public_only_transport(
                resolver=resolver, allowed=only_public_site, verify=trust
            )
            async with new_client(LIMITS, transport=transport) as client:
                url = f"https://news.test:{site.port}/article"
                return (await fetch(url, client=client, limits=LIMITS)).content

        assert b"over TLS" in asyncio.run(go())
    assert server_names == ["news.test"]
    assert resolver.lookups == ["news.test"]


def test_default_policy_refuses_local_and_mapped_addresses() -> None:
    for text in ("127.0.0.1", "10.0.0.8", "169.254.169.254", "::1", "::ffff:127.0.0.1", "fc00::1"):
        assert not is_public(ipaddress.ip_address(text)), text
    for text in ("93.184.216.34", "2606:4700::1111"):
        assert is_public(ipaddress.ip_address(text)), text


def test_the_service_loader_refuses_a_loopback_literal(sites: tuple[WebServer, WebServer]) -> None:
    _, private = sites
    url = private.add("/a", Route(body=b"<html><body><p>x</p></body></html>"))

    async def go() -> None:
        async with Loader(limits=LIMITS, public_only=True) as loader:
            await loader.page(url)

    with pytest.raises(InputError, match=r"127\.0\.0\.1 is a private or local address"):
        asyncio.run(go())
    assert private.requests == []
