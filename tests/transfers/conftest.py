"""A brand with three warehouses and a distributor granted two of them.

W-N (north) holds 100 of S, W-S (south) 40, W-X (export, not granted) 60. The distributor sees
W-N with exact quantities and W-S as bands only. Nothing has sold, so no position has a safety
stock yet and each can spare what it has available.
"""

from __future__ import annotations

import pytest

from core.inventory.grants import warehouse_grant
from core.inventory.models import Warehouse
from tests.support.calls import pushed
from tests.support.ingest import ts
from tests.support.world import TenantWorld


@pytest.fixture
def network(world) -> TenantWorld:
    pushed(world, "categories", [{"code": "C", "name": "C"}])
    pushed(
        world,
        "warehouses",
        [
            {"code": "W-N", "name": "North", "region": "north", "kind": "distribution_centre"},
            {"code": "W-S", "name": "South", "region": "south", "kind": "store"},
            {"code": "W-X", "name": "Export", "region": "north", "kind": "third_party"},
        ],
    )
    pushed(world, "skus", [{"code": "S", "name": "Boots", "category": "C", "unit_cost": "10", "list_price": "25"}])
    pushed(
        world,
        "movements",
        [
            {
                "kind": "receipt",
                "sku": "S",
                "warehouse": code,
                "quantity": quantity,
                "occurred_at": ts(5),
                "external_ref": f"in-{code}",
            }
            for code, quantity in (("W-N", 100), ("W-S", 40), ("W-X", 60))
        ],
    )
    partner = world.distributor.partner
    warehouse_grant(partner=partner, warehouses=Warehouse.objects.filter(tenant=world.tenant, code="W-N"))
    warehouse_grant(
        partner=partner, warehouses=Warehouse.objects.filter(tenant=world.tenant, code="W-S"), quantities="bands"
    )
    return world
