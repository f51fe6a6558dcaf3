"""Warehouse grants as guardian object permissions held by a partner's group: their names and SQL.

A grant is ``view_warehouse`` (stock as bands: available, low, out) and, for exact quantities, also
``view_warehouse_quantities``; both live in the direct foreign-key table of warehouses. Which
partners are granted warehouses, and what a grant lets them see, is the access registry's to say
(``core.access.scope`` grants and revokes).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from core.inventory.models import WarehouseGroupObjectPermission
from tenants.models import Partner

WAREHOUSE_VIEW = "inventory.view_warehouse"
WAREHOUSE_QUANTITIES = "inventory.view_warehouse_quantities"
GRANT_MODES = ("exact", "bands")


def granted(partner: Partner, warehouse: OuterRef, permission: str = WAREHOUSE_VIEW) -> Exists:
    """SQL: the partner's group holds ``permission`` on ``warehouse`` (an outer query's column), a
    join on guardian's direct table that lists filter by and annotate with in their one query."""
    return Exists(
        WarehouseGroupObjectPermission.objects.filter(
            group_id=partner.group_id, content_object_id=warehouse, permission__codename=permission.split(".")[1]
        )
    )
