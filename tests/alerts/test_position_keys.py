"""Alerts and readings point at their position with one composite key: tenant, SKU and warehouse
must be the position's, or the transaction is refused at commit."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.alerts.models import Alert, IndicatorReading
from core.inventory.models import Position, Sku
from tenants.services import tenant_create
from tests.support.ingest import push_rows, ts

pytestmark = pytest.mark.usefixtures("transactional_db")


def _position(shop) -> Position:
    line = {"kind": "receipt", "sku": "S", "warehouse": "W", "quantity": 5, "occurred_at": ts(1), "external_ref": "r"}
    assert push_rows(shop.admin, shop.tenant.slug, "movements", [line]).status_code == 201
    push_rows(
        shop.admin,
        shop.tenant.slug,
        "skus",
        [{"code": "OTHER", "name": "O", "category": "C", "unit_cost": "1", "list_price": "2"}],
    )
    return Position.objects.get(tenant=shop.tenant, sku__code="S")


def _alert(position: Position, sku_id: object) -> Alert:
    now = timezone.now()
    return Alert(
        tenant_id=position.tenant_id,
        position=position,
        sku_id=sku_id,
        warehouse_id=position.warehouse_id,
        rule="overstock",
        direction="over",
        grade="yellow",
        peak_grade="yellow",
        explanation="test",
        opened_at=now,
    )


def test_an_alert_whose_sku_is_not_its_positions_is_refused(shop) -> None:
    position = _position(shop)
    other = Sku.objects.get(tenant=shop.tenant, code="OTHER")
    with pytest.raises(IntegrityError, match="alert_position_identity"), transaction.atomic():
        _alert(position, other.pk).save()
    assert not Alert.objects.exists()
    foreign = tenant_create(slug="elsewhere", name="Elsewhere")
    alert = _alert(position, position.sku_id)
    alert.tenant_id = foreign.pk  # another tenant's alert on this tenant's position
    with pytest.raises(IntegrityError, match="alert_position_identity"), transaction.atomic():
        alert.save()
    assert not Alert.objects.exists()
    with transaction.atomic():
        _alert(position, position.sku_id).save()  # the position's own tenant and SKU are fine
    assert Alert.objects.count() == 1


def test_a_reading_of_another_positions_warehouse_is_refused(shop) -> None:
    position = _position(shop)
    push_rows(
        shop.admin, shop.tenant.slug, "warehouses", [{"code": "W2", "name": "W2", "region": "r", "kind": "store"}]
    )
    elsewhere = position.warehouse.__class__.objects.get(tenant=shop.tenant, code="W2")
    fields = {f.column: 0 for f in IndicatorReading._meta.concrete_fields if f.get_internal_type() != "ForeignKey"}
    fields.update(as_of=timezone.now().date(), changed_at=timezone.now(), stockout_risk=False, overstock=False)
    fields.update(projected_stock_out_on=None, days_of_cover_source="moving_average")
    fields.pop("position_id", None)
    with pytest.raises(IntegrityError, match="indicatorreading_position_identity"), transaction.atomic():
        IndicatorReading.objects.create(
            position=position, tenant_id=position.tenant_id, sku_id=position.sku_id, warehouse=elsewhere, **fields
        )
    assert not IndicatorReading.objects.exists()
    with transaction.atomic():  # the position's own warehouse is fine
        IndicatorReading.objects.create(
            position=position,
            tenant_id=position.tenant_id,
            sku_id=position.sku_id,
            warehouse_id=position.warehouse_id,
            **fields,
        )
    assert IndicatorReading.objects.count() == 1
