"""Transfer requests through the API: the shared stock view, grants, each step with its ledger
lines and events, who may do what, and the policy that approves small requests on its own."""

from __future__ import annotations

from django.utils import timezone

from core.alerts.models import Alert
from core.inventory.models import Movement, Warehouse
from core.playbooks.models import Recommendation
from core.transfers.models import TransferRequest
from core.webhooks.models import OutboxEvent
from tenants import services as tenant_services
from tests.support.calls import error, ok, pushed, url
from tests.support.ingest import ts
from tests.support.transfers import position
from tests.support.world import key_client


def request(caller, world, **body):
    return caller.client.post(url(world, "transfers/"), {"sku": "S", **body}, format="json")


def step(caller, world, transfer_id: str, action: str, **body):
    return caller.client.post(url(world, f"transfers/{transfer_id}/{action}/"), body, format="json")


def lines(transfer: dict) -> list[tuple[str, int]]:
    return [(line["kind"], line["quantity"]) for line in transfer["lines"]]


def events(world, transfer_id: str) -> list[tuple[str, object]]:
    return [
        (event.type, event.recipient_id)
        for event in OutboxEvent.objects.filter(tenant=world.tenant, type__startswith="transfer.").order_by("id")
        if event.data["transfer_id"] == transfer_id
    ]


def test_the_shared_view_shows_granted_warehouses_with_numbers_or_bands(network):
    world = network
    rows = ok(world.distributor.client.get(url(world, "shared-stock/")))["results"]
    seen = {(r["warehouse"], r["sku"]): (r["exact"], r["available"], r["in_transit"], r["band"]) for r in rows}
    assert seen == {("W-N", "S"): (True, 100, 0, "available"), ("W-S", "S"): (False, None, None, "available")}
    regions = ok(world.distributor.client.get(url(world, "shared-stock/regions/")))
    assert [(r["region"], r["positions"], r["available_units"], r["band_available"]) for r in regions] == [
        ("north", 1, 100, 1),
        ("south", 1, None, 1),  # bands only: no units in the total
    ]
    # Staff see every warehouse with numbers; a filter narrows it.
    staff = ok(world.planner.client.get(url(world, "shared-stock/"), {"sku": "S"}))["results"]
    assert sorted((r["warehouse"], r["available"]) for r in staff) == [("W-N", 100), ("W-S", 40), ("W-X", 60)]
    # A sold-out warehouse reads 'out'.
    pushed(
        world,
        "movements",
        [
            {
                "kind": "sale",
                "sku": "S",
                "warehouse": "W-S",
                "quantity": 40,
                "occurred_at": ts(1),
                "external_ref": "sold-out",
            }
        ],
    )
    rows = ok(world.distributor.client.get(url(world, "shared-stock/"), {"band": "out"}))["results"]
    assert [(r["warehouse"], r["band"], r["available"]) for r in rows] == [("W-S", "out", None)]
    assert error(world.supplier.client.get(url(world, "shared-stock/")), 403)["code"] == "permission_denied"


def test_admins_grant_revoke_and_switch_between_numbers_and_bands(network):
    world = network
    grants_url = url(world, f"partners/{world.distributor.partner.pk}/grants/")
    listed = ok(world.planner.client.get(grants_url))
    assert [(g["warehouse"], g["quantities"]) for g in listed] == [("W-N", "exact"), ("W-S", "bands")]
    assert ok(
        world.admin.client.post(grants_url, {"warehouses": ["W-X", "W-S"], "quantities": "exact"}, format="json")
    ) == {"newly_granted": 1}
    listed = ok(world.planner.client.get(grants_url))
    assert [(g["warehouse"], g["quantities"]) for g in listed] == [("W-N", "exact"), ("W-X", "exact"), ("W-S", "exact")]
    w_x = Warehouse.objects.get(tenant=world.tenant, code="W-X")
    assert world.admin.client.delete(f"{grants_url}{w_x.pk}/").status_code == 204
    seen = {r["warehouse"] for r in ok(world.distributor.client.get(url(world, "shared-stock/")))["results"]}
    assert seen == {"W-N", "W-S"}
    assert error(world.planner.client.post(grants_url, {"warehouses": ["W-X"]}, format="json"), 403)
    assert "NOPE" in str(error(world.admin.client.post(grants_url, {"warehouses": ["NOPE"]}, format="json"), 400))
    supplier_grants = url(world, f"partners/{world.supplier.partner.pk}/grants/")
    assert "distributor" in str(
        error(world.admin.client.post(supplier_grants, {"warehouses": ["W-N"]}, format="json"), 400)["fields"]
    )


