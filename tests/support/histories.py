"""Hand-made daily histories pushed through ingestion, as a partner system would push them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.inventory.models import Sku
from core.supply.services import supplier_offers_upsert
from tests.support.ingest import push_accepted, push_rows, ts

TODAY = timezone.now().date()
DAYS = 120


def sku_with_history(world, code: str, daily: list[int], *, category: str | None = None, **fields: object) -> None:
    """A SKU of the world's category (or ``category``, a code) in WH-1, with further master ``fields``,
    stocked well before ``daily`` starts, and one sale line per day with demand (``daily[-1]`` is
    yesterday)."""
    slug = world.tenant.slug
    row = {"code": code, "name": code, "category": category or world.category.code, "unit_cost": "1", "list_price": "2"}
    response = push_rows(world.admin, slug, "skus", [{**row, **fields}])
    assert response.status_code == 201, response.json()
    rows = [
        {
            "kind": "receipt",
            "sku": code,
            "warehouse": world.warehouse.code,
            "quantity": 100_000,
            "occurred_at": ts(len(daily) + 1),
            "external_ref": f"{code}-stock",
        }
    ]
    rows += [
        {
            "kind": "sale",
            "sku": code,
            "warehouse": world.warehouse.code,
            "quantity": units,
            "unit_price": "2",
            "occurred_at": ts(len(daily) - i),
            "external_ref": f"{code}-sale-{i}",
        }
        for i, units in enumerate(daily)
        if units
    ]
    # One batch: the spike test reads its baseline from the days before a batch, and there are none.
    response = push_rows(world.admin, slug, "movements", rows)
    assert response.status_code == 201, response.json()


def intermittent(days: int = DAYS) -> list[int]:
    # A demand every fourth day, of 3 or 4 units: ADI 4, CV² small.
    return [(3 + (i // 4) % 2) if i % 4 == 0 else 0 for i in range(days)]


def weekly(days: int = DAYS) -> list[int]:
    # Every day, with Saturdays twice the other days: ADI 1, CV² about 0.1.
    return [20 if (TODAY - timedelta(days=days - i)).weekday() == 5 else 10 for i in range(days)]


def steady_sales(world, warehouse: str, held: int, *, sku: str = "S", days: int = DAYS, per_day: int = 10) -> None:
    """``per_day`` of ``sku`` sold at ``warehouse`` on each of the last ``days`` days (the last
    yesterday), received the morning of the first: every day of the history sold, ``held`` left."""
    rows = [
        {
            "kind": "receipt",
            "sku": sku,
            "warehouse": warehouse,
            "quantity": per_day * days + held,
            "occurred_at": ts(days, hour=1),
            "external_ref": f"{warehouse}-in",
        }
    ]
    rows += [
        {
            "kind": "sale",
            "sku": sku,
            "warehouse": warehouse,
            "quantity": per_day,
            "unit_price": "2",
            "occurred_at": ts(day),
            "external_ref": f"{warehouse}-sale-{day}",
        }
        for day in range(1, days + 1)
    ]
    response = push_rows(world.admin, world.tenant.slug, "movements", rows)
    assert response.status_code == 201, response.content


def primary_supplier(world, sku: str, lead_time_days: int) -> None:
    """The world's supplier as ``sku``'s only (primary) source, ``lead_time_days`` away."""
    supplier_offers_upsert(
        tenant=world.tenant,
        offers=[
            {
                "sku_id": Sku.objects.get(tenant=world.tenant, code=sku).pk,
                "supplier_id": world.supplier.partner.pk,
                "rank": 1,
                "lead_time_days": lead_time_days,
                "unit_price": "1",
                "min_order_quantity": 1,
            }
        ],
    )


def selling_at_two_warehouses(world, held: dict[str, int], *, lead_time_days: int) -> None:
    """S at W and W2 (made here), 10 a day for the last ``DAYS`` days with ``held`` left at each
    (by warehouse code); its primary supplier ``lead_time_days`` away."""
    push_accepted(
        world.admin, world.tenant.slug, "warehouses", [{"code": "W2", "name": "W2", "region": "r", "kind": "store"}]
    )
    primary_supplier(world, "S", lead_time_days)
    for warehouse, units in held.items():
        steady_sales(world, warehouse, units)
