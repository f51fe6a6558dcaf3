"""Webhooks end to end against a real local receiver: signed as Standard Webhooks says, retried with
the same id, logged, disabled on 410, both secrets during a rotation, partners kept to their grants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.supply.services import supplier_offers_upsert
from core.webhooks.models import Delivery, DeliveryState, WebhookEndpoint
from tests.support.ingest import push_rows, ts
from workers.tasks.evaluation import evaluation_incremental
from workers.tasks.webhooks import webhooks_deliver, webhooks_prune, webhooks_relay


def url(world, path: str) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/{path}"


def subscribe(caller, world, receiver, types=("alert.opened",)) -> dict:
    response = caller.client.post(
        url(world, "webhook-endpoints/"), {"url": receiver.url, "event_types": list(types)}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def stale_stock(world, sku: str) -> None:
    """A SKU with stock received 200 days ago and never sold: an overstock alert once evaluated."""
    row = {"code": sku, "name": sku, "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, world.tenant.slug, "skus", [row]).status_code == 201
    line = {
        "kind": "receipt",
        "sku": sku,
        "warehouse": world.warehouse.code,
        "quantity": 40,
        "occurred_at": ts(200),
        "external_ref": f"stale-{sku}",
    }
    assert push_rows(world.admin, world.tenant.slug, "movements", [line]).status_code == 201


def run_engine_and_relay(world) -> list[Delivery]:
    evaluation_incremental(str(world.tenant.pk))
    webhooks_relay()
    return list(Delivery.objects.filter(tenant=world.tenant).order_by("created_at"))


def due_now(delivery: Delivery) -> None:
    """Time passes: the retry is due."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_an_alert_arrives_signed_and_the_reference_library_verifies_it(world, receiver) -> None:
    endpoint = subscribe(world.admin, world, receiver)
    stale_stock(world, "SKU-W1")
    (delivery,) = run_engine_and_relay(world)
    webhooks_deliver(str(delivery.pk))
    (request,) = receiver.requests
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "alert.opened"
    assert payload["data"]["sku"] == "SKU-W1"
    assert payload["data"]["rule"] == "overstock"
    assert payload["data"]["grade"] == "red"
    assert request.headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(request.body.replace(b"red", b"yel"), request.headers)
    stale = {**request.headers, "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 3600)}
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(request.body, stale)
    # The secret was in the creation answer only.
    listed = world.admin.client.get(url(world, f"webhook-endpoints/{endpoint['id']}/")).json()
    assert "secret" not in listed
    assert endpoint["secret"] not in world.admin.client.get(url(world, "webhook-deliveries/")).content.decode()


def test_a_receiver_failing_twice_gets_the_event_three_times_with_one_id(world, receiver) -> None:
    subscribe(world.admin, world, receiver)
    receiver.script = [(500, {}), (500, {})]
    stale_stock(world, "SKU-W2")
    (delivery,) = run_engine_and_relay(world)
    webhooks_deliver(str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    assert timedelta(seconds=4) < delivery.next_attempt_at - timezone.now() < timedelta(seconds=6)  # 5 s ± 10 %
    webhooks_deliver(str(delivery.pk))  # not due yet: nothing is sent
    assert len(receiver.requests) == 1
    for _ in range(2):
        due_now(delivery)
        webhooks_deliver(str(delivery.pk))
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1
    assert len(receiver.requests) == 3
    log = world.admin.client.get(url(world, f"webhook-deliveries/{delivery.pk}/")).json()
    assert [attempt["status_code"] for attempt in log["attempt_log"]] == [500, 500, 200]
    assert (log["state"], log["attempts"]) == ("succeeded", 3)
    # Redelivery on request: the same id again.
    response = world.admin.client.post(url(world, f"webhook-deliveries/{delivery.pk}/redeliver/"))
    assert response.status_code == 202
    webhooks_deliver(str(delivery.pk))
    assert len(receiver.requests) == 4  # sent again
    assert receiver.requests[-1].headers["webhook-id"] == receiver.requests[0].headers["webhook-id"]


def test_retry_after_is_honoured_and_410_disables_the_endpoint(world, receiver) -> None:
    endpoint = subscribe(world.admin, world, receiver)
    receiver.script = [(429, {"Retry-After": "120"}), (410, {})]
    stale_stock(world, "SKU-W3")
    (delivery,) = run_engine_and_relay(world)
    webhooks_deliver(str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - timezone.now() > timedelta(seconds=110)
    due_now(delivery)
    webhooks_deliver(str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    shown = world.admin.client.get(url(world, f"webhook-endpoints/{endpoint['id']}/")).json()
    assert shown["is_active"] is False
    assert "410" in shown["disabled_reason"]
    # A disabled endpoint gets nothing more; a test ping says why.
    response = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/test/"))
    assert response.status_code == 409


def test_during_a_rotation_both_secrets_sign(world, receiver) -> None:
    endpoint = subscribe(world.admin, world, receiver, types=("webhook.ping",))
    rotated = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/rotate-secret/")).json()
    assert rotated["secret"] != endpoint["secret"]
    assert rotated["previous_secret_valid_until"]
    response = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/test/"))
    assert response.status_code == 202
    webhooks_deliver(response.json()["id"])
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.ping"


def test_private_and_loopback_urls_are_refused_in_production_settings(world, receiver, settings) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    for target in (receiver.url, "https://10.1.2.3/hook", "https://169.254.169.254/latest", "https://[::1]/x"):
        response = world.admin.client.post(
            url(world, "webhook-endpoints/"), {"url": target, "event_types": ["alert.opened"]}, format="json"
        )
        assert response.status_code == 400, target
        assert "url" in response.json()["error"]["fields"]
    # An endpoint made while loopback was allowed is checked again when it sends.
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    endpoint = subscribe(world.admin, world, receiver, types=("webhook.ping",))
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    delivery = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/test/")).json()
    webhooks_deliver(delivery["id"])
    assert receiver.requests == []
    log = world.admin.client.get(url(world, f"webhook-deliveries/{delivery['id']}/")).json()
    assert log["attempt_log"][0]["status_code"] is None
    assert "local development only" in log["attempt_log"][0]["error"]


def test_a_partner_hears_only_of_what_it_is_granted(world, other_world, receivers) -> None:
    receiver = receivers()
    supplier_endpoint = subscribe(world.supplier, world, receiver)
    staff_endpoint = subscribe(world.admin, world, receivers())
    assert supplier_endpoint["partner_id"] == str(world.supplier.partner.pk)
    stale_stock(world, "SKU-MINE")
    stale_stock(world, "SKU-NOT")
    from core.inventory.models import Sku

    supplier_offers_upsert(
        tenant=world.tenant,
        offers=[
            {
                "sku_id": Sku.objects.get(tenant=world.tenant, code="SKU-MINE").pk,
                "supplier_id": world.supplier.partner.pk,
                "rank": 1,
                "lead_time_days": 5,
                "unit_price": "1.10",
            }
        ],
    )
    stale_stock(other_world, "SKU-MINE")
    evaluation_incremental(str(other_world.tenant.pk))
    run_engine_and_relay(world)
    # Counted by endpoint: a delivery of another tenant's event would be stored under that tenant.
    deliveries = list(Delivery.objects.filter(endpoint_id=supplier_endpoint["id"]))
    assert len(deliveries) == 1
    assert Delivery.objects.filter(endpoint_id=staff_endpoint["id"]).count() == 2  # both SKUs
    webhooks_deliver(str(deliveries[0].pk))
    (request,) = receiver.requests
    assert Webhook(supplier_endpoint["secret"]).verify(request.body, request.headers)["data"]["sku"] == "SKU-MINE"
    # Its own endpoints and deliveries only; the tenant's staff see all.
    supplier_sees = [d["id"] for d in world.supplier.client.get(url(world, "webhook-deliveries/")).json()["results"]]
    assert supplier_sees == [str(deliveries[0].pk)]
    assert len(world.admin.client.get(url(world, "webhook-deliveries/")).json()["results"]) == 3
    assert world.distributor.client.get(url(world, f"webhook-endpoints/{supplier_endpoint['id']}/")).status_code == 404


def test_an_endpoint_failing_for_days_is_disabled_and_its_admins_are_told(
    world, receiver, settings, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    endpoint = subscribe(world.admin, world, receiver, types=("webhook.ping",))
    receiver.script = [(500, {})]
    # It has failed ever since longer ago than the limit allows.
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
        failing_since=timezone.now() - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS + 1)
    )
    delivery = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/test/")).json()
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_deliver(delivery["id"])
    shown = world.admin.client.get(url(world, f"webhook-endpoints/{endpoint['id']}/")).json()
    assert shown["is_active"] is False
    assert f"{settings.WEBHOOK_DISABLE_AFTER_HOURS} hours" in shown["disabled_reason"]
    (mail,) = mailoutbox
    assert mail.to == [world.admin.user.email]
    assert receiver.url in mail.subject
    # Re-activating clears the failure; a test ping goes out again.
    response = world.admin.client.patch(
        url(world, f"webhook-endpoints/{endpoint['id']}/"), {"is_active": True}, format="json"
    )
    assert (response.status_code, response.json()["failing_since"]) == (200, None)


def test_successful_deliveries_are_pruned_after_their_retention(world, receiver, settings) -> None:
    endpoint = subscribe(world.admin, world, receiver, types=("webhook.ping",))
    for _ in range(2):
        delivery = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/test/")).json()
        webhooks_deliver(delivery["id"])
    old = timezone.now() - timedelta(days=settings.WEBHOOK_SUCCESS_RETENTION_DAYS + 1)
    Delivery.objects.filter(pk=delivery["id"]).update(succeeded_at=old)
    assert webhooks_prune() == 1
    assert Delivery.objects.filter(tenant=world.tenant).count() == 1


def test_one_relay_drains_a_commit_larger_than_a_batch(world, receiver) -> None:
    from core.webhooks.outbox import Event, outbox_emit
    from core.webhooks.relay import outbox_drain

    subscribe(world.admin, world, receiver, types=("evaluation.completed",))
    data = {"run_id": "00000000-0000-0000-0000-000000000000", "trigger": "manual", "positions": 0, "counts": {}}
    outbox_emit([Event(tenant_id=world.tenant.pk, type="evaluation.completed", data=data) for _ in range(25)])
    assert outbox_drain(batch=10) == 25
    assert Delivery.objects.filter(tenant=world.tenant, state=DeliveryState.PENDING).count() == 25