def test_a_request_through_its_whole_life_writes_its_lines_and_events(network):
    world = network
    created = ok(request(world.distributor, world, source="W-N", destination="W-S", quantity=30, note="weekend"), 201)
    tid = created["id"]
    assert (created["status"], lines(created)) == ("requested", [("requested", 0)])
    assert error(step(world.distributor, world, tid, "approve"), 403)["code"] == "permission_denied"

    approved = ok(step(world.planner, world, tid, "approve", note="ok"))
    assert (approved["status"], approved["approval"], lines(approved)[-1]) == ("approved", "person", ("reserved", 30))
    assert (position(world, "W-N").on_hand, position(world, "W-N").reserved) == (100, 30)

    shipped = ok(step(world.erp, world, tid, "ship"))
    assert lines(shipped)[-3:] == [("released", -30), ("shipped_out", -30), ("in_transit", 30)]
    north, south = position(world, "W-N"), position(world, "W-S")
    assert (north.on_hand, north.reserved, south.in_transit) == (70, 0, 30)
    out = Movement.objects.get(tenant=world.tenant, kind="transfer_out", position=north)
    assert (out.quantity, out.order_ref, shipped["lines"][-2]["movement_id"]) == (30, created["reference"], out.pk)

    received = ok(step(world.planner, world, tid, "receive"))
    assert lines(received)[-2:] == [("in_transit", -30), ("received_in", 30)]
    south.refresh_from_db()
    assert (south.on_hand, south.in_transit, received["status"]) == (70, 0, "received")
    assert Movement.objects.get(tenant=world.tenant, kind="transfer_in", position=south).quantity == 30
    me = world.distributor.partner.pk
    assert events(world, tid) == [
        ("transfer.requested", me),
        ("transfer.approved", me),
        ("transfer.shipped", me),
        ("transfer.received", me),
    ]
    # Steps out of order are refused with the state named.
    for action in ("approve", "reject", "ship", "receive", "cancel"):
        refused = error(step(world.planner, world, tid, action), 409)
        assert "is received" in refused["message"]


def test_rejecting_and_cancelling_release_what_was_reserved(network):
    world = network
    rejected = ok(request(world.distributor, world, source="W-N", destination="W-S", quantity=10), 201)
    assert ok(step(world.planner, world, rejected["id"], "reject", note="not now"))["status"] == "rejected"
    assert position(world, "W-N").reserved == 0
    approved = ok(request(world.distributor, world, source="W-N", destination="W-S", quantity=25), 201)
    ok(step(world.planner, world, approved["id"], "approve"))
    assert position(world, "W-N").reserved == 25
    cancelled = ok(step(world.distributor, world, approved["id"], "cancel", note="found it elsewhere"))
    assert (cancelled["status"], lines(cancelled)[-1]) == ("cancelled", ("released", -25))
    assert position(world, "W-N").reserved == 0
    assert [kind for kind, _ in events(world, approved["id"])][-1] == "transfer.cancelled"


def test_a_distributor_sees_and_cancels_only_its_own_requests(network):
    world = network
    theirs = ok(request(world.distributor, world, source="W-N", destination_location="Dealer yard", quantity=5), 201)
    other = tenant_services.partner_create(tenant=world.tenant, kind="distributor", name="Other distributor")
    _, raw = tenant_services.api_key_create(tenant=world.tenant, partner=other, name="k")
    other_client = key_client(raw)
    assert ok(other_client.get(url(world, "transfers/")))["results"] == []
    assert error(other_client.get(url(world, f"transfers/{theirs['id']}/")), 404)["code"] == "not_found"
    assert error(other_client.post(url(world, f"transfers/{theirs['id']}/cancel/"), {}, format="json"), 404)
    # Staff file requests too; the distributor does not see those.
    ok(request(world.planner, world, source="W-X", destination="W-S", quantity=5), 201)
    mine = ok(world.distributor.client.get(url(world, "transfers/")))["results"]
    assert [t["id"] for t in mine] == [theirs["id"]]
    assert len(ok(world.erp.client.get(url(world, "transfers/")))["results"]) == 2


def test_bad_requests_are_refused_and_write_nothing(network):
    world = network
    hidden = error(request(world.distributor, world, source="W-X", destination="W-N", quantity=1), 400)
    unknown = error(request(world.distributor, world, source="NOPE", destination="W-N", quantity=1), 400)
    assert hidden["fields"]["source"] == ["No warehouse 'W-X' that you can see."]
    assert unknown["fields"]["source"] == ["No warehouse 'NOPE' that you can see."]  # no hint that W-X exists
    too_many = error(request(world.distributor, world, source="W-N", destination="W-S", quantity=101), 400)
    assert "can spare 100 units" in too_many["fields"]["quantity"][0]
    both = error(
        request(world.planner, world, source="W-N", destination="W-S", destination_location="x", quantity=1), 400
    )
    assert "destination" in both["fields"]
    same = error(request(world.planner, world, source="W-N", destination="W-N", quantity=1), 400)
    assert same["fields"]["destination"] == ["The destination is the source."]
    assert (
        "quantity" in error(request(world.planner, world, source="W-N", destination="W-S", quantity=0), 400)["fields"]
    )
    assert error(request(world.supplier, world, source="W-N", destination="W-S", quantity=1), 403)
    assert not TransferRequest.objects.filter(tenant=world.tenant).exists()


