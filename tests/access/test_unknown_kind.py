"""A partner kind the access registry has no row for gets nothing anywhere.

Each known kind in turn is first given everything its row lets it have (the world's warehouse
granted, a supplier offer and an RFQ, a transfer of its own, a webhook endpoint), then loses its row,
as a value added to ``PartnerKind`` without one would never have had it. Every route then answers
403 or 404, every selector finds nothing, and its endpoint hears no event. A made-up kind that is
not in the enum at all (``broker``) is refused the same way.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.access import registry
from core.access.registry import Can
from core.access.scope import partner_scope, warehouse_grant
from core.alerts.engine import chunk_evaluate
from core.alerts.selectors import alert_list
from core.inventory import master_services
from core.inventory.ingestion import movement_rows_parse, movements_ingest
from core.inventory.models import Position
from core.procurement import selectors as procurement
from core.supply import selectors as supply
from core.supply.services import supplier_offers_upsert
from core.transfers import selectors as transfers
from core.transfers.services import transfer_reject, transfer_request_create
from core.webhooks.models import Delivery
from core.webhooks.outbox import EVENT_TYPES
from core.webhooks.relay import outbox_relay
from core.webhooks.services import endpoint_create
from tenants.models import Partner
from tenants.principals import Principal
from tenants.selectors import api_keys_forget
from tests.support.endpoints import ENDPOINTS, _procured, _transferring, call, ids_in

KINDS = [str(kind) for kind in registry.partner_kinds()]
HOOK = "http://127.0.0.1:9/hook"


def _row_taken_away(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.delitem(registry.KINDS, kind)
    for key in [key for key in registry.REGISTRY if key[0] == kind]:
        monkeypatch.delitem(registry.REGISTRY, key)


def _given_everything(world, partner: Partner) -> None:
    """What any row could let a partner see: the warehouse granted, offers on the world's SKUs, an
    RFQ it is invited to, a transfer request (its own if its kind files them)."""
    if registry.scope_of(partner.kind) == registry.Scope.WAREHOUSES_GRANTED:
        warehouse_grant(partner=partner, warehouses=[world.warehouse])
    _procured(world)  # offers and an RFQ of the world's supplier
    _transferring(world)
    if registry.may(Principal(tenant=world.tenant, partner=partner), Can.FILE_TRANSFERS):
        world.own_transfer = transfer_request_create(
            principal=Principal(tenant=world.tenant, partner=partner),
            tenant=world.tenant,
            sku=world.sku.code,
            source=world.warehouse.code,
            destination_location="yard",
            quantity=1,
        )


def _partner(world, kind: str) -> Partner:
    """The world's partner of ``kind`` given everything, then without a row; ``broker``: the world's
    distributor given everything, then of a kind nobody knows."""
    partner = world.caller("distributor" if kind == "broker" else kind).partner
    _given_everything(world, partner)
    if kind == "broker":
        Partner.objects.filter(pk=partner.pk).update(kind="broker")
        partner.kind = "broker"
        # Written around the services, as a kind dropped from the registry would be met after a
        # deployment: its processes start with no key kept in memory.
        api_keys_forget()
    return partner


@pytest.mark.parametrize("kind", [*KINDS, "broker"])
def test_a_kind_without_a_row_is_refused_every_route(kind: str, world, monkeypatch) -> None:
    client = world.caller("distributor" if kind == "broker" else kind).client
    me = f"/api/v1/tenants/{world.tenant.slug}/me/"
    assert client.get(me).status_code == 200  # with its row, the kind is let in
    partner = _partner(world, kind)
    urls = [
        (endpoint, endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))) for endpoint in ENDPOINTS
    ]
    if kind != "broker":
        _row_taken_away(monkeypatch, kind)

    answers = {str(endpoint): call(client, endpoint, url).status_code for endpoint, url in urls}
    assert set(answers.values()) <= {403, 404}, {name: code for name, code in answers.items() if code not in (403, 404)}
    for url in {url for _, url in urls}:
        assert client.options(url).status_code == 403, url

    principal = Principal(tenant=world.tenant, partner=partner)
    assert alert_list(principal=principal).exists() is False
    assert transfers.shared_stock(principal=principal).exists() is False
    assert transfers.transfer_list(principal=principal).exists() is False
    # Offers are supply's master data, below the registry: a partner reads only those naming it.
    assert supply.offer_list(principal=principal).exclude(supplier=partner).exists() is False
    assert procurement.rfq_list(principal=principal).exists() is False
    assert procurement.purchase_order_list(principal=principal).exists() is False
    scope = partner_scope(partner)
    assert scope.skus is None
    assert not scope.warehouses.exists()


def _ingest(world, rows: list[dict]) -> None:
    columns, errors = movement_rows_parse(rows)
    assert not errors, errors
    movements_ingest(tenant=world.tenant, source="fixture", columns=columns)


@pytest.mark.parametrize(
    ("kind", "row"),
    [*((kind, True) for kind in KINDS), *((kind, False) for kind in KINDS), ("broker", False)],
    ids=lambda value: {True: "with its row", False: "without"}.get(value, value),
)
def test_a_kind_without_a_row_hears_no_event(kind: str, row: bool, world, monkeypatch) -> None:
    partner = world.caller("distributor" if kind == "broker" else kind).partner
    sku = master_services.sku_create(
        tenant=world.tenant, code="SKU-OLD", name="Old", category=world.category, unit_cost=1, list_price=2
    )
    partner = _partner(world, kind)
    if registry.may(Principal(tenant=world.tenant, partner=partner), Can.SUPPLY):
        offer = {"sku_id": sku.id, "supplier_id": partner.id, "rank": 2, "lead_time_days": 3, "unit_price": "1.1"}
        supplier_offers_upsert(tenant=world.tenant, offers=[offer])
    outbox_relay()  # what setting up emitted goes out before the endpoints exist
    theirs, _ = endpoint_create(
        tenant=world.tenant, actor="fixture", url=HOOK, event_types=sorted(EVENT_TYPES), partner=partner
    )
    ours, _ = endpoint_create(tenant=world.tenant, actor="fixture", url=HOOK, event_types=sorted(EVENT_TYPES))
    if not row and kind != "broker":
        _row_taken_away(monkeypatch, kind)

    # An overstock alert on the SKU it supplies at the warehouse it was granted, a flagged sale, and a
    # transfer request rejected (addressed to it, where it filed one).
    old, recent = timezone.now() - timedelta(days=200), timezone.now() - timedelta(days=1)
    at = {"warehouse": world.warehouse.code}
    _ingest(
        world,
        [
            {
                **at,
                "sku": sku.code,
                "kind": "receipt",
                "quantity": "50",
                "occurred_at": old.isoformat(),
                "external_ref": "old",
            },
            {
                **at,
                "sku": world.sku.code,
                "kind": "sale",
                "quantity": "1",
                "occurred_at": recent.isoformat(),
                "external_ref": "free",
                "unit_price": "0",
            },
        ],
    )
    ids = list(Position.objects.filter(tenant=world.tenant).values_list("pk", flat=True))
    chunk_evaluate(tenant=world.tenant, position_ids=ids, today=timezone.now().date(), actor="system")
    staff = Principal(tenant=world.tenant, user=world.admin.user, role="admin")
    transfer = getattr(world, "own_transfer", None) or transfers.transfer_get(
        principal=staff, transfer_id=world.transfer_id
    )
    transfer_reject(transfer=transfer, actor=staff, note="not now")
    outbox_relay()

    heard = set(Delivery.objects.filter(endpoint=theirs).values_list("event__type", flat=True))
    told = set(Delivery.objects.filter(endpoint=ours).values_list("event__type", flat=True))
    assert {"alert.opened", "stock.anomaly_flagged", "transfer.rejected"} <= told
    if row:
        assert "alert.opened" in heard  # every kind with a row hears of the alerts of its scope
        assert ("transfer.rejected" in heard) == bool(registry.event_keys(kind, "transfer.rejected"))
    else:
        assert heard == set()
