"""A SKU about to run out, its primary supplier and four backups with their own keys.

S at W sold 10 a day for the last 28 days and has 50 left: 5 days of cover against the primary's
10-day lead time, a red stock-out alert (deviation 0.5). Backups, by rank:

| rank | name  | lead | price | freight | duty | MOQ | capacity/wk | reliability | fate                      |
| 2    | quick | 3    | 1.00  | 0.10    | 0    | 1   | -           | 0.90        | invited (landed 1.10)     |
| 3    | cheap | 4    | 0.95  | 0.05    | 5 %  | 40  | -           | 0.95        | invited (landed 1.0475)   |
| 4    | slow  | 9    | 0.80  | 0       | 0    | 1   | -           | 0.99        | skipped: lands after day 5 |
| 5    | tiny  | 2    | 1.20  | 0       | 0    | 1   | 10          | 0.90        | skipped: capacity          |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.supply.services import supplier_offers_upsert
from core.webhooks.models import OutboxEvent
from tenants import services
from tenants.models import Partner, PartnerKind
from tests.support.calls import pushed, url
from tests.support.ingest import ts
from tests.support.world import Caller, TenantWorld, key_client
from workers.tasks.procurement import procurement_respond

TODAY = timezone.now().date()

BACKUPS = {
    # name: (rank, lead, price, freight, duty, moq, capacity, reliability)
    "quick": (2, 3, "1.00", "0.10", "0", 1, None, "0.900"),
    "cheap": (3, 4, "0.95", "0.05", "0.05", 40, None, "0.950"),
    "slow": (4, 9, "0.80", "0", "0", 1, None, "0.990"),
    "tiny": (5, 2, "1.20", "0", "0", 1, 10, "0.900"),
}


@dataclass
class Shortage:
    world: TenantWorld
    suppliers: dict[str, Caller]  # the backups by name, each with its own key

    def partner(self, name: str) -> Partner:
        return self.suppliers[name].partner


def backup_suppliers(world: TenantWorld, sku: str = "S", names: tuple[str, ...] = tuple(BACKUPS)) -> dict[str, Caller]:
    callers = {}
    offers = [
        {"sku": sku, "supplier_id": world.supplier.partner.pk, "rank": 1, "lead_time_days": 10, "unit_price": "0.90"}
    ]
    for name in names:
        rank, lead, price, freight, duty, moq, capacity, reliability = BACKUPS[name]
        partner = Partner.objects.filter(tenant=world.tenant, name=f"backup {name}").first()
        if partner is None:
            partner = services.partner_create(
                tenant=world.tenant,
                kind=PartnerKind.SUPPLIER,
                name=f"backup {name}",
                contact_email=f"{name}@example.com",
            )
        _, raw = services.api_key_create(tenant=world.tenant, partner=partner, name="erp")
        callers[name] = Caller(client=key_client(raw), partner=partner, raw_key=raw)
        offers.append(
            {
                "sku": sku,
                "supplier_id": partner.pk,
                "rank": rank,
                "lead_time_days": lead,
                "unit_price": Decimal(price),
                "freight_per_unit": Decimal(freight),
                "duty_rate": Decimal(duty),
                "min_order_quantity": moq,
                "capacity_per_week": capacity,
                "reliability": Decimal(reliability),
            }
        )
    supplier_offers_upsert(tenant=world.tenant, offers=offers)
    return callers


def short_stock(world: TenantWorld, sku: str = "S", warehouse: str = "W", prefix: str = "") -> None:
    """330 received 40 days ago, 10 sold on each of the last 28 days (today too): 50 left, ads_28 10."""
    rows = [
        {
            "kind": "receipt",
            "sku": sku,
            "warehouse": warehouse,
            "quantity": 330,
            "occurred_at": ts(40),
            "external_ref": f"{prefix}in",
        }
    ]
    rows += [
        {
            "kind": "sale",
            "sku": sku,
            "warehouse": warehouse,
            "quantity": 10,
            "occurred_at": ts(day, hour=0),
            "external_ref": f"{prefix}sale-{day}",
            "unit_price": "2",
        }
        for day in range(28)
    ]
    pushed(world, "movements", rows)


def respond(world) -> None:
    """What the relay hands the procurement task: the ids of the alert events not yet handed."""
    ids = list(OutboxEvent.objects.filter(tenant=world.tenant, type__startswith="alert.").values_list("id", flat=True))
    procurement_respond(ids)


def quote(caller, world, rfq_id: str, **body):
    payload = {
        "unit_price": "1.00",
        "quantity": 150,
        "lead_time_days": 3,
        "valid_until": str(TODAY + timedelta(days=30)),
        **body,
    }
    return caller.client.post(url(world, f"rfqs/{rfq_id}/quotes/"), payload, format="json")