def test_a_sale_cannot_take_stock_that_a_transfer_reserved(network):
    world = network
    approved = ok(request(world.planner, world, source="W-N", destination="W-S", quantity=90), 201)
    ok(step(world.planner, world, approved["id"], "approve"))
    response = world.admin.client.post(
        url(world, "ingest/movements/"),
        [
            {
                "kind": "sale",
                "sku": "S",
                "warehouse": "W-N",
                "quantity": 20,
                "occurred_at": ts(0, hour=0),
                "external_ref": "too-much",
            }
        ],
        format="json",
        HTTP_IDEMPOTENCY_KEY="sale-into-reserved",
    )
    assert response.status_code == 400, response.content
    assert "reserved" in str(response.json()["error"]["fields"])
    assert (position(world, "W-N").on_hand, position(world, "W-N").reserved) == (100, 90)


def test_the_policy_approves_small_requests_on_its_own(network):
    world = network
    policy_url = url(world, "transfer-policy/")
    ok(
        world.admin.client.patch(
            policy_url, {"auto_approve_max_quantity": 5, "auto_approve_requires_overstock": False}, format="json"
        )
    )
    small = ok(request(world.distributor, world, source="W-N", destination="W-S", quantity=5), 201)
    # The distributor is told who decided as a role; staff see the policy named.
    assert (small["status"], small["approval"], small["decided_by"]) == ("approved", "policy", "system")
    assert ok(world.admin.client.get(url(world, f"transfers/{small['id']}/")))["decided_by"] == "policy"
    assert position(world, "W-N").reserved == 5
    assert (
        ok(request(world.distributor, world, source="W-N", destination="W-S", quantity=6), 201)["status"] == "requested"
    )
    # Requiring an overstock alert at the source: W-N has none, so even a small request waits.
    ok(world.admin.client.patch(policy_url, {"auto_approve_requires_overstock": True}, format="json"))
    assert (
        ok(request(world.distributor, world, source="W-N", destination="W-S", quantity=1), 201)["status"] == "requested"
    )
    # With a live overstock alert at W-N, the same small request is approved by the policy.
    north = position(world, "W-N")
    Alert.objects.create(
        tenant=world.tenant,
        position=north,
        sku=north.sku,
        warehouse=north.warehouse,
        rule="overstock",
        direction="overstock",
        grade="yellow",
        peak_grade="yellow",
        explanation="by hand",
        opened_at=timezone.now(),
    )
    idle = ok(request(world.distributor, world, source="W-N", destination="W-S", quantity=1), 201)
    assert (idle["status"], idle["approval"]) == ("approved", "policy")
    assert error(world.planner.client.patch(policy_url, {"low_cover_days": 3}, format="json"), 403)
    assert (
        "low_cover_days"
        in error(world.admin.client.patch(policy_url, {"low_cover_days": 0}, format="json"), 400)["fields"]
    )


def test_a_delivery_outside_the_network_leaves_no_stock_in_transit(network):
    world = network
    created = ok(
        request(world.distributor, world, source="W-N", destination_location="Dealer yard, Lyon", quantity=10), 201
    )
    ok(step(world.planner, world, created["id"], "approve"))
    shipped = ok(step(world.planner, world, created["id"], "ship"))
    assert lines(shipped)[-2:] == [("released", -10), ("shipped_out", -10)]
    received = ok(step(world.planner, world, created["id"], "receive"))
    assert lines(received)[-1] == ("delivered", 10)
    assert position(world, "W-N").on_hand == 90
    assert not Movement.objects.filter(tenant=world.tenant, kind="transfer_in").exists()


def test_accepting_a_transfer_proposal_files_an_approved_request(network):
    world = network
    north = position(world, "W-N")
    alert = Alert.objects.create(
        tenant=world.tenant,
        position=north,
        sku=north.sku,
        warehouse=north.warehouse,
        rule="overstock",
        direction="overstock",
        grade="orange",
        peak_grade="orange",
        explanation="by hand",
        opened_at=timezone.now(),
        recommendation={"action": "transfer", "quantity": 20, "to_warehouse": "W-S"},
    )
    proposal = Recommendation.objects.create(
        tenant=world.tenant,
        alert=alert,
        position=north,
        sku=north.sku,
        warehouse=north.warehouse,
        kind="transfer",
        grade="orange",
        method="sell_where_it_sells",
        summary="Move 20 to W-S",
        figures={"moves": [{"from_warehouse": "W-N", "to_warehouse": "W-S", "quantity": 20}]},
    )
    accepted = ok(world.planner.client.post(url(world, f"recommendations/{proposal.pk}/accept/"), {}, format="json"))
    assert accepted["status"] == "accepted"
    transfer = TransferRequest.objects.get(tenant=world.tenant, recommendation=proposal)
    assert (transfer.status, transfer.approval, transfer.quantity, transfer.destination.code) == (
        "approved",
        "plan",
        20,
        "W-S",
    )
    assert position(world, "W-N").reserved == 20
