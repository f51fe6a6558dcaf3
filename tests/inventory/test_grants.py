"""``warehouse_grant``: a distributor's group sees the warehouses granted to it, nothing else."""

import pytest
from django.core.exceptions import ValidationError
from guardian.shortcuts import get_objects_for_group

from core.access.scope import warehouse_grant
from core.inventory import master_services
from core.inventory.models import Warehouse


def visible(partner) -> set[str]:
    return set(
        get_objects_for_group(partner.group, "inventory.view_warehouse", klass=Warehouse).values_list("code", flat=True)
    )


def test_a_distributor_is_granted_warehouses_once(world):
    partner = world.distributor.partner
    south = master_services.warehouse_create(
        tenant=world.tenant, code="WH-2", name="South DC", region="south", kind="distribution_centre"
    )

    assert (
        warehouse_grant(partner=partner, warehouses=Warehouse.objects.filter(tenant=world.tenant, region="north")) == 1
    )
    assert warehouse_grant(partner=partner, warehouses=[world.warehouse]) == 0  # again: nothing new

    assert visible(partner) == {"WH-1"}
    assert south.code not in visible(partner)
    assert partner.group.user_set.count() == 0  # held by the group, not by any user


def test_only_a_distributor_is_granted_warehouses(world):
    with pytest.raises(ValidationError, match="this partner is a supplier"):
        warehouse_grant(partner=world.supplier.partner, warehouses=[world.warehouse])
    assert visible(world.supplier.partner) == set()


def test_another_tenants_warehouse_is_refused(world, other_world):
    with pytest.raises(ValidationError, match="Not warehouses of this partner's tenant: WH-1"):
        warehouse_grant(partner=world.distributor.partner, warehouses=[world.warehouse, other_world.warehouse])
    assert visible(world.distributor.partner) == set()
