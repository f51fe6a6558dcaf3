"""The response registry answers what the apps above quality register, after their real API flows:
an RFQ awarded, a transfer approved (at both its ends; a rejected one is no response), a clearance
or markdown accepted."""

from __future__ import annotations

from django.db import connection

from core.alerts.models import Alert
from core.inventory.models import Position
from core.playbooks.records import recommendations_sync
from core.procurement.models import Rfq
from core.quality.responses import responses_sql
from core.transfers.models import TransferRequest
from tests.support.calls import evaluate, ok, pushed, url
from tests.support.ingest import ts
from tests.support.procurement import backup_suppliers, quote, respond, short_stock
from workers.tasks.procurement import procurement_settle


def responses(world) -> list[tuple]:
    union = responses_sql(tenant="%(tenant)s")
    statement = f"SELECT alert_id, position_id, kind, at FROM ({union}) r ORDER BY kind, position_id"
    with connection.cursor() as cursor:
        cursor.execute(statement, {"tenant": world.tenant.pk})
        return [(str(a) if a else None, p, k, at) for a, p, k, at in cursor.fetchall()]


def test_an_awarded_rfq_answers_its_alert_at_the_award(shop, other_world) -> None:
    suppliers = backup_suppliers(shop)
    short_stock(shop)
    evaluate(shop)
    respond(shop)
    rfq = Rfq.objects.get(tenant=shop.tenant)
    assert responses(shop) == []  # open, not awarded
    ok(quote(suppliers["cheap"], shop, str(rfq.pk), unit_price="1.00", quantity=160, lead_time_days=4), 201)
    ok(quote(suppliers["quick"], shop, str(rfq.pk), unit_price="0.98", quantity=150, lead_time_days=3), 201)
    assert procurement_settle(str(rfq.pk)) == "awarded"

    rfq.refresh_from_db()
    assert rfq.awarded_at is not None
    assert responses(shop) == [(str(rfq.alert_id), rfq.position_id, "rfq_awarded", rfq.awarded_at)]
    assert responses(other_world) == []


def test_an_approved_transfer_answers_at_both_ends_and_a_rejected_one_not_at_all(shop) -> None:
    pushed(shop, "warehouses", [{"code": "W2", "name": "W2", "region": "r", "kind": "store"}])
    pushed(
        shop,
        "movements",
        [
            {
                "kind": "receipt",
                "sku": "S",
                "warehouse": code,
                "quantity": 50,
                "occurred_at": ts(5),
                "external_ref": code,
            }
            for code in ("W", "W2")
        ],
    )
    body = {"sku": "S", "source": "W", "destination": "W2", "quantity": 20}
    approved = ok(shop.admin.client.post(url(shop, "transfers/"), body, format="json"), 201)
    rejected = ok(shop.admin.client.post(url(shop, "transfers/"), body, format="json"), 201)
    ok(shop.planner.client.post(url(shop, f"transfers/{approved['id']}/approve/"), {"note": "go"}, format="json"))
    ok(shop.planner.client.post(url(shop, f"transfers/{rejected['id']}/reject/"), {"note": "no"}, format="json"))

    decided_at = TransferRequest.objects.get(pk=approved["id"]).decided_at
    source, destination = (
        Position.objects.get(tenant=shop.tenant, sku__code="S", warehouse__code=c) for c in ("W", "W2")
    )
    assert responses(shop) == sorted(
        [(None, source.pk, "transfer_approved", decided_at), (None, destination.pk, "transfer_approved", decided_at)],
        key=lambda row: row[1],
    )


def test_an_accepted_clearance_answers_its_alert_at_the_decision(shop) -> None:
    # 100 received long ago, 10 sold 44 days ago: a red overstock, whose playbook is a clearance ladder.
    pushed(
        shop,
        "movements",
        [
            {
                "kind": "receipt",
                "sku": "S",
                "warehouse": "W",
                "quantity": 100,
                "occurred_at": ts(200),
                "external_ref": "in",
            },
            {
                "kind": "sale",
                "sku": "S",
                "warehouse": "W",
                "quantity": 10,
                "occurred_at": ts(44),
                "external_ref": "out",
            },
        ],
    )
    evaluate(shop)
    alert = Alert.objects.get(tenant=shop.tenant, rule="overstock", active=True)
    assert recommendations_sync(alert_ids=[alert.pk]) == 1
    (record,) = ok(shop.admin.client.get(url(shop, "recommendations/"), {"alert_id": str(alert.pk)}))["results"]
    assert responses(shop) == []  # proposed, not accepted
    accepted = ok(
        shop.planner.client.post(url(shop, f"recommendations/{record['id']}/accept/"), {"note": ""}, format="json")
    )

    (row,) = responses(shop)
    assert row[:3] == (str(alert.pk), alert.position_id, "markdown_accepted")
    assert row[3].isoformat().replace("+00:00", "Z") == accepted["decided_at"].replace("+00:00", "Z")
