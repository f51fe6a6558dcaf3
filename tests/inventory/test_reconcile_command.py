"""``inventory_reconcile`` re-derives positions and daily facts from the ledger."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from core.inventory.models import DailyFact, Position
from tests.support.ingest import push_rows, ts


def mixed_batches(world) -> None:
    rows = [
        {"kind": "receipt", "sku": "S", "warehouse": "W", "quantity": 100, "occurred_at": ts(20), "external_ref": "r"},
        {"kind": "sale", "sku": "S", "warehouse": "W", "quantity": 7, "occurred_at": ts(3), "external_ref": "s1"},
        {
            "kind": "sale",
            "sku": "S",
            "warehouse": "W",
            "quantity": 5,
            "occurred_at": ts(2),
            "external_ref": "s2",
            "unit_price": "0",
        },
        {"kind": "return", "sku": "S", "warehouse": "W", "quantity": 2, "occurred_at": ts(1), "external_ref": "t"},
        {"kind": "adjustment", "sku": "S", "warehouse": "W", "quantity": -1, "occurred_at": ts(1), "external_ref": "a"},
    ]
    assert push_rows(world.erp, world.tenant.slug, "movements", rows[:2]).status_code == 201
    assert push_rows(world.admin, world.tenant.slug, "movements", rows[2:]).status_code == 201


def reconcile(*args: str) -> str:
    out = StringIO()
    call_command("inventory_reconcile", *args, stdout=out)
    return out.getvalue()


def test_kept_state_equals_the_ledger_after_mixed_batches(shop) -> None:
    mixed_batches(shop)
    output = reconcile("--tenant", shop.tenant.slug)
    assert "0 position and 0 daily-fact differences" in output
    assert Position.objects.get(sku__code="S").on_hand == 100 - 7 - 5 + 2 - 1


def test_differences_are_reported_and_repaired(shop) -> None:
    mixed_batches(shop)
    Position.objects.filter(sku__code="S").update(on_hand=F("on_hand") + 3)
    DailyFact.objects.filter(position__sku__code="S", units_sold__gt=0).update(units_sold=F("units_sold") + 1)
    with pytest.raises(CommandError, match="--repair"):
        reconcile("--tenant", shop.tenant.slug)
    output = reconcile("--tenant", shop.tenant.slug, "--repair")
    assert "1 position and 1 daily-fact differences (repaired)" in output
    assert "0 position and 0 daily-fact differences" in reconcile()
    assert Position.objects.get(sku__code="S").on_hand == 89


def test_unknown_tenant_names_the_known_ones(shop) -> None:
    with pytest.raises(CommandError, match="Known tenants: acme"):
        reconcile("--tenant", "nope")
