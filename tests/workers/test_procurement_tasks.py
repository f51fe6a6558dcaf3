"""The RFQ loop through a real worker and real receivers, as suppliers live it.

Sales pushed through the bulk endpoint take S below its safety stock; the worker evaluates, the
alert goes red, the relay hands it to procurement, one RFQ invites the two backups that can make
it (signed rfq.invited at each one's receiver, and an email), the suppliers quote with their own
keys, the worker awards the cheapest landed quote, the winner's receiver gets rfq.awarded, the
loser's rfq.closed, and the award is stock in transit.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core.inventory.models import Position
from core.procurement.models import Rfq, RfqInvitation
from tests.support.calls import url
from tests.support.celery_worker import worker_idle_wait
from tests.support.ingest import push_rows, ts
from tests.support.procurement import backup_suppliers
from tests.support.waiting import wait_for
from workers.tasks.evaluation import evaluation_incremental
from workers.tasks.procurement import procurement_sweep

pytestmark = pytest.mark.usefixtures("transactional_db")
TODAY = timezone.now().date()


def _hooked(caller, world, receiver, types: list[str]) -> Webhook:
    """The partner subscribes its own endpoint with its own key; answers the verifier of its secret."""
    response = caller.client.post(
        url(world, "webhook-endpoints/"), {"url": receiver.url, "event_types": types}, format="json"
    )
    assert response.status_code == 201, response.content
    return Webhook(response.json()["secret"])


def _events(receiver, verifier: Webhook) -> list[dict]:
    return [verifier.verify(request.body, request.headers) for request in receiver.requests]


def test_a_stock_out_ends_as_an_award_in_transit_through_the_worker(
    shop,
    receivers,
    celery_worker_process,
    worker_mail_dir,
) -> None:
    world = shop
    suppliers = backup_suppliers(world)
    rfq_events = ["rfq.invited", "rfq.awarded", "rfq.closed"]
    listening = {name: receivers() for name in ("cheap", "quick", "slow", "tiny")}
    verifiers = {name: _hooked(suppliers[name], world, listening[name], rfq_events) for name in listening}
    planners = receivers()
    planner_verifier = _hooked(world.admin, world, planners, ["alert.opened", "rfq.awarded"])

    # Stock on hand, then 28 days of sales pushed as a POS would (20 units every other day).
    receipt = {"kind": "receipt", "sku": "S", "warehouse": "W", "quantity": 330, "occurred_at": ts(40)}
    assert push_rows(world.erp, world.tenant.slug, "movements", [{**receipt, "external_ref": "in"}]).status_code == 201
    sales = [
        {
            "kind": "sale",
            "sku": "S",
            "warehouse": "W",
            "quantity": 20,
            "occurred_at": ts(day, hour=0),
            "external_ref": f"pos-{day}",
            "unit_price": "2",
        }
        for day in range(0, 28, 2)
    ]
    assert push_rows(world.erp, world.tenant.slug, "movements", sales).status_code == 201

    # The worker evaluates the push, the alert opens red, the invitations reach the two backups.
    invited = {
        name: wait_for(lambda name=name: _events(listening[name], verifiers[name]), f"rfq.invited at {name}")
        for name in ("cheap", "quick")
    }
    (opened,) = wait_for(
        lambda: [e for e in _events(planners, planner_verifier) if e["type"] == "alert.opened"],
        "alert.opened at the planners",
    )
    assert (opened["data"]["rule"], opened["data"]["grade"]) == ("stock_out_risk", "red")
    reading = world.admin.client.get(url(world, f"indicators/{opened['data']['position_id']}/")).json()
    assert reading["available"] < reading["details"]["safety_stock"]  # below safety stock, 50 left
    rfq = Rfq.objects.get(tenant=world.tenant)
    # The replenishment rule: reorder point + 10 a day x 10 days of lead time - 50 available.
    asked = math.ceil(reading["reorder_point_service"] + 10 * 10 - 50)
    assert rfq.quantity == asked
    for name, quantity in (("cheap", math.ceil(asked / 40) * 40), ("quick", asked)):
        (event,) = invited[name]
        assert (event["type"], event["data"]["rfq_id"], event["data"]["quantity"]) == (
            "rfq.invited",
            str(rfq.pk),
            quantity,
        )
        assert event["data"]["supplier_id"] == str(suppliers[name].partner.pk)
    # The one too slow and the one too small hear nothing; each invitee got an email too.
    assert listening["slow"].requests == listening["tiny"].requests == []
    mails = "".join(path.read_text() for path in worker_mail_dir.glob("*.log"))
    assert [
        text for text in ("To: cheap@example.com", "To: quick@example.com", rfq.reference) if text not in mails
    ] == []

    # Retried task, another evaluation, the sweep: still one RFQ, one invitation per supplier.
    procurement_sweep.delay()
    evaluation_incremental.delay(str(world.tenant.pk))
    worker_idle_wait()  # both ran to the end
    assert Rfq.objects.filter(tenant=world.tenant).count() == 1
    assert RfqInvitation.objects.filter(rfq=rfq).count() == 2
    invitees = set(RfqInvitation.objects.filter(rfq=rfq).values_list("supplier_id", flat=True))
    assert invitees == {suppliers["cheap"].partner.pk, suppliers["quick"].partner.pk}
    # Now that every task has run to the end: still nothing at the slow and the small one.
    assert listening["slow"].requests == listening["tiny"].requests == []

    # The suppliers quote from their systems; the second answer completes the round.
    def quote(name: str, price: str, quantity: int, lead: int) -> None:
        body = {
            "unit_price": price,
            "quantity": quantity,
            "lead_time_days": lead,
            "valid_until": str(TODAY + timedelta(days=14)),
        }
        response = suppliers[name].client.post(url(world, f"rfqs/{rfq.pk}/quotes/"), body, format="json")
        assert response.status_code == 201, response.content

    quote("cheap", "1.00", math.ceil(asked / 40) * 40, 4)  # landed 1.00 x 1.05 + 0.05 = 1.10
    quote("quick", "0.98", asked, 3)  # landed 0.98 + 0.10 = 1.08: the winner

    won = wait_for(
        lambda: [e for e in _events(listening["quick"], verifiers["quick"]) if e["type"] == "rfq.awarded"],
        "rfq.awarded at quick",
    )
    assert (won[0]["data"]["awarded_quantity"], won[0]["data"]["unit_price"]) == (asked, "0.9800")
    lost = wait_for(
        lambda: [e for e in _events(listening["cheap"], verifiers["cheap"]) if e["type"] == "rfq.closed"],
        "rfq.closed at cheap",
    )
    assert lost[0]["data"]["reason"] == "awarded_elsewhere"
    worker_idle_wait()  # whatever else the award sent has arrived
    assert not [e for e in _events(listening["cheap"], verifiers["cheap"]) if e["type"] == "rfq.awarded"]
    assert listening["slow"].requests == listening["tiny"].requests == []
    position = Position.objects.get(tenant=world.tenant, sku__code="S", warehouse__code="W")
    assert (position.on_hand, position.in_transit) == (50, asked)
    detail = world.admin.client.get(url(world, f"rfqs/{rfq.pk}/")).json()
    assert (detail["status"], detail["purchase_order"]["reference"]) == ("awarded", won[0]["data"]["purchase_order"])
    wait_for(
        lambda: any(json.loads(r.body)["type"] == "rfq.awarded" for r in planners.requests), "rfq.awarded at staff"
    )
