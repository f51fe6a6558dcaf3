"""What each partner endpoint receives, through the outbox, the relay and a signed delivery to a real
local receiver: the payload the access registry shaped for its kind, scanned like an API answer.

The engine writes its alert events in SQL and the alert actions, transfers and RFQs in Python; both
paths are here (the fixture's evaluation and RFQ, a staff dismissal and resolution, a distributor's
transfer request and its rejection, an anomaly the ERP pushed).
"""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook

from core.alerts.services import alert_dismiss, alert_resolve
from core.transfers.services import transfer_reject, transfer_request_create
from core.webhooks.models import Delivery, DeliveryState
from core.webhooks.outbox import EVENT_TYPES
from tenants.principals import Principal
from tests.support.figured import Figured
from tests.support.leaks import scan_for
from workers.tasks.webhooks import webhooks_deliver, webhooks_relay

PARTNER_ALERT_KEYS = {"alert_id", "rule", "grade", "previous_grade", "position_id", "sku", "warehouse", "action", "by"}


def _received(figured: Figured, receivers) -> dict[str, list[tuple[str, dict]]]:
    """Subscribe the tenant and each audience to every event type, cause events of every path,
    relay and deliver them all; answer what each receiver got, signatures verified."""
    world = figured.world
    subscribers = {"staff": world.admin, **figured.callers}
    endpoints = {}
    for audience, caller in subscribers.items():
        receiver = receivers()
        response = caller.client.post(
            f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/",
            {"url": receiver.url, "event_types": sorted(EVENT_TYPES)},
            format="json",
        )
        assert response.status_code == 201, response.content
        endpoints[audience] = (receiver, response.json()["secret"])

    admin = Principal(tenant=world.tenant, user=world.admin.user, role="admin", api_key=world.admin.key)
    alert_dismiss(alert=figured.alerts["E"], actor=admin, reason="other", note="Leave it: 52913 is fine for a while.")
    alert_resolve(alert=figured.alerts["B"], actor=admin, note="Sold 48314 to an outlet.")
    bands = figured.callers["distributor:bands"].partner
    asking = Principal(tenant=world.tenant, partner=bands, api_key=figured.callers["distributor:bands"].key)
    transfer = transfer_request_create(
        principal=asking, tenant=world.tenant, sku="SKU-V", source="WH-E", destination_location="Yard", quantity=4
    )
    # A decision note is written to the requester, who reads it as written (API and event alike).
    transfer_reject(transfer=transfer, actor=admin, note="Not from WH-E this week.")

    webhooks_relay()
    for delivery_id in Delivery.objects.filter(tenant=world.tenant).values_list("pk", flat=True):
        webhooks_deliver(str(delivery_id))
    assert not Delivery.objects.filter(tenant=world.tenant).exclude(state=DeliveryState.SUCCEEDED).exists()

    got = {}
    for audience, (receiver, secret) in endpoints.items():
        for request in receiver.requests:
            Webhook(secret).verify(request.body, request.headers)
        got[audience] = [(body["type"], body["data"]) for body in (json.loads(r.body) for r in receiver.requests)]
    return got


def _types(events: list[tuple[str, dict]]) -> set[str]:
    return {event_type for event_type, _ in events}


def test_each_partner_endpoint_gets_the_payload_shaped_for_its_kind(figured: Figured, receivers) -> None:
    got = _received(figured, receivers)

    # The tenant's own endpoint: everything, with the figures and the names.
    staff = dict(got["staff"])
    assert {"alert.opened", "alert.dismissed", "alert.resolved", "stock.anomaly_flagged"} <= _types(got["staff"])
    assert "deviation" in staff["alert.opened"]
    assert staff["alert.dismissed"]["reason"] == "other"
    assert staff["alert.dismissed"]["note"].startswith("Leave it")
    assert staff["alert.resolved"]["by"].startswith(f"user:{figured.world.admin.user.get_username()}")

    # The ERP sees what staff see of stock, but who acted only as a role.
    erp = dict(got["erp"])
    assert {"alert.opened", "stock.anomaly_flagged", "rfq.invited", "transfer.rejected"} <= _types(got["erp"])
    assert "deviation" in erp["alert.opened"]
    assert erp["alert.resolved"]["by"] == "staff"

    # Suppliers and distributors: which alert, its grade and action; no deviation, reason or names.
    for audience in ("supplier", "distributor:exact", "distributor:bands", "distributor:mixed"):
        events = got[audience]
        assert {"alert.opened", "alert.dismissed", "alert.resolved"} <= _types(events), audience
        assert not {"stock.anomaly_flagged", "evaluation.completed"} & _types(events), audience
        for event_type, data in events:
            if event_type.startswith("alert."):
                assert set(data) <= PARTNER_ALERT_KEYS, (audience, event_type, data)
                assert data["by"] in ("staff", "system"), (audience, data)
    assert "rfq.invited" in _types(got["supplier"])
    assert {"transfer.requested", "transfer.rejected"} <= _types(got["distributor:bands"])
    assert not any(t.startswith(("transfer.", "rfq.")) for t in _types(got["distributor:mixed"]))


def test_no_partner_payload_holds_more_than_its_grants(figured: Figured, receivers) -> None:
    got = _received(figured, receivers)
    leaks = []
    for audience in figured.callers:
        scan = scan_for(figured, audience)
        leaks += [f"{audience} {event_type}: {leak}" for event_type, data in got[audience] for leak in scan.leaks(data)]
    assert not leaks, "\n".join(leaks)
    # The scan would see them: the tenant's own endpoint got the reason and the staff name.
    staff_leaks = scan_for(figured, "distributor:bands").leaks([data for _, data in got["staff"]])
    assert any("52913" in leak for leak in staff_leaks)
    assert any(figured.world.admin.user.get_username() in leak for leak in staff_leaks)
