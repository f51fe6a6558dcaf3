"""A hand-made position for the what-if sandbox's tests, pushed through the bulk endpoints as an ERP would,
and the live tenant's row counts the sandbox must leave as they were.

SKU ``HAND`` in category ``C``: at warehouse ``W`` ``RECEIVED`` units received 40 days ago and ``DAILY``
sold on each of the last 28 days (today included), so available = RECEIVED - 28 x DAILY and
ads_28 = DAILY exactly, with no forecast and no supplier (the stock-out rule's default lead time of 14
days); at warehouse ``V`` ``SPARE`` units received, nothing sold.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from core.alerts.models import Alert, AlertEvent, IndicatorReading
from core.forecasting.models import Promotion
from core.inventory.models import DailyFact, Movement, Position
from core.procurement.models import Rfq
from core.transfers.models import TransferRequest
from core.webhooks.models import OutboxEvent
from tests.support.ingest import push_rows, ts
from workers.tasks.evaluation import evaluation_incremental

RECEIVED = 300
DAILY = 5
SPARE = 50
DEFAULT_LEAD_TIME = 14
_refs = itertools.count(1)


@dataclass(frozen=True)
class HandMade:
    sku: str
    available: int  # at W
    ads_28: float  # at W
    spare: int  # at V


def _line(kind: str, sku: str, warehouse: str, quantity: int, days_ago: int) -> dict:
    return {
        "kind": kind,
        "sku": sku,
        "warehouse": warehouse,
        "quantity": quantity,
        # Today's line at midnight UTC, so it is never in the future.
        "occurred_at": ts(days_ago, hour=0 if days_ago == 0 else 12),
        "external_ref": f"sandbox-{next(_refs)}",
    }


def hand_made_position(world) -> HandMade:
    """Push the position (see the module) and evaluate the tenant once, as the beat would."""
    slug = world.tenant.slug
    for what, rows in (
        ("categories", [{"code": "C", "name": "C"}]),
        (
            "warehouses",
            [
                {"code": "W", "name": "West", "region": "r", "kind": "store"},
                {"code": "V", "name": "Vale", "region": "r", "kind": "store"},
            ],
        ),
        ("skus", [{"code": "HAND", "name": "Hand", "category": "C", "unit_cost": "1", "list_price": "2"}]),
        (
            "movements",
            [_line("receipt", "HAND", "W", RECEIVED, 40), _line("receipt", "HAND", "V", SPARE, 40)]
            + [_line("sale", "HAND", "W", DAILY, days_ago) for days_ago in range(28)],
        ),
    ):
        response = push_rows(world.admin, slug, what, rows)
        assert response.status_code == 201, response.content
    evaluation_incremental(str(world.tenant.pk))
    return HandMade(sku="HAND", available=RECEIVED - 28 * DAILY, ads_28=float(DAILY), spare=SPARE)


def live_counts(tenant) -> dict:
    """What the sandbox must not change: rows of every kind a run of the engine or a response writes,
    and the positions' stock figures."""
    counted = {
        model.__name__: model.objects.filter(tenant=tenant).count()
        for model in (Alert, AlertEvent, IndicatorReading, OutboxEvent, Movement, DailyFact, Rfq, TransferRequest)
    }
    counted["Promotion"] = Promotion.objects.filter(tenant=tenant).count()
    counted["alerts"] = sorted(
        Alert.objects.filter(tenant=tenant).values_list("position_id", "rule", "grade", "status", "active")
    )
    counted["positions"] = sorted(
        Position.objects.filter(tenant=tenant).values_list("id", "on_hand", "reserved", "in_transit", "dirty_since")
    )
    return counted
