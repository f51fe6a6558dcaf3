"""Alerts made as the engine makes them, for the console's tests: master data and movements pushed
through the bulk endpoints, the engine's incremental pass, and SKU policies that move a SKU's
overstock deviation into the grade a test needs; everything read back through the API.

Every position stocked here received 100 units 200 days ago and sold 10 of them 44 days ago, so
its turnover days are far beyond the 180-day standard: a red overstock alert. A SKU policy's
``standard`` of turnover days / factor gives a deviation of factor - 1 (yellow from 10 %, orange
20 %, red 30 %).
"""

from __future__ import annotations

from decimal import Decimal

from tests.support.calls import evaluate, ok, pushed, url
from tests.support.ingest import ts
from tests.support.world import TenantWorld

FACTORS = {"yellow": Decimal("1.15"), "orange": Decimal("1.25"), "red": Decimal("1.5")}


def master(world: TenantWorld, *, categories: dict[str, str], warehouses: dict[str, str], skus: dict[str, str]) -> None:
    """Categories (code: name), warehouses (code: region) and SKUs (code: category code), unit cost 1
    and list price 2, pushed as a partner system would."""
    pushed(world, "categories", [{"code": code, "name": name} for code, name in categories.items()])
    pushed(
        world,
        "warehouses",
        [
            {"code": code, "name": f"Store {code}", "region": region, "kind": "store"}
            for code, region in warehouses.items()
        ],
    )
    pushed(
        world,
        "skus",
        [
            {"code": code, "name": f"Item {code}", "category": category, "unit_cost": "1", "list_price": "2"}
            for code, category in skus.items()
        ],
    )


def overstocked(world: TenantWorld, positions: list[tuple[str, str]], *, evaluated: bool = True) -> None:
    """Long-held stock at each (SKU, warehouse): a red overstock alert each once the engine runs."""
    rows = []
    for sku, warehouse in positions:
        ref = f"console-{sku}-{warehouse}"
        rows.append(
            {
                "kind": "receipt",
                "sku": sku,
                "warehouse": warehouse,
                "quantity": 100,
                "occurred_at": ts(200),
                "external_ref": f"{ref}-in",
            }
        )
        rows.append(
            {
                "kind": "sale",
                "sku": sku,
                "warehouse": warehouse,
                "quantity": 10,
                "occurred_at": ts(44),
                "external_ref": f"{ref}-out",
            }
        )
    pushed(world, "movements", rows)
    if evaluated:
        evaluate(world)


def graded(world: TenantWorld, sku: str, grade: str) -> None:
    """The SKU's overstock alerts moved to ``grade`` by a SKU policy, then the engine's pass."""
    readings = ok(world.admin.client.get(url(world, "indicators/"), {"sku": sku}))["results"]
    turnover = Decimal(str(readings[0]["turnover_days"]))
    standard = (turnover / FACTORS[grade]).quantize(Decimal("0.0001"))
    body = {"rule": "overstock", "sku": sku, "standard": str(standard)}
    ok(world.admin.client.post(url(world, "alert-policies/"), body, format="json"), 201)
    evaluate(world)


def api_alerts(world: TenantWorld, caller=None, **params: object) -> list[dict]:
    """Every alert ``alerts/`` lists for these parameters (all pages)."""
    client = (caller or world.planner).client
    found, page = [], ok(client.get(url(world, "alerts/"), {"page_size": 1000, **params}))
    found += page["results"]
    while page.get("next"):
        page = ok(client.get(page["next"]))
        found += page["results"]
    return found


def api_alert(world: TenantWorld, alert_id: str, caller=None) -> dict:
    return ok((caller or world.planner).client.get(url(world, f"alerts/{alert_id}/")))
