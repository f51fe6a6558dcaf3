"""A tenant whose positions carry figures no answer could hold by chance, seen by every audience.

Three positions, each with five-digit quantities nothing else in an answer is near:

- ``SKU-V`` at ``WH-E`` (east) and at ``WH-B`` (west): stock received 200 days ago and never sold,
  so an overstock alert each (its clearance quantity is the stock on hand);
- ``SKU-W`` at ``WH-B``: sold fast for four weeks, 10 days of cover (a ``low`` band) against the
  primary supplier's 173-day lead time, so a red stock-out alert and an RFQ to the backup supplier
  (the world's supplier, 5 days).

Audiences: the world's supplier (a backup of both SKUs), a distributor granted both warehouses
with numbers (``distributor:exact``), one granted both as bands (``distributor:bands``), the world's
distributor with WH-E exact and WH-B bands (``distributor:mixed``), and the ERP. A staff member
acknowledged WH-B's overstock alert with a note that names its stock, and approved a transfer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.alerts.engine import chunk_evaluate
from core.alerts.models import Alert, RuleCode
from core.alerts.services import alert_acknowledge
from core.inventory import master_services
from core.inventory.grants import warehouse_grant
from core.inventory.ingestion import movement_rows_parse, movements_ingest
from core.inventory.models import Position, Warehouse
from core.procurement.models import PurchaseOrder, Rfq
from core.procurement.rfqs import rfq_open_for_alert
from core.supply.services import supplier_offers_upsert
from tenants import services as tenant_services
from tenants.models import PartnerKind
from tenants.principals import SYSTEM_ACTOR, Principal
from tests.support.world import Caller, TenantWorld, key_client

RIVAL_LEAD_TIME = 173  # the primary supplier's term: a competitor's, for the world's supplier


@dataclass
class Figured:
    world: TenantWorld
    callers: dict[str, Caller]  # audience -> caller
    positions: dict[str, Position]  # "E" (SKU-V at WH-E), "B" (SKU-V at WH-B), "W" (SKU-W at WH-B)
    alerts: dict[str, Alert]  # by position label
    rfq: Rfq
    order: PurchaseOrder
    staff_names: list[str] = field(default_factory=list)  # user names and key prefixes of staff

    def figures(self, label: str) -> dict[str, int]:
        position = Position.objects.get(pk=self.positions[label].pk)
        return {
            "on_hand": position.on_hand,
            "available": position.on_hand - position.reserved,
            "reserved": position.reserved,
            "in_transit": position.in_transit,
        }


def _ingest(world: TenantWorld, rows: list[dict]) -> None:
    columns, errors = movement_rows_parse(rows)
    assert not errors, errors
    movements_ingest(tenant=world.tenant, source="fixture", columns=columns)


def _distributor(world: TenantWorld, name: str, exact: list[Warehouse], bands: list[Warehouse]) -> Caller:
    partner = tenant_services.partner_create(tenant=world.tenant, kind=PartnerKind.DISTRIBUTOR, name=name)
    key, raw = tenant_services.api_key_create(tenant=world.tenant, partner=partner, name="integration")
    if exact:
        warehouse_grant(partner=partner, warehouses=exact, quantities="exact")
    if bands:
        warehouse_grant(partner=partner, warehouses=bands, quantities="bands")
    return Caller(client=key_client(raw), key=key, raw_key=raw, partner=partner)


def build_figured(world: TenantWorld) -> Figured:
    tenant = world.tenant
    east = master_services.warehouse_create(tenant=tenant, code="WH-E", name="East", region="east", kind="store")
    west = master_services.warehouse_create(tenant=tenant, code="WH-B", name="West", region="west", kind="store")
    skus = {
        code: master_services.sku_create(
            tenant=tenant,
            code=code,
            name=name,
            category=world.category,
            unit_cost=Decimal("1.2000"),
            list_price=Decimal("2.5000"),
        )
        for code, name in (("SKU-V", "Vests"), ("SKU-W", "Wellies"))
    }
    rival = tenant_services.partner_create(tenant=tenant, kind=PartnerKind.SUPPLIER, name="Rival")
    supplier_offers_upsert(
        tenant=tenant,
        offers=[
            {"sku_id": sku.pk, "supplier_id": supplier.pk, "rank": rank, "lead_time_days": lead, "unit_price": "1.1"}
            for sku in skus.values()
            for supplier, rank, lead in ((rival, 1, RIVAL_LEAD_TIME), (world.supplier.partner, 2, 5))
        ],
    )

    def line(kind: str, sku: str, warehouse: str, quantity: int, days_ago: int, ref: str, **extra: str) -> dict:
        occurred = (timezone.now() - timedelta(days=days_ago)).isoformat()
        return {"kind": kind, "sku": sku, "warehouse": warehouse, "quantity": str(quantity)} | {
            "occurred_at": occurred,
            "external_ref": ref,
            **extra,
        }

    _ingest(
        world,
        [
            line("receipt", "SKU-V", "WH-E", 52913, 200, "in-e"),
            line("receipt", "SKU-V", "WH-B", 48317, 200, "in-b"),
            line("receipt", "SKU-W", "WH-B", 190000, 40, "in-w"),
            *(line("sale", "SKU-W", "WH-B", 46660, days_ago, f"out-w-{days_ago}") for days_ago in (21, 14, 7)),
        ],
    )
    # A zero-price sale of 3 at WH-B: flagged as an anomaly (and an event) but still off the shelf.
    _ingest(world, [line("sale", "SKU-V", "WH-B", 3, 1, "free-b", unit_price="0")])
    at = {
        label: Position.objects.get(tenant=tenant, sku=skus[sku], warehouse=wh)
        for label, sku, wh in (
            ("E", "SKU-V", east),
            ("B", "SKU-V", west),
            ("W", "SKU-W", west),
        )
    }
    Position.objects.filter(pk=at["E"].pk).update(in_transit=61207)
    Position.objects.filter(pk=at["B"].pk).update(reserved=1206, in_transit=3529)
    Position.objects.filter(pk=at["W"].pk).update(in_transit=20417)
    ids = list(Position.objects.filter(tenant=tenant).values_list("id", flat=True))
    chunk_evaluate(tenant=tenant, position_ids=ids, today=timezone.now().date(), actor=SYSTEM_ACTOR)

    alerts = {
        "E": Alert.objects.get(position=at["E"], rule=RuleCode.OVERSTOCK),
        "B": Alert.objects.get(position=at["B"], rule=RuleCode.OVERSTOCK),
        "W": Alert.objects.get(position=at["W"], rule=RuleCode.STOCK_OUT_RISK),
    }
    staff = Principal(tenant=tenant, user=world.admin.user, role="admin", api_key=world.admin.key)
    alert_acknowledge(alert=alerts["B"], actor=staff, note="Counted 48314 on the shelf; 1206 held back.")
    rfq = rfq_open_for_alert(alert_id=alerts["W"].pk)
    assert rfq is not None
    assert rfq.invitations.filter(supplier=world.supplier.partner).exists()
    order = PurchaseOrder.objects.create(
        tenant=tenant,
        reference="PO-FIGURED",
        rfq=rfq,
        supplier=world.supplier.partner,
        position=at["W"],
        quantity=10,
        unit_price=1,
        expected_on=timezone.now().date() + timedelta(days=5),
    )
    callers = {
        "supplier": world.supplier,
        "distributor:exact": _distributor(world, "Exact distributor", [east, west], []),
        "distributor:bands": _distributor(world, "Bands distributor", [], [east, west]),
        "distributor:mixed": world.distributor,
        "erp": world.erp,
    }
    warehouse_grant(partner=world.distributor.partner, warehouses=[east], quantities="exact")
    warehouse_grant(partner=world.distributor.partner, warehouses=[west], quantities="bands")
    staff_names = [
        *(getattr(world, role).user.get_username() for role in ("admin", "planner", "analyst")),
        *(getattr(world, role).key.prefix for role in ("admin", "planner", "analyst")),
    ]
    return Figured(
        world=world, callers=callers, positions=at, alerts=alerts, rfq=rfq, order=order, staff_names=staff_names
    )
