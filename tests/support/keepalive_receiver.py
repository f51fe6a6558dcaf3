"""A real HTTP/1.1 receiver on loopback that keeps connections open, as production receivers do, and
counts them: for the tests of batched delivery over kept connections."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.receivers import answer


@dataclass
class Request:
    path: str
    headers: dict
    body: bytes
    connection: int  # which connection (in the order they were opened) carried it
    local_address: str  # the receiver's address the client connected to
    arrived: float  # time.monotonic()


@dataclass
class KeepAliveReceiver:
    port: int = 0
    host: str = "127.0.0.1"
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    # Answers in order (status, headers); once used up, 200.
    script: list[tuple[int, dict]] = field(default_factory=list)
    delay: float = 0.0  # seconds each request waits before it is answered (a slow receiver)
    close_after_each: bool = False  # drop the connection after answering, without saying so
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hooks/tripline", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"


def _handler(state: KeepAliveReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with state.lock:
                state.connections += 1
                self.number = state.connections

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.lock:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
                state.requests.append(
                    Request(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        connection=self.number,
                        local_address=self.connection.getsockname()[0],
                        arrived=time.monotonic(),
                    )
                )
                status, headers = state.script.pop(0) if state.script else (200, {})
            if state.delay:
                time.sleep(state.delay)
            with state.lock:
                state.in_flight -= 1
            answer(self, status, headers)
            if state.close_after_each:
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def keepalive_receiver(host: str = "127.0.0.1", port: int = 0) -> Iterator[KeepAliveReceiver]:
    """A receiver on ``host`` (a free port unless given), serving on daemon threads until the block ends."""
    state = KeepAliveReceiver(host=host)
    server = ThreadingHTTPServer((host, port), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
