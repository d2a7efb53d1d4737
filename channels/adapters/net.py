"""Outbound connections that cannot be pointed inside the network.

A channel account's API address and a product's image link are the merchant's input, and our
calls carry the merchant's access token. Every connection therefore resolves the host itself
and connects only to a public address: private, loopback, link-local (cloud metadata),
shared, multicast and reserved ranges are refused when the socket is opened — not only when
the address is saved — so a host name that later resolves inward is refused too. Loopback is
let through only where the sandbox runs on this machine (`allow_loopback`).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl

import httpcore
import httpx


class AddressRefused(httpcore.ConnectError):
    """The host resolves to an address we never connect to."""


# Loopback is the sandbox's address in development, tests and the demo; the channels app
# sets this from SANDBOX_ENABLED when Django starts.
_LOOPBACK_ALLOWED = False


def allow_loopback(allowed: bool) -> None:
    global _LOOPBACK_ALLOWED
    _LOOPBACK_ALLOWED = bool(allowed)


def loopback_allowed() -> bool:
    return _LOOPBACK_ALLOWED


def refused(exc: BaseException) -> bool:
    """Whether an httpx error comes from a refused address (httpx wraps httpcore's errors)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, AddressRefused):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool = False) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 reaches this machine too
        return allow_loopback
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_unspecified)


class GuardedBackend(httpcore.SyncBackend):
    def __init__(self, *, allow_loopback: bool = False):
        self.allow_loopback = allow_loopback

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError("the host name does not resolve") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        # Every address the name resolves to must be allowed: a name that mixes a public and
        # an inward address is refused rather than tried address by address.
        if not addresses or not all(address_allowed(ip, allow_loopback=self.allow_loopback) for ip in addresses):
            raise AddressRefused("the host resolves to an address that is not allowed")
        # Connect to the address just checked (not the name, which could resolve elsewhere
        # now); TLS still verifies the certificate against the host name.
        return super().connect_tcp(str(addresses[0]), port, timeout, local_address, socket_options)


@functools.cache
def verifying_ssl_context() -> ssl.SSLContext:
    """The certificate-verifying TLS context every outbound client shares: loading the CA
    bundle takes ~20 ms, which a client made per batch of orders would pay each time."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_loopback: bool = False, **kwargs):
        kwargs.setdefault("verify", verifying_ssl_context())
        super().__init__(**kwargs)
        self._pool._network_backend = GuardedBackend(allow_loopback=allow_loopback)
