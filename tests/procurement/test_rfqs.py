"""RFQs end to end in one process: the alert opens one, suppliers quote with their keys, it settles.

The tasks are called as the worker calls them (``procurement_respond`` with the relay's event ids,
``procurement_settle``); tests/workers/test_procurement_tasks.py runs the same with a real worker.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.alerts.models import Alert, AlertEvent
from core.inventory.models import Position
from core.playbooks.consumer import responses_sweep
from core.procurement.awards import rfq_settle
from core.procurement.models import PurchaseOrder, Rfq, RfqInvitation
from core.procurement.rfqs import rfqs_due_alerts
from core.supply.models import SupplierOffer
from core.webhooks.models import OutboxEvent
from tenants import services
from tests.support.calls import evaluate, ok, pushed, url
from tests.support.ingest import ts
from tests.support.procurement import Shortage, backup_suppliers, quote, respond, short_stock
from workers.tasks.procurement import procurement_settle

TODAY = timezone.now().date()


def the_rfq(shortage: Shortage) -> dict:
    (rfq,) = ok(shortage.world.admin.client.get(url(shortage.world, "rfqs/")))["results"]
    return ok(shortage.world.admin.client.get(url(shortage.world, f"rfqs/{rfq['id']}/")))


def test_a_red_stock_out_opens_one_rfq_with_the_replenishment_quantity_and_skips_who_cannot_make_it(opened):
    world = opened.world
    alert = Alert.objects.get(tenant=world.tenant, rule="stock_out_risk", active=True)
    assert (alert.grade, alert.inputs["ads_28"], alert.inputs["available"], alert.inputs["lead_time_days"]) == (
        "red",
        10.0,
        50,
        10,
    )
    rfq = the_rfq(opened)
    # Reorder point 100 (10 a day x 10 days, no demand variance) + 10 x 10 for the lead time - 50 available.
    assert rfq["basis"]["reorder_point"] == 100
    assert (rfq["quantity"], rfq["needed_by"], rfq["status"], rfq["round"]) == (
        150,
        str(TODAY + timedelta(5)),
        "open",
        1,
    )
    assert rfq["alert_id"] == str(alert.pk)
    invited = [
        (i["supplier"], i["quantity"], i["landed_unit_cost"], i["position_in_ranking"]) for i in rfq["invitations"]
    ]
    # cheap ranks first on landed cost per reliable unit (1.0475 / 0.95 < 1.10 / 0.90), asked for 160 (MOQ 40).
    assert invited == [("backup cheap", 160, "1.0475", 1), ("backup quick", 150, "1.1000", 2)]
    skipped = {s["supplier"]: s["reason"] for s in rfq["skipped"]}
    assert set(skipped) == {"backup slow", "backup tiny"}
    assert f"lead time 9 days lands on {TODAY + timedelta(9)}" in skipped["backup slow"]
    assert "capacity 10 a week" in skipped["backup tiny"]
    timeline = ok(world.admin.client.get(url(world, f"alerts/{alert.pk}/")))["timeline"]
    assert [event["kind"] for event in timeline][-1] == "rfq_opened"
    # Each invited supplier gets its own rfq.invited, addressed to it alone.
    events = OutboxEvent.objects.filter(tenant=world.tenant, type="rfq.invited")
    assert {(e.recipient_id, e.data["quantity"]) for e in events} == {
        (opened.partner("cheap").pk, 160),
        (opened.partner("quick").pk, 150),
    }


def test_rerunning_retrying_and_escalating_never_open_a_second_rfq_or_invitation(shortage):
    world = shortage.world
    # RFQs at orange, and bands under which 5 days of cover against 10 of lead time (0.5) is orange.
    policy = {
        "rule": "stock_out_risk",
        "bands": {"yellow": "0.1", "orange": "0.4", "red": "0.9"},
        "parameters": {"rfq_grade": "orange"},
    }
    ok(world.admin.client.post(url(world, "alert-policies/"), policy, format="json"), 201)
    evaluate(world)
    respond(world)
    respond(world)  # the same task again
    assert "skipped" not in responses_sweep()  # the beat's catch-up
    evaluate(world)  # a second evaluation in a row
    alert = Alert.objects.get(tenant=world.tenant, rule="stock_out_risk", active=True)
    assert (alert.grade, Rfq.objects.filter(tenant=world.tenant).count()) == ("orange", 1)
    # 40 more sold today: a day of cover or less is red, the same alert escalates.
    pushed(
        world,
        "movements",
        [
            {
                "kind": "sale",
                "sku": "S",
                "warehouse": "W",
                "quantity": 40,
                "occurred_at": ts(0, hour=0),
                "external_ref": "more",
            }
        ],
    )
    evaluate(world)
    respond(world)
    assert "skipped" not in responses_sweep()
    alert.refresh_from_db()
    assert alert.grade == "red"
    assert OutboxEvent.objects.filter(tenant=world.tenant, type="alert.escalated").count() == 1
    assert Rfq.objects.filter(tenant=world.tenant).count() == 1
    assert RfqInvitation.objects.filter(rfq__tenant=world.tenant).count() == 2
    assert OutboxEvent.objects.filter(tenant=world.tenant, type="rfq.invited").count() == 2


def test_quotes_settle_to_the_lowest_landed_cost_that_makes_the_day(opened):
    world, rfq = opened.world, the_rfq(opened)
    cheap, quick = opened.suppliers["cheap"], opened.suppliers["quick"]
    # cheap quotes 1.00: landed 1.00 x 1.05 + 0.05 = 1.10. quick quotes 0.98: landed 1.08, and wins.
    ok(quote(cheap, world, rfq["id"], unit_price="1.00", quantity=160, lead_time_days=4), 201)
    first = ok(quote(quick, world, rfq["id"], unit_price="1.05", quantity=150, lead_time_days=3), 201)
    revised = ok(quote(quick, world, rfq["id"], unit_price="0.98", quantity=150, lead_time_days=3), 201)
    assert (first["revision"], revised["revision"], revised["landed_unit_cost"]) == (1, 2, "1.0800")
    # Everyone answered: the settle task was asked for on commit; run it as the worker would.
    assert procurement_settle(rfq["id"]) == "awarded"

    settled = the_rfq(opened)
    assert settled["status"] == "awarded"
    assert settled["awarded_quote_id"] == revised["id"]
    assert {q["id"]: q["status"] for q in settled["quotes"]}[first["id"]] == "superseded"
    assert {i["supplier"]: i["status"] for i in settled["invitations"]} == {
        "backup quick": "won",
        "backup cheap": "lost",
    }
    order = settled["purchase_order"]
    assert (order["quantity"], order["unit_price"], order["expected_on"]) == (150, "0.9800", str(TODAY + timedelta(3)))
    assert Position.objects.get(tenant=world.tenant, sku__code="S", warehouse__code="W").in_transit == 150
    awarded = OutboxEvent.objects.get(tenant=world.tenant, type="rfq.awarded")
    assert (awarded.recipient_id, awarded.data["purchase_order"]) == (opened.partner("quick").pk, order["reference"])
    closed = OutboxEvent.objects.get(tenant=world.tenant, type="rfq.closed")
    assert (closed.recipient_id, closed.data["reason"]) == (opened.partner("cheap").pk, "awarded_elsewhere")
    assert procurement_settle(rfq["id"]) == "nothing to do"  # a retried task changes nothing


def test_receipts_against_the_purchase_order_land_the_stock_and_keep_reliability(opened):
    world, rfq = opened.world, the_rfq(opened)
    ok(quote(opened.suppliers["quick"], world, rfq["id"], unit_price="0.98"), 201)
    ok(
        opened.suppliers["cheap"].client.post(
            url(world, f"rfqs/{rfq['id']}/quotes/"),
            {"unit_price": "2", "quantity": 160, "lead_time_days": 4, "valid_until": str(TODAY + timedelta(9))},
            format="json",
        ),
        201,
    )
    procurement_settle(rfq["id"])
    order = PurchaseOrder.objects.get(tenant=world.tenant)
    receipt = {"kind": "receipt", "sku": "S", "warehouse": "W", "occurred_at": ts(0), "order_ref": order.reference}
    pushed(world, "movements", [{**receipt, "quantity": 100, "external_ref": "po-part-1"}])
    position = Position.objects.get(tenant=world.tenant, sku__code="S", warehouse__code="W")
    assert (position.in_transit, position.on_hand) == (50, 150)
    pushed(world, "movements", [{**receipt, "quantity": 50, "external_ref": "po-part-2"}])
    position.refresh_from_db()
    order.refresh_from_db()
    assert (position.in_transit, position.on_hand, order.status, order.received_quantity) == (0, 200, "received", 150)
    # One order, on time and complete: (1 + 4 x 0.9) / (1 + 4) = 0.92, on every offer of the supplier.
    offer = SupplierOffer.objects.get(tenant=world.tenant, supplier=opened.partner("quick"))
    assert offer.reliability == Decimal("0.920")


def test_no_quote_by_the_deadline_invites_the_next_backups_once_then_tells_the_planners(shop):
    # Four backups that can all make it, two invited per round; nobody answers.
    world = shop
    backup_suppliers(world, names=("quick", "cheap"))
    for name, rank in (("late-1", 6), ("late-2", 7), ("late-3", 8)):
        partner = services.partner_create(tenant=world.tenant, kind="supplier", name=name)
        ok(
            world.admin.client.post(
                url(world, "supplier-offers/"),
                [{"sku": "S", "supplier_id": str(partner.pk), "rank": rank, "lead_time_days": 1, "unit_price": "1.5"}],
                format="json",
            )
        )
    ok(
        world.admin.client.post(
            url(world, "alert-policies/"),
            {"rule": "stock_out_risk", "parameters": {"rfq_invitations": 2}},
            format="json",
        ),
        201,
    )
    short_stock(world)
    evaluate(world)
    respond(world)
    rfq = Rfq.objects.get(tenant=world.tenant)
    assert RfqInvitation.objects.filter(rfq=rfq).count() == 2
    later = timezone.now() + timedelta(hours=25)
    assert rfq_settle(rfq_id=rfq.pk, now=later) == "next round"
    rfq.refresh_from_db()
    assert (rfq.round, RfqInvitation.objects.filter(rfq=rfq, round=2).count()) == (2, 2)
    assert rfq_settle(rfq_id=rfq.pk, now=later + timedelta(hours=25)) == "unanswered"
    rfq.refresh_from_db()
    assert rfq.status == "unanswered"
    assert "None of the 4 invited" in rfq.closed_reason
    (told,) = OutboxEvent.objects.filter(tenant=world.tenant, type="rfq.unanswered")
    assert (told.staff_only, told.data["rounds"]) == (True, 2)
    assert OutboxEvent.objects.filter(tenant=world.tenant, type="rfq.closed").count() == 4


def test_the_hourly_limit_holds_the_rfq_and_the_alert_says_so(shortage):
    world = shortage.world
    ok(world.admin.client.patch(url(world, "procurement-limits/"), {"rfqs_per_hour": 0}, format="json"))
    evaluate(world)
    respond(world)
    respond(world)
    assert not Rfq.objects.filter(tenant=world.tenant).exists()
    alert = Alert.objects.get(tenant=world.tenant, rule="stock_out_risk", active=True)
    (held,) = AlertEvent.objects.filter(alert=alert, kind="response_held")  # noted once, not per retry
    assert "limit is 0" in held.note
    ok(world.admin.client.patch(url(world, "procurement-limits/"), {"rfqs_per_hour": 5}, format="json"))
    assert "skipped" not in responses_sweep()  # the hour frees up (here: the limit rises); the sweep opens it
    assert Rfq.objects.filter(tenant=world.tenant, alert=alert).count() == 1


def test_an_rfq_whose_alert_resolves_is_cancelled_not_awarded(opened):
    world, rfq = opened.world, the_rfq(opened)
    ok(quote(opened.suppliers["quick"], world, rfq["id"]), 201)
    # The primary delivers after all: 1,000 units land, the stock-out alert resolves itself.
    pushed(
        world,
        "movements",
        [
            {
                "kind": "receipt",
                "sku": "S",
                "warehouse": "W",
                "quantity": 1000,
                "occurred_at": ts(0, hour=0),
                "external_ref": "primary-came",
            }
        ],
    )
    evaluate(world)
    respond(world)
    settled = the_rfq(opened)
    assert settled["status"] == "cancelled"
    assert "resolved or was dismissed" in settled["closed_reason"]
    assert Position.objects.get(tenant=world.tenant, sku__code="S", warehouse__code="W").in_transit == 0
    assert procurement_settle(rfq["id"]) == "nothing to do"


def test_the_second_round_stays_within_the_tenants_invitation_limit(shop):
    world = shop
    backup_suppliers(world, names=("quick", "cheap"))
    ok(world.admin.client.patch(url(world, "procurement-limits/"), {"invitations_per_rfq": 1}, format="json"))
    short_stock(world)
    evaluate(world)
    respond(world)
    rfq = Rfq.objects.get(tenant=world.tenant)
    assert RfqInvitation.objects.filter(rfq=rfq).count() == 1
    assert rfq_settle(rfq_id=rfq.pk, now=timezone.now() + timedelta(hours=25)) == "unanswered"
    assert RfqInvitation.objects.filter(rfq=rfq).count() == 1


def test_the_sweep_leaves_stock_out_alerts_below_the_rfq_grade_alone(shortage):
    world = shortage.world
    # Bands so wide that 50 % short of the lead time is only yellow: below the red RFQ grade.
    ok(
        world.admin.client.post(
            url(world, "alert-policies/"),
            {"rule": "stock_out_risk", "bands": {"yellow": "0.1", "orange": "0.8", "red": "0.9"}},
            format="json",
        ),
        201,
    )
    evaluate(world)
    alert = Alert.objects.get(tenant=world.tenant, rule="stock_out_risk", active=True)
    assert alert.grade == "yellow"
    assert str(alert.pk) not in [str(i) for i in rfqs_due_alerts()]
    assert "skipped" not in responses_sweep()
    assert not Rfq.objects.filter(tenant=world.tenant).exists()


def test_a_planner_closes_a_short_shipped_order_and_the_supplier_answers_for_it(opened):
    world, rfq = opened.world, the_rfq(opened)
    ok(quote(opened.suppliers["quick"], world, rfq["id"], unit_price="0.98"), 201)
    ok(quote(opened.suppliers["cheap"], world, rfq["id"], unit_price="2", quantity=160), 201)
    procurement_settle(rfq["id"])
    order = PurchaseOrder.objects.get(tenant=world.tenant)
    pushed(
        world,
        "movements",
        [
            {
                "kind": "receipt",
                "sku": "S",
                "warehouse": "W",
                "occurred_at": ts(0),
                "order_ref": order.reference,
                "quantity": 100,
                "external_ref": "po-short",
            }
        ],
    )
    mine = ok(opened.suppliers["quick"].client.get(url(world, "purchase-orders/")))["results"]
    assert [(o["reference"], o["received_quantity"], o["status"]) for o in mine] == [(order.reference, 100, "open")]
    assert ok(opened.suppliers["cheap"].client.get(url(world, "purchase-orders/")))["results"] == []
    assert opened.suppliers["cheap"].client.get(url(world, f"purchase-orders/{order.pk}/")).status_code == 404
    closed = ok(
        world.planner.client.post(url(world, f"purchase-orders/{order.pk}/close/"), {"note": "50 lost"}, format="json")
    )
    assert (closed["status"], closed["received_quantity"]) == ("closed_short", 100)
    assert Position.objects.get(tenant=world.tenant, sku__code="S", warehouse__code="W").in_transit == 0
    # One order, not complete: (0 + 4 x 0.9) / (1 + 4) = 0.72.
    assert SupplierOffer.objects.get(tenant=world.tenant, supplier=opened.partner("quick")).reliability == Decimal(
        "0.720"
    )
    again = world.planner.client.post(url(world, f"purchase-orders/{order.pk}/close/"), {}, format="json")
    assert again.status_code == 409
    assert (
        world.analyst.client.post(url(world, f"purchase-orders/{order.pk}/close/"), {}, format="json").status_code
        == 403
    )
