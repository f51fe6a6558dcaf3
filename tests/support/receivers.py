"""A real HTTP receiver on 127.0.0.1: records every request and answers from a script."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Answers in order (status, headers); once used up, 200.
    script: list[tuple[int, dict]] = field(default_factory=list)
    # Seconds the first request waits before it is answered (a hanging receiver).
    delay_first: float = 0.0


def answer(handler: BaseHTTPRequestHandler, status: int, headers: dict) -> None:
    """A short answer with the status and headers a receiver's script gives."""
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("content-length", "2")
    handler.end_headers()
    handler.wfile.write(b"ok")


def receiver_start() -> tuple[Receiver, ThreadingHTTPServer]:
    """A receiver on a free port of 127.0.0.1, serving on a daemon thread until shut down."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.requests.append(Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body))
            if len(state.requests) == 1 and state.delay_first:
                time.sleep(state.delay_first)
            status, headers = state.script.pop(0) if state.script else (200, {})
            answer(self, status, headers)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tripline"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server


@pytest.fixture
def receivers():
    """``receivers()`` starts one more receiver; all stop when the test ends."""
    servers = []

    def start() -> Receiver:
        state, server = receiver_start()
        servers.append(server)
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(receivers) -> Receiver:
    return receivers()
