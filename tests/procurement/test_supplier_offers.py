"""``supplier_offers_upsert``: offers by (SKU, supplier), all checked before any is written."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.inventory import master_services
from core.supply.models import SupplierOffer
from core.supply.services import supplier_offers_upsert


def offer(world, **changes) -> dict:
    return {
        "sku_id": world.sku.pk,
        "supplier_id": world.supplier.partner.pk,
        "rank": 1,
        "lead_time_days": 5,
        "unit_price": Decimal("1.1000"),
        **changes,
    }


def test_an_offer_is_created_then_updated_by_sku_and_supplier(world):
    assert supplier_offers_upsert(tenant=world.tenant, offers=[offer(world)]) == 1
    created = SupplierOffer.objects.get(tenant=world.tenant)
    assert (created.rank, created.reliability, created.min_order_quantity) == (1, Decimal("0.900"), 1)

    assert (
        supplier_offers_upsert(tenant=world.tenant, offers=[offer(world, rank=2, unit_price="1.3", reliability="0.75")])
        == 1
    )

    updated = SupplierOffer.objects.get(tenant=world.tenant)
    assert updated.pk == created.pk
    assert updated.created_at == created.created_at
    # Terms follow the push; reliability is the supplier's delivery record and a push does not reset it.
    assert (updated.rank, updated.unit_price, updated.reliability) == (2, Decimal("1.3000"), Decimal("0.900"))


@pytest.mark.parametrize(
    ("changes", "message"),  # the second of two offers is wrong
    [
        ({"supplier_id": "distributor"}, "is a distributor, not a supplier"),
        ({"supplier_id": "foreign supplier"}, "no partner"),
        ({"sku_id": "foreign sku"}, "no SKU"),
        ({"reliability": "1.5"}, "reliability"),
        ({"rank": 0}, "rank"),
        ({"colour": "red"}, "unknown"),
    ],
)
def test_a_wrong_offer_refuses_the_whole_list(world, other_world, changes, message):
    stand_ins = {
        "distributor": world.distributor.partner.pk,
        "foreign supplier": other_world.supplier.partner.pk,
        "foreign sku": other_world.sku.pk,
    }
    changes = {key: stand_ins.get(value, value) for key, value in changes.items()}
    second = master_services.sku_create(
        tenant=world.tenant,
        code="SKU-2",
        name="Pretzels",
        category=world.category,
        unit_cost=Decimal(1),
        list_price=Decimal(2),
    )
    with pytest.raises(ValidationError, match=message):
        supplier_offers_upsert(
            tenant=world.tenant, offers=[offer(world), offer(world, **{"sku_id": second.pk, **changes})]
        )
    assert not SupplierOffer.objects.exists()


def test_the_same_sku_and_supplier_twice_in_one_list_is_refused(world):
    with pytest.raises(ValidationError, match="the same SKU and supplier as offer 1"):
        supplier_offers_upsert(tenant=world.tenant, offers=[offer(world), offer(world, rank=2)])
    assert not SupplierOffer.objects.exists()
