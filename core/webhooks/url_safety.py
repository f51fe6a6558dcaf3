"""Where deliveries may go: globally reachable addresses only, checked at creation and again at send
time; loopback (and plain http) too where WEBHOOK_ALLOW_LOOPBACK allows it, for local receivers.

The address is resolved once and the connection made to that very address, so a DNS answer that
changes between the check and the connection cannot steer a delivery into the private network.
An IPv6 address that carries an IPv4 one (IPv4-mapped or -compatible, 6to4, NAT64, Teredo) is
judged by the IPv4 addresses a translator or tunnel would take the request to.
"""

from __future__ import annotations

import socket
import threading
import time
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

from django.conf import settings

# The blocks IANA's special-purpose registries mark not globally reachable. Python's ``is_global``
# is consulted too, but its table lags the registries in the Python versions we run on (it takes
# 100.100.100.200 and 192.0.0.8 for public). The few anycast service addresses inside these blocks
# that are reachable (PCP, TURN, AMT, ORCHIDv2 ...) never receive webhooks and go with their block.
_IPV4_NOT_GLOBAL: tuple[IPv4Network, ...] = tuple(
    IPv4Network(block)
    for block in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private use
        "100.64.0.0/10",  # shared address space: carrier-grade NAT, cloud metadata services
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link local
        "172.16.0.0/12",  # private use
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # the deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private use
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, with the limited broadcast address
    )
)
# IANA allocates global unicast from 2000::/3 only: outside it lie loopback, unspecified,
# discard-only, unique-local, link-local, site-local, SRv6 SIDs, multicast and unassigned space.
_IPV6_GLOBAL_UNICAST = IPv6Network("2000::/3")
_IPV6_NOT_GLOBAL: tuple[IPv6Network, ...] = tuple(
    IPv6Network(block)
    for block in (
        "2001::/23",  # IETF protocol assignments: benchmarking, ORCHID (Teredo is judged unwrapped)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)

_SIXTOFOUR = ip_network("2002::/16")
_TEREDO = ip_network("2001::/32")
_NAT64_WELL_KNOWN = ip_network("64:ff9b::/96")
_NAT64_LOCAL = ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ip_network("::/96")


class UnsafeUrl(ValueError):
    """The URL cannot be delivered to; the message says why."""


# A worker's DNS answers, by (host, port): (monotonic time it expires, getaddrinfo's answer).
_answers: dict[tuple[str, int], tuple[float, list]] = {}
_answers_lock = threading.Lock()


def _addresses(host: str, port: int, cache_seconds: float) -> list:
    """getaddrinfo's answer, reused for ``cache_seconds`` (0: asked every time). Only the answer is
    kept: what it names is judged afresh by the caller each time."""
    now = time.monotonic()
    if cache_seconds > 0:
        with _answers_lock:
            cached = _answers.get((host, port))
        if cached and cached[0] > now:
            return cached[1]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if cache_seconds > 0:
        with _answers_lock:
            _answers[(host, port)] = (now + cache_seconds, infos)
    return infos


def url_resolve(url: str, *, dns_cache_seconds: float = 0) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) of a URL that may receive deliveries.

    The sender passes ``dns_cache_seconds`` (WEBHOOK_DNS_CACHE_SECONDS) so a burst to one host does
    not ask the resolver at every request; the checks below run on every call all the same.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise UnsafeUrl("Use an https:// URL.")
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_LOOPBACK:
        raise UnsafeUrl("Use an https:// URL; plain http is for local development only.")
    if not parts.hostname:
        raise UnsafeUrl("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeUrl("Put no credentials in the URL; verify the signature instead.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = _addresses(parts.hostname, port, dns_cache_seconds)
    except OSError as exc:
        raise UnsafeUrl(f"The host {parts.hostname!r} does not resolve ({exc.strerror or exc}).") from None
    for *_, sockaddr in infos:
        address = ip_address(sockaddr[0])
        if _allowed(address):
            return parts.scheme, parts.hostname, port, str(address)
    raise UnsafeUrl(
        f"The host {parts.hostname!r} resolves to no globally reachable address (only to private, shared, "
        "loopback, link-local, documentation, reserved or multicast ones, or IPv6 forms wrapping them); "
        "webhooks go to public addresses only."
    )


def _allowed(address: IPv4Address | IPv6Address) -> bool:
    """Whether a delivery may connect to ``address``."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # the connection is made over IPv4, to this address
    if address.is_loopback:
        return settings.WEBHOOK_ALLOW_LOOPBACK
    if isinstance(address, IPv6Address):
        carried = _carried_ipv4(address)
        if carried:
            return all(_globally_reachable(inner) for inner in carried)
    return _globally_reachable(address)


def _globally_reachable(address: IPv4Address | IPv6Address) -> bool:
    if not address.is_global:
        return False
    if isinstance(address, IPv4Address):
        return not any(address in block for block in _IPV4_NOT_GLOBAL)
    return address in _IPV6_GLOBAL_UNICAST and not any(address in block for block in _IPV6_NOT_GLOBAL)


def _carried_ipv4(address: IPv6Address) -> list[IPv4Address]:
    """The IPv4 addresses a request to ``address`` ends up at, where it wraps IPv4 at all."""
    if address in _SIXTOFOUR:
        return [address.sixtofour]
    if address in _TEREDO:
        return list(address.teredo)  # the Teredo server and the client behind its NAT
    if address in _NAT64_WELL_KNOWN or address in _IPV4_COMPATIBLE:
        return [IPv4Address(int(address) & 0xFFFFFFFF)]
    if address in _NAT64_LOCAL:
        return _nat64_readings(int(address))
    return []


def _bits(value: int, start: int, end: int) -> int:
    """Bits ``start`` to ``end`` (exclusive, counted from the left) of a 128-bit address."""
    return (value >> (128 - end)) & ((1 << (end - start)) - 1)


def _nat64_readings(value: int) -> list[IPv4Address]:
    """The IPv4 address under each RFC 6052 prefix length a local NAT64 may use in 64:ff9b:1::/48
    (/96, and /48, /56, /64 where the address fits that layout: bits 64-71 and the suffix zero).
    The operator's choice is not known here, so every reading must pass."""
    readings = [IPv4Address(_bits(value, 96, 128))]
    for prefix in (48, 56, 64):
        head = 64 - prefix  # bits of the IPv4 address before bits 64-71
        tail_end = 72 + 32 - head
        if _bits(value, 64, 72) == 0 and _bits(value, tail_end, 128) == 0:
            readings.append(IPv4Address(_bits(value, prefix, 64) << (32 - head) | _bits(value, 72, tail_end)))
    return readings
