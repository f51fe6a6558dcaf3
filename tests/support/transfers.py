"""The transfer tests' network: S at one of its warehouses."""

from __future__ import annotations

from core.inventory.models import Position
from tests.support.world import TenantWorld


def position(world: TenantWorld, warehouse: str) -> Position:
    return Position.objects.get(tenant=world.tenant, sku__code="S", warehouse__code=warehouse)
