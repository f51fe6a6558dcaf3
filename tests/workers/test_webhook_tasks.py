"""Webhooks through a real worker: a push ends as a signed request at a local receiver, and events
whose relay could not be requested at commit are delivered by the beat's sweep."""

import time

import pytest
from standardwebhooks.webhooks import Webhook

from core.webhooks import outbox
from core.webhooks.models import OutboxEvent
from tests.support.celery_worker import worker_idle_wait
from tests.support.ingest import push_rows, ts
from tests.support.waiting import wait_for
from workers.tasks.webhooks import webhooks_sweep

pytestmark = pytest.mark.usefixtures("transactional_db")


def _subscribe(world, receiver, types=("alert.opened",)) -> str:
    response = world.admin.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/",
        {"url": receiver.url, "event_types": list(types)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["secret"]


def _stale_stock(world, sku: str) -> None:
    row = {"code": sku, "name": sku, "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, world.tenant.slug, "skus", [row]).status_code == 201
    line = {"kind": "receipt", "sku": sku, "warehouse": world.warehouse.code, "quantity": 9, "occurred_at": ts(200)}
    assert push_rows(world.admin, world.tenant.slug, "movements", [{**line, "external_ref": sku}]).status_code == 201


def test_a_push_reaches_the_receiver_signed_through_the_worker(world, receiver, celery_worker_process) -> None:
    secret = _subscribe(world, receiver)
    _stale_stock(world, "SKU-HOOK")
    wait_for(lambda: receiver.requests)
    payload = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert (payload["type"], payload["data"]["sku"]) == ("alert.opened", "SKU-HOOK")


def test_events_whose_relay_was_lost_are_delivered_by_the_sweep(
    world, receiver, celery_worker_process, monkeypatch
) -> None:
    secret = _subscribe(world, receiver, types=("alert.dismissed",))
    _stale_stock(world, "SKU-LOST")
    alerts_url = f"/api/v1/tenants/{world.tenant.slug}/alerts/?sku=SKU-LOST"
    wait_for(lambda: world.admin.client.get(alerts_url).json()["results"])
    alert = world.admin.client.get(alerts_url).json()["results"][0]
    worker_idle_wait()  # the alert's playbook record is proposed and relayed: nothing else relays now
    # Idle is read in several broker round trips, and the relay the playbook asked for
    # can slip between them; until it has run it would pick up the dismissal too.
    wait_for(lambda: not OutboxEvent.objects.filter(tenant=world.tenant, relayed_at__isnull=True).exists())
    worker_idle_wait()
    # The broker is out of reach as the dismissal commits: the relay request is lost, the event is not.
    monkeypatch.setattr(outbox, "relay_request", lambda: None)
    response = world.planner.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/alerts/{alert['id']}/dismiss/",
        {"reason": "too_early", "note": "seasonal"},
        format="json",
    )
    assert response.status_code == 200
    assert OutboxEvent.objects.filter(tenant=world.tenant, type="alert.dismissed", relayed_at__isnull=True).exists()
    time.sleep(0.5)
    assert receiver.requests == []
    webhooks_sweep.delay()  # what the beat runs every 15 s
    wait_for(lambda: receiver.requests)
    payload = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert (payload["type"], payload["data"]["reason"], payload["data"]["note"]) == (
        "alert.dismissed",
        "too_early",
        "seasonal",
    )
