"""``indicators/rollup/`` checked against sums worked out by hand, for every ``by``.

Five positions of three SKUs in two categories, three warehouses and two regions are pushed
through the bulk endpoints and evaluated; quantities are chosen so every per-position figure is
exact (sales of 1,260 units divide by 7, 28 and 90 days). Receipts and sales are at noon, ``N days
ago`` as in the other by-hand tests.

| position | SKU (category, cost) | receipt | sale | on hand | reserved | avg on hand 90 | lot age |
| --- | --- | --- | --- | --- | --- | --- | --- |
| P@WE1 | P (C1, 1) | 1,800, 9 days ago | 1,260, 2 days ago | 540 | 0 | (1800*7 + 540*3) / 90 = 158 | 9 |
| Q@WE1 | Q (C1, 2) | 90, 44 days ago | - | 90 | 0 | 90*45 / 90 = 45 | 44 |
| Q@WE2 | Q (C1, 2) | 30, 120 days ago | - | 30 | 0 | 30 | 120 |
| P@WW | P (C1, 1) | 60, 29 days ago | - | 60 | 10 | 60*30 / 90 = 20 | 29 |
| R@WW | R (C2, 3) | 45, 200 days ago, expires in 30 days | - | 45 | 0 | 45 | 200 |

WE1 and WE2 are in region east, WW in west (the world fixture's own SKU-1 @ WH-1, region north,
is left out of the comparison). P@WE1 sells 1,260 in the last 7 days: ads_7 180,
ads_28 45, ads_90 14; nothing else sells. R's 45 units will not sell before they expire.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.inventory.models import Position
from tests.support.ingest import TODAY, push_rows, ts
from workers.tasks.evaluation import evaluation_incremental


def _push(world, what: str, rows: list[dict]) -> None:
    response = push_rows(world.admin, world.tenant.slug, what, rows)
    assert response.status_code == 201, response.content


@pytest.fixture
def stock(world):
    _push(world, "categories", [{"code": "C1", "name": "Cat one"}, {"code": "C2", "name": "Cat two"}])
    _push(
        world,
        "warehouses",
        [
            {"code": "WE1", "name": "East one", "region": "east", "kind": "store"},
            {"code": "WE2", "name": "East two", "region": "east", "kind": "store"},
            {"code": "WW", "name": "West", "region": "west", "kind": "store"},
        ],
    )
    _push(
        world,
        "skus",
        [
            {"code": "P", "name": "Pears", "category": "C1", "unit_cost": "1", "list_price": "2"},
            {"code": "Q", "name": "Quinces", "category": "C1", "unit_cost": "2", "list_price": "4"},
            {"code": "R", "name": "Rice", "category": "C2", "unit_cost": "3", "list_price": "6"},
        ],
    )
    lines = [
        ("receipt", "P", "WE1", 1800, 9, {}),
        ("sale", "P", "WE1", 1260, 2, {}),
        ("receipt", "Q", "WE1", 90, 44, {}),
        ("receipt", "Q", "WE2", 30, 120, {}),
        ("receipt", "P", "WW", 60, 29, {}),
        ("receipt", "R", "WW", 45, 200, {"expires_on": str(TODAY + timedelta(days=30))}),
    ]
    _push(
        world,
        "movements",
        [
            {
                "kind": kind,
                "sku": sku,
                "warehouse": warehouse,
                "quantity": quantity,
                "occurred_at": ts(days_ago),
                "external_ref": f"rollup-{index}",
                **extra,
            }
            for index, (kind, sku, warehouse, quantity, days_ago, extra) in enumerate(lines)
        ],
    )
    # Reservations have no endpoint; as in the world fixture, one is set on the position directly.
    Position.objects.filter(tenant=world.tenant, sku__code="P", warehouse__code="WW").update(reserved=10)
    evaluation_incremental(str(world.tenant.pk))
    return world


def _group(*, on_hand, available, positions, skus, selling, held, sold=0, ages, weighted, expiry=(0, None)) -> dict:
    """The expected row of a group from its by-hand sums (ads are P@WE1's or nothing).

    ``held`` is the sum of average on hand x unit cost, ``sold`` of units sold x unit cost (90
    days), ``weighted`` the sum of on hand x lot age, ``ages`` the five age buckets.
    """
    ads = (180.0, 45.0, 14.0) if sold else (0.0, 0.0, 0.0)
    return {
        "positions": positions,
        "skus": skus,
        "skus_selling": selling,
        "on_hand": on_hand,
        "available": available,
        "ads_7": ads[0],
        "ads_28": ads[1],
        "ads_90": ads[2],
        "days_of_cover": round(available / ads[1], 2) if sold else None,
        "turnover_rate": round(sold / held * 365 / 90, 4),
        "turnover_days": round(held * 90 / sold, 2) if sold else None,
        "sell_through_28": round(selling / skus, 4),
        "age_0_30": ages[0],
        "age_31_60": ages[1],
        "age_61_90": ages[2],
        "age_91_180": ages[3],
        "age_over_180": ages[4],
        "weighted_age_days": round(weighted / on_hand, 2),
        "expiry_at_risk": expiry[0],
        "days_to_expiry": expiry[1],
    }


# Per position: P@WE1 held 158*1, sold 1260*1, 540 units aged 9 (weighted 4860); Q@WE1 held 45*2 = 90,
# aged 44 (3960); Q@WE2 held 30*2 = 60, aged 120 (3600); P@WW held 20*1 = 20, aged 29 (1740); R@WW held
# 45*3 = 135, aged 200 (9000), 45 at risk in 30 days.
EXPECTED = {
    "sku": {
        ("P", "Pears"): _group(
            on_hand=600, available=590, positions=2, skus=1, selling=1, held=178, sold=1260,
            ages=(600, 0, 0, 0, 0), weighted=4860 + 1740,
        ),
        ("Q", "Quinces"): _group(
            on_hand=120, available=120, positions=2, skus=1, selling=0, held=150,
            ages=(0, 90, 0, 30, 0), weighted=3960 + 3600,
        ),
        ("R", "Rice"): _group(
            on_hand=45, available=45, positions=1, skus=1, selling=0, held=135,
            ages=(0, 0, 0, 0, 45), weighted=9000, expiry=(45, 30),
        ),
    },
    "category": {
        ("C1", "Cat one"): _group(
            on_hand=720, available=710, positions=4, skus=2, selling=1, held=178 + 150, sold=1260,
            ages=(600, 90, 0, 30, 0), weighted=4860 + 1740 + 3960 + 3600,
        ),
        ("C2", "Cat two"): _group(
            on_hand=45, available=45, positions=1, skus=1, selling=0, held=135,
            ages=(0, 0, 0, 0, 45), weighted=9000, expiry=(45, 30),
        ),
    },
    "warehouse": {
        ("WE1", "East one"): _group(
            on_hand=630, available=630, positions=2, skus=2, selling=1, held=158 + 90, sold=1260,
            ages=(540, 90, 0, 0, 0), weighted=4860 + 3960,
        ),
        ("WE2", "East two"): _group(
            on_hand=30, available=30, positions=1, skus=1, selling=0, held=60,
            ages=(0, 0, 0, 30, 0), weighted=3600,
        ),
        ("WW", "West"): _group(
            on_hand=105, available=95, positions=2, skus=2, selling=0, held=20 + 135,
            ages=(60, 0, 0, 0, 45), weighted=1740 + 9000, expiry=(45, 30),
        ),
    },
    "region": {
        ("east", "east"): _group(
            on_hand=660, available=660, positions=3, skus=2, selling=1, held=158 + 90 + 60, sold=1260,
            ages=(540, 90, 0, 30, 0), weighted=4860 + 3960 + 3600,
        ),
        ("west", "west"): _group(
            on_hand=105, available=95, positions=2, skus=2, selling=0, held=20 + 135,
            ages=(60, 0, 0, 0, 45), weighted=1740 + 9000, expiry=(45, 30),
        ),
    },
}  # fmt: skip


def _get(world, path: str, **params: object) -> dict:
    response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()


UNIT_COST = {"P": 1, "Q": 2, "R": 3}
THE_WORLDS_OWN = {"SKU-1", "snacks", "WH-1", "north"}


@pytest.mark.parametrize("by", list(EXPECTED))
def test_rollup_sums_match_the_hand_worked_figures(stock, by: str) -> None:
    rows = [row for row in _get(stock, "indicators/rollup/", by=by)["results"] if row["key"] not in THE_WORLDS_OWN]
    fields = list(next(iter(EXPECTED[by].values())))
    assert {(row["key"], row["name"]): {name: row[name] for name in fields} for row in rows} == EXPECTED[by]

    # Health and flags: the mean and minimum health, and the flagged positions, of each group's readings.
    readings = [row for row in _get(stock, "indicators/")["results"] if row["sku"] in ("P", "Q", "R")]
    assert len(readings) == 5
    overstock_values = set()
    for row in rows:
        members = [reading for reading in readings if reading[by] == row["key"]]
        assert row["positions"] == len(members)
        health = [reading["health_index"] for reading in members]
        assert row["health_index_mean"] == round(sum(health) / len(health), 1)
        assert row["health_index_min"] == min(health)
        assert row["stockout_risk_positions"] == sum(reading["stockout_risk"] for reading in members)
        assert row["overstock_positions"] == sum(reading["overstock"] for reading in members)
        idle = sum(reading["on_hand"] * UNIT_COST[reading["sku"]] for reading in members if reading["overstock"])
        assert row["overstock_value"] == f"{idle:.2f}"
        overstock_values.add(row["overstock_value"])
        assert row["as_of"] == str(TODAY)
    # Some group holds overstock and some none, so the sum above is not zero everywhere.
    assert len(overstock_values) > 1


@pytest.mark.parametrize("access", ["analyst", "supplier", "distributor", "erp"])
def test_every_role_and_partner_kind_gets_a_rollup(stock, access: str) -> None:
    for by in EXPECTED:
        response = stock.caller(access).client.get(
            f"/api/v1/tenants/{stock.tenant.slug}/indicators/rollup/", {"by": by}
        )
        assert response.status_code == 200, (by, response.content[:300])
