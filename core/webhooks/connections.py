"""Keep-alive connections to endpoints, reused only while the address guard still approves them.

Every send runs the guard first (``url_resolve``; the host's DNS answer may be reused for
WEBHOOK_DNS_CACHE_SECONDS, what it names is judged every time). Idle connections are kept per
(scheme, host, port, approved address): a connection is handed out only for the address the guard
approves at this send, so one made before the host moved (or became unsafe) is never written to
again. Idle ones are dropped after WEBHOOK_KEEPALIVE_SECONDS, below the usual receiver's own idle
timeout; a kept connection the receiver closed anyway is retried once on a new one.

One pool per worker process (a prefork child forks before it sends anything), shared by the
sending threads of its tasks.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings

from core.webhooks.url_safety import url_resolve

RESPONSE_KEPT_BYTES = 4096
# A longer answer is not read to its end to keep the connection: it is closed instead.
RESPONSE_DRAINED_BYTES = 65536
IDLE_KEPT_PER_ADDRESS = 16

_Key = tuple[str, str, int, str]  # scheme, host, port, approved address


def _socket(address: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((address, port), timeout)
    # http.client writes the headers and the body separately: on a kept connection Nagle's algorithm
    # would hold the body back until the receiver's delayed ACK, 40 ms a request (urllib3 sets it too).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the address the safety check approved, with the URL's host for TLS and Host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        self.sock = self._context.wrap_socket(
            _socket(self._address, self.port, self.timeout), server_hostname=self.host
        )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _socket(self._address, self.port, self.timeout)


class ConnectionPool:
    """Idle keep-alive connections by the address they were made to; thread-safe."""

    def __init__(self) -> None:
        self._idle: dict[_Key, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()
        self._swept = 0.0
        self.opened = 0  # connections made, for the tests and the bench

    def take(self, key: _Key) -> http.client.HTTPConnection | None:
        """A kept connection to this very address, or None."""
        now, stale = time.monotonic(), []
        found = None
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                since, connection = idle.pop()
                if now - since < settings.WEBHOOK_KEEPALIVE_SECONDS:
                    found = connection
                    break
                stale.append(connection)
            if now - self._swept > 1.0:
                stale += self._expired(now)
        for connection in stale:
            connection.close()
        return found

    def _expired(self, now: float) -> list[http.client.HTTPConnection]:
        """Take out the idle connections past their time at every address (one the guard no longer
        leads to is never asked for again), under the lock."""
        self._swept = now
        expired = []
        for key in list(self._idle):
            kept = [(since, c) for since, c in self._idle[key] if now - since < settings.WEBHOOK_KEEPALIVE_SECONDS]
            expired += [c for since, c in self._idle[key] if now - since >= settings.WEBHOOK_KEEPALIVE_SECONDS]
            if kept:
                self._idle[key] = kept
            else:
                del self._idle[key]
        return expired

    def give_back(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < IDLE_KEPT_PER_ADDRESS:
                idle.append((time.monotonic(), connection))
                return
        connection.close()

    def new(self, key: _Key) -> http.client.HTTPConnection:
        scheme, host, port, address = key
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        with self._lock:
            self.opened += 1
        return connection_class(host, port, address, settings.WEBHOOK_TIMEOUT_SECONDS)

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for _, connection in connections:
                connection.close()


POOL = ConnectionPool()


def _exchange(connection: http.client.HTTPConnection, path: str, headers: dict, body: bytes) -> tuple:
    """One request and its answer: (status, headers, kept text, whether the connection may be reused)."""
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    text = response.read(RESPONSE_KEPT_BYTES).decode("utf-8", "replace")
    if not response.isclosed():
        response.read(RESPONSE_DRAINED_BYTES)  # the rest must be read before the next request
    reusable = response.isclosed() and not response.will_close and connection.sock is not None
    return response.status, {k.lower(): v for k, v in response.getheaders()}, text, reusable


def post(url: str, headers: dict, body: bytes) -> tuple[int, dict, str]:
    """POST to the address the guard approves now, over a kept connection to it if there is one.

    Raises UnsafeUrl (nothing sent), OSError or HTTPException.
    """
    key = url_resolve(url, dns_cache_seconds=settings.WEBHOOK_DNS_CACHE_SECONDS)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = POOL.take(key)
    reused = connection is not None
    if connection is None:
        connection = POOL.new(key)
    try:
        try:
            status, response_headers, text, reusable = _exchange(connection, path, headers, body)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            # The receiver closed the kept connection while it was idle: once more, on a new one.
            # Should it have taken the request after all, the receiver sees the same webhook-id twice,
            # which at-least-once allows.
            connection.close()
            connection = POOL.new(key)
            status, response_headers, text, reusable = _exchange(connection, path, headers, body)
    except BaseException:
        connection.close()
        raise
    if reusable:
        POOL.give_back(key, connection)
    else:
        connection.close()
    return status, response_headers, text
