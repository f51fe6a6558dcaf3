"""The replay grades a past day as the live engine graded it then.

The ledger is pushed up to day D (10 days ago) only, and the live engine reads and grades its
positions as of D (``rows_prefetch``: the indicator statement and the engine's assessment, written
nowhere). Then the days after D are pushed, and the replay of D must give the same trips (rule,
grade, inputs), from rows equal to the statement's, column for column: stock-out risk with a
supplier's lead time, expiry risk of a short shelf life, overstock of stock older than the history
the replay reads, a launch check, and the three-dimension risk from market signals.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from core.alerts.engine import rows_prefetch
from core.alerts.indicators import indicator_rows
from core.inventory.models import Position
from core.quality.replay import warnings_replay
from core.quality.replay_days import ledger_read
from tests.support.histories import primary_supplier
from tests.support.ingest import TODAY, ledger_line, push_accepted

pytestmark = pytest.mark.django_db

D = 10  # days ago


line = ledger_line


def push(world, what: str, rows: list[dict]) -> None:
    push_accepted(world.admin, world.tenant.slug, what, rows)


def ledger(days_from: int, days_to: int) -> list[dict]:
    """Lines of the days from ``days_from`` to ``days_to`` days ago (both included)."""
    rows = []
    for days_ago in range(days_from, days_to - 1, -1):
        if days_ago == 100:
            rows += [line("receipt", "OUT", 700, days_ago), line("receipt", "SIG", 50, days_ago)]
        if 75 > days_ago >= D - 5:  # 650 sold by D: 50 left, 5 days of cover
            rows.append(line("sale", "OUT", 10, days_ago))
        if days_ago % 20 == 0:  # a fresh lot of the short-lived SKU every 20 days, selling 2 a day
            rows.append(line("receipt", "FRESH", 60, days_ago))
        if days_ago < 130:
            rows.append(line("sale", "FRESH", 2, days_ago))
        if days_ago == 300:
            rows.append(line("receipt", "OLD", 500, days_ago))
        if days_ago % 45 == 0 and days_ago < 290:
            rows.append(line("sale", "OLD", 3, days_ago))
        if days_ago == D + 20:
            rows.append(line("receipt", "NEW", 1000, days_ago))
        if days_ago < D + 20:
            rows.append(line("sale", "NEW", 5, days_ago))
    return rows


@pytest.fixture
def shop(world):
    skus = [
        {"code": "OUT"},
        {"code": "FRESH", "shelf_life_days": 30},
        {"code": "OLD"},
        {"code": "NEW", "launch_date": str(TODAY - timedelta(days=D + 20))},
        {"code": "SIG", "list_price": "10"},
    ]
    push(
        world,
        "skus",
        [{"name": s["code"], "category": "snacks", "unit_cost": "1", "list_price": "2", **s} for s in skus],
    )
    primary_supplier(world, "OUT", 9)
    signal_days = [(D + 20, 100, None, None), (D + 2, 60, "1.5", "8"), (D - 3, 10, "1.6", "7")]
    push(
        world,
        "signals",
        [
            {
                "sku": "SIG",
                "day": str(TODAY - timedelta(days=days_ago)),
                "social_volume": social,
                **({"supplier_lead_time_index": index, "competitor_price": price} if index else {}),
            }
            for days_ago, social, index, price in signal_days
        ],
    )
    return world


def test_the_replayed_day_is_what_the_live_engine_said_that_day(shop):
    world = shop
    day = TODAY - timedelta(days=D)
    push(world, "movements", ledger(320, D))
    ids = list(
        Position.objects.filter(tenant=world.tenant, sku__code__in=["OUT", "FRESH", "OLD", "NEW", "SIG"])
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert len(ids) == 5
    live = rows_prefetch(tenant=world.tenant, position_ids=ids, today=day)
    with connection.cursor() as cursor:
        live_rows = indicator_rows(cursor, tenant_id=world.tenant.pk, position_ids=ids, today=day)
    live_trips = {(pid, rule): (trip.grade, trip.inputs) for (pid, rule), trip in live.trips.items()}
    # The day trips every kind of rule this test means to compare.
    assert {rule for _, rule in live_trips} >= {
        "stock_out_risk",
        "expiry_risk",
        "overstock",
        "launch_check",
        "three_dimension_risk",
    }

    push(world, "movements", ledger(D - 1, 1))
    result = warnings_replay(tenant=world.tenant, day_from=day, day_to=day, position_ids=ids)
    replayed = {(a.position_id, a.rule): (a.first_grade, a.inputs) for a in result.alerts}
    assert replayed == live_trips

    rebuilt = ledger_read(tenant=world.tenant, position_ids=ids, day_from=day, end=TODAY).rows_as_of(day)
    for live_row, row in zip(live_rows, rebuilt, strict=True):
        assert row.keys() == live_row.keys()
        differing = {k: (row[k], live_row[k]) for k in row if k != "reading_fingerprint" and row[k] != live_row[k]}
        # The statement answers NULL where a position has no fact, lot or offer; the replay's arrays 0.
        assert all(live is None and not any(_listed(value)) for value, live in differing.values()), differing


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value]
