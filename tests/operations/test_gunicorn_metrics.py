"""gunicorn as deployed (DEBUG off, two workers, the checkout's gunicorn.conf.py): /metrics sums what
every worker counted, keeps the counts of workers that exited, and the request lines are JSON.

Which worker answers a request is the kernel's choice; the sum over the workers is not.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from tests.support.celery_worker import worker_database_url
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = secrets.token_urlsafe(24)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, port: int) -> None:
        self.port = port
        self.answered = 0  # requests to /healthz that were answered

    def get(self, path: str, **headers: str) -> tuple[int, bytes]:
        # Long enough for a worker still booting on a loaded machine: a request given up on the
        # client's side would still be counted by the server, and the sums below would differ by it.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def health(self) -> bool:
        try:
            status, _ = self.get("/healthz")
        except OSError:
            return False
        self.answered += 1
        return status == 200

    def healthz_counted(self) -> float:
        status, body = self.get("/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200, body
        return sum(
            sample.value
            for family in text_string_to_metric_families(body.decode())
            for sample in family.samples
            if sample.name == "tripline_http_requests_total" and sample.labels["route"] == "/healthz"
        )


@pytest.fixture
def gunicorn(tmp_path):
    multiproc = tmp_path / "metrics"
    multiproc.mkdir()
    port = _free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="core.settings.main",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=worker_database_url(),
        REDIS_URL=settings.REDIS_URL,
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),  # its own: the sums are this server's alone
        METRICS_TOKEN=TOKEN,
    )
    env.pop("LOG_FORMAT", None)
    log_path = tmp_path / "gunicorn.log"
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "core.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
    ]
    with open(log_path, "w") as log:
        master = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        server = Server(port)
        server.master, server.log_path = master, log_path
        try:
            wait_for(lambda: master.poll() is not None or server.health(), "gunicorn answering", timeout=60, pause=0.2)
            assert master.poll() is None, log_path.read_text()
            yield server
        finally:
            master.send_signal(signal.SIGTERM)
            try:
                master.wait(timeout=30)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()


def _workers(master: subprocess.Popen) -> set[int]:
    return {child.pid for child in psutil.Process(master.pid).children()}


def test_metrics_sum_every_worker_and_keep_the_counts_of_workers_that_exited(gunicorn) -> None:
    for _ in range(20):
        assert gunicorn.health()
    assert gunicorn.healthz_counted() == gunicorn.answered
    assert len(os.listdir(Path(gunicorn.log_path).parent / "metrics")) >= 1

    # A reload replaces both workers: what the old ones counted stays in the sum.
    old = _workers(gunicorn.master)
    assert len(old) == 2
    gunicorn.master.send_signal(signal.SIGHUP)
    wait_for(lambda: len(new := _workers(gunicorn.master)) == 2 and not (new & old), "new gunicorn workers", timeout=60)
    wait_for(gunicorn.health, "a new worker answering", timeout=60, pause=0.2)
    for _ in range(5):
        assert gunicorn.health()
    assert gunicorn.healthz_counted() == gunicorn.answered

    # With DEBUG off the request lines are JSON, one per request.
    lines = [json.loads(line) for line in Path(gunicorn.log_path).read_text().splitlines() if line.startswith("{")]
    healthz = [line for line in lines if line.get("event") == "request" and line["route"] == "/healthz"]
    assert len(healthz) == gunicorn.answered
    assert all(line["status"] == 200 and len(line["request_id"]) == 32 for line in healthz)
    assert "Traceback" not in Path(gunicorn.log_path).read_text()
