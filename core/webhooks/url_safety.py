"""Where deliveries may go: public addresses only, checked at creation and again at send time.

The address is resolved once and the connection made to that very address, so a DNS answer that
changes between the check and the connection cannot steer a delivery into the private network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeUrl(ValueError):
    """The URL cannot be delivered to; the message says why."""


def url_resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) of a URL that may receive deliveries."""
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
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeUrl(f"The host {parts.hostname!r} does not resolve ({exc.strerror or exc}).") from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if _allowed(address):
            return parts.scheme, parts.hostname, port, str(address)
    raise UnsafeUrl(
        f"The host {parts.hostname!r} resolves to a loopback, private, link-local or multicast address; "
        "webhooks go to public addresses only."
    )


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if address.is_loopback:
        return settings.WEBHOOK_ALLOW_LOOPBACK
    return not (
        address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
