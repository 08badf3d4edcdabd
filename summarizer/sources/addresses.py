"""Which addresses a fetch may reach, and connecting only to the one that was checked.

The HTTP API and the Slack bot fetch URLs that strangers send, so they must not reach
the machine's own network (loopback, private, link-local, reserved: SSRF). Checking a
host's address and then letting the HTTP library resolve it again leaves a gap: a DNS
answer that changes in between (DNS rebinding) sends the connection somewhere the check
never saw. So the check lives in the network backend, where the connection is made:

    transport = public_only_transport(limits)        # an httpx2 transport
    client = httpx2.AsyncClient(transport=transport)  # fetch.new_client(public_only=True)

`PinnedBackend.connect_tcp(host, port)` resolves `host` once, refuses it when any of its
addresses is not public, and opens the TCP connection to one of those very addresses.
httpcore still knows the connection by its hostname, so the Host header and the TLS
server name (SNI, and certificate checking) stay the hostname's. Every redirect hop makes
its own connection (or reuses one to an origin already checked), so each hop is checked.

Proxies are not used on such a client: through a proxy the proxy resolves the name, and
no check here could hold.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import httpcore2
import httpx2

from summarizer.errors import InputError

if TYPE_CHECKING:
    from summarizer.sources.fetch import FetchLimits

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# The connection pool of every article-fetching client (fetch.new_client), pinned or not.
CONNECTION_LIMITS = httpx2.Limits(max_connections=20, max_keepalive_connections=10)
#: host, port -> the addresses to connect to (as strings), in order of preference.
Resolver = Callable[[str, int], Awaitable[list[str]]]


def is_public(addr: Address) -> bool:
    """True for a globally routable unicast address; IPv4-mapped IPv6 is judged as IPv4."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return addr.is_global and not addr.is_multicast


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's answer for `host` (what the connection would otherwise have used)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # "%eth0" scope ids are dropped: a scoped address is link-local, refused anyway.
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


class PinnedBackend(httpcore2.AsyncNetworkBackend):
    """Resolve once, check every address, connect to a checked one (see module docstring)."""

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        allowed: Callable[[Address], bool] = is_public,
        inner: httpcore2.AsyncNetworkBackend | None = None,
    ) -> None:
        self.resolver = resolver
        self.allowed = allowed
        self.inner = inner or httpcore2.AnyIOBackend()

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses of `host`; InputError when any is not allowed (fetch puts
        the URL in front of the message)."""
        try:
            literal: Address | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            found = [str(literal)]
        else:
            try:
                found = await self.resolver(host, port)
            except OSError as exc:
                raise httpcore2.ConnectError(f"host {host} not found ({exc})") from exc
            if not found:
                raise httpcore2.ConnectError(f"host {host} not found")
        for text in found:
            if not self.allowed(ipaddress.ip_address(text)):
                raise InputError(
                    f"{host} is a private or local address ({text}); "
                    "the service only fetches public pages"
                )
        return found

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                found = await self.addresses(host, port)
        except TimeoutError:
            raise httpcore2.ConnectTimeout(f"resolving {host} timed out") from None
        last: Exception | None = None
        for address in found:  # the addresses that were checked, and only those
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise InputError(f"{path}: unix sockets are local; refused")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PinnedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's own transport with its connection pool on a PinnedBackend.

    httpx2.AsyncHTTPTransport takes no network backend, so the pool is built here with the
    same settings it would have had; everything else (exception mapping, streaming) is
    httpx2's.
    """

    def __init__(
        self,
        limits: httpx2.Limits,
        backend: PinnedBackend,
        verify: ssl.SSLContext | str | bool = True,
    ) -> None:
        # Not super().__init__(): it would build a pool (and an SSL context) only to be
        # thrown away. handle_async_request, aclose and the context manager use _pool only.
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def public_only_transport(
    limits: FetchLimits | None = None,
    *,
    resolver: Resolver = system_resolver,
    allowed: Callable[[Address], bool] = is_public,
    verify: ssl.SSLContext | str | bool = True,
) -> PinnedTransport:
    """A transport that connects only to public addresses, checked and pinned per hop.

    `verify` is httpx2's: True (the system's CAs), a CA bundle path, or an SSLContext.
    """
    backend = PinnedBackend(resolver=resolver, allowed=allowed)
    return PinnedTransport(CONNECTION_LIMITS, backend, verify)
