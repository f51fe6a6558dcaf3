"""Stock reads through the API: positions, lots, movements and daily sales, each filter on hand-made rows.

Rows are written with the ORM (the ingestion service is not what is tested here). Both worlds
hold a position SKU-1 @ WH-1 with one lot, one movement and one daily fact, under the same
codes, so every filter by code also shows that the other tenant's rows stay out.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.inventory import master_services
from core.inventory.models import DailyFact, Lot, Movement, MovementKind, Position, Sku, Warehouse


def _url(world, path: str) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/{path}"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    return error


# Hand-made rows


def make_sku(world, code: str, category_code: str = "snacks") -> Sku:
    category = world.category if category_code == world.category.code else None
    if category is None:
        category = master_services.category_create(tenant=world.tenant, code=category_code, name=category_code)
    return master_services.sku_create(
        tenant=world.tenant, code=code, name=f"Name of {code}", category=category, unit_cost=1, list_price=2
    )


def make_warehouse(world, code: str, region: str) -> Warehouse:
    return master_services.warehouse_create(
        tenant=world.tenant, code=code, name=f"Name of {code}", region=region, kind="store"
    )


def make_position(world, sku: Sku, warehouse: Warehouse, on_hand: int, reserved: int = 0, in_transit: int = 0):
    return Position.objects.create(
        tenant=world.tenant, sku=sku, warehouse=warehouse, on_hand=on_hand, reserved=reserved, in_transit=in_transit
    )


def make_movement(position: Position, kind: str, quantity: int, occurred_at: datetime, external_ref: str) -> Movement:
    # Insert only: the ledger's trigger refuses UPDATE and DELETE.
    return Movement.objects.create(
        tenant_id=position.tenant_id,
        position=position,
        kind=kind,
        quantity=quantity,
        occurred_at=occurred_at,
        source="erp-test",
        external_ref=external_ref,
        unit_price=Decimal("2.5000") if kind == MovementKind.SALE else None,
    )


def make_lot(position: Position, lot_code: str, received_on: date, expires_on: date | None = None) -> Lot:
    return Lot.objects.create(
        tenant_id=position.tenant_id,
        position=position,
        lot_code=lot_code,
        quantity=1,
        received_on=received_on,
        expires_on=expires_on,
    )


def make_fact(position: Position, day: date, **values: object) -> DailyFact:
    return DailyFact.objects.create(tenant_id=position.tenant_id, position=position, day=day, **values)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def stock(world, other_world) -> dict[str, Position]:
    """Four positions of the caller's tenant (p0 is the fixture's), over two warehouses and regions.

    | name | sku   | category | warehouse | region | on hand | reserved | available |
    | p0   | SKU-1 | snacks   | WH-1      | north  | 10      | 2        | 8         |
    | p1   | SKU-2 | drinks   | WH-1      | north  | 5       | 5        | 0         |
    | p2   | SKU-1 | snacks   | WH-2      | south  | 50      | 10       | 40        |
    | p3   | SKU-3 | snacks   | WH-2      | south  | 0       | 0        | 0         |
    """
    sku2, sku3 = make_sku(world, "SKU-2", "drinks"), make_sku(world, "SKU-3")
    wh2 = make_warehouse(world, "WH-2", "south")
    return {
        "p0": world.position,
        "p1": make_position(world, sku2, world.warehouse, on_hand=5, reserved=5),
        "p2": make_position(world, world.sku, wh2, on_hand=50, reserved=10, in_transit=7),
        "p3": make_position(world, sku3, wh2, on_hand=0),
    }


def _names(rows: list[dict], named: dict[str, object]) -> set[str]:
    by_id = {row.pk: name for name, row in named.items()}
    return {by_id.get(row["id"], f"unexpected id {row['id']}") for row in rows}


# stock/


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"p0", "p1", "p2", "p3"}),
        ({"warehouse": "WH-1"}, {"p0", "p1"}),
        ({"warehouse": "WH-2"}, {"p2", "p3"}),
        ({"region": "south"}, {"p2", "p3"}),
        ({"category": "snacks"}, {"p0", "p2", "p3"}),
        ({"category": "drinks"}, {"p1"}),
        ({"sku": "SKU-1"}, {"p0", "p2"}),
        ({"sku": "NO-SUCH"}, set()),
        ({"available_lt": 1}, {"p1", "p3"}),
        ({"available_gt": 8}, {"p2"}),  # strictly above: p0 has exactly 8
        ({"available_gt": 7}, {"p0", "p2"}),
        ({"on_hand_lt": 10}, {"p1", "p3"}),
        ({"on_hand_gt": 5}, {"p0", "p2"}),
        ({"warehouse": "WH-2", "available_gt": 0}, {"p2"}),
        ({"region": "north", "category": "snacks", "on_hand_lt": 11}, {"p0"}),
    ],
)
def test_stock_filters(world, stock, query: dict, expected: set[str]) -> None:
    # Given the four positions above (and the other tenant's SKU-1 @ WH-1), when filtering
    response = world.analyst.client.get(_url(world, "stock/"), query)
    # Then exactly the expected positions come back
    assert response.status_code == 200, response.content
    assert _names(response.json()["results"], stock) == expected


def test_stock_rows_carry_sku_warehouse_and_computed_available(world, stock) -> None:
    p2 = stock["p2"]
    expected = {
        "id": p2.pk,
        "sku": {"id": str(world.sku.pk), "code": "SKU-1", "name": "Crisps"},
        "warehouse": {"id": str(p2.warehouse.pk), "code": "WH-2", "name": "Name of WH-2", "region": "south"},
        "on_hand": 50,
        "reserved": 10,
        "available": 40,
        "in_transit": 7,
    }
    listed = world.erp.client.get(_url(world, "stock/"), {"sku": "SKU-1", "warehouse": "WH-2"}).json()["results"]
    assert [{k: v for k, v in row.items() if k != "updated_at"} for row in listed] == [expected]
    detail = world.erp.client.get(_url(world, f"stock/{p2.pk}/")).json()
    assert {k: v for k, v in detail.items() if k != "updated_at"} == expected
    assert detail["updated_at"]


@pytest.mark.parametrize("query", [{"available_lt": "abc"}, {"on_hand_gt": "1.5"}])
def test_stock_threshold_filters_take_whole_numbers(world, query: dict) -> None:
    error = assert_error(world.analyst.client.get(_url(world, "stock/"), query), 400, "validation_error")
    assert list(error["fields"]) == list(query)


def test_position_ids_beyond_bigint_are_404(world) -> None:
    assert_error(world.analyst.client.get(_url(world, f"stock/{2**64}/")), 404, "not_found")


def test_stock_is_cursor_paginated_by_id(world, stock) -> None:
    first = world.analyst.client.get(_url(world, "stock/"), {"page_size": 3}).json()
    second = world.analyst.client.get(first["next"]).json()
    assert second["next"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted(p.pk for p in stock.values())


# lots/


@pytest.fixture
def lots(world, stock) -> dict[str, Lot]:
    """The fixture's lot L-1 (received 3 days ago, no expiry) and three with expiry dates."""
    today = timezone.localdate()
    return {
        "L-1": Lot.objects.get(position=world.position),
        "A": make_lot(stock["p0"], "A", received_on=today - timedelta(days=10), expires_on=today + timedelta(days=5)),
        "B": make_lot(stock["p2"], "B", received_on=today - timedelta(days=40), expires_on=today - timedelta(days=2)),
        "C": make_lot(stock["p1"], "C", received_on=today, expires_on=today + timedelta(days=30)),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"L-1", "A", "B", "C"}),
        ({"sku": "SKU-1"}, {"L-1", "A", "B"}),
        ({"sku": "SKU-2"}, {"C"}),
        ({"warehouse": "WH-2"}, {"B"}),
        ({"warehouse": "WH-1", "sku": "SKU-1"}, {"L-1", "A"}),
        ({"expires_before": 5}, {"B"}),  # A expires on that day: not before it; L-1 never expires
        ({"expires_before": 6}, {"A", "B"}),
        ({"expires_before": 31, "warehouse": "WH-1"}, {"A", "C"}),
    ],
)
def test_lot_filters(world, lots, query: dict, expected: set[str]) -> None:
    if "expires_before" in query:  # given as days from today
        query = {
            **query,
            "expires_before": (timezone.localdate() + timedelta(days=query["expires_before"])).isoformat(),
        }
    response = world.planner.client.get(_url(world, "lots/"), query)
    assert response.status_code == 200, response.content
    assert _names(response.json()["results"], lots) == expected


def test_lots_tell_their_age_and_days_to_expiry_from_today(world, lots, stock) -> None:
    rows = {row["lot_code"]: row for row in world.analyst.client.get(_url(world, "lots/")).json()["results"]}
    assert {code: (row["age_days"], row["days_to_expiry"]) for code, row in rows.items()} == {
        "L-1": (3, None),
        "A": (10, 5),
        "B": (40, -2),  # expired two days ago
        "C": (0, 30),
    }
    assert rows["B"]["position"] == stock["p2"].pk
    assert rows["B"]["sku"]["code"] == "SKU-1"
    assert rows["B"]["warehouse"] == {
        "id": str(stock["p2"].warehouse_id),
        "code": "WH-2",
        "name": "Name of WH-2",
        "region": "south",
    }


def test_lots_filter_dates_are_checked(world) -> None:
    response = world.analyst.client.get(_url(world, "lots/"), {"expires_before": "next tuesday"})
    assert list(assert_error(response, 400, "validation_error")["fields"]) == ["expires_before"]


# movements/


@pytest.fixture
def movements(world, stock) -> dict[str, Movement]:
    """The fixture's receipt (three days ago, on p0) and four lines in January 2026."""
    return {
        "fixture": Movement.objects.get(position=world.position),
        "m1": make_movement(stock["p0"], MovementKind.SALE, 2, utc(2026, 1, 10, 10), "s-1"),
        "m2": make_movement(stock["p1"], MovementKind.RECEIPT, 5, utc(2026, 1, 11), "r-1"),
        "m3": make_movement(stock["p2"], MovementKind.ADJUSTMENT, -3, utc(2026, 1, 12, 12), "a-1"),
        "m4": make_movement(stock["p2"], MovementKind.SALE, 1, utc(2026, 1, 13), "s-2"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"fixture", "m1", "m2", "m3", "m4"}),
        ({"kind": "sale"}, {"m1", "m4"}),
        ({"kind": "receipt"}, {"fixture", "m2"}),
        ({"kind": "transfer_in"}, set()),
        ({"sku": "SKU-1"}, {"fixture", "m1", "m3", "m4"}),
        ({"warehouse": "WH-1"}, {"fixture", "m1", "m2"}),
        ({"sku": "SKU-1", "warehouse": "WH-2"}, {"m3", "m4"}),
        ({"occurred_after": "2026-01-11T00:00:00Z"}, {"m2", "m3", "m4", "fixture"}),  # at or after
        ({"occurred_before": "2026-01-12T12:00:00Z"}, {"m1", "m2"}),  # strictly before
        ({"occurred_after": "2026-01-11T00:00:00Z", "occurred_before": "2026-01-13T00:00:00Z"}, {"m2", "m3"}),
        ({"occurred_after": "2026-01-12T13:00:00+01:00", "occurred_before": "2026-01-12T13:00:01+01:00"}, {"m3"}),
        ({"external_ref": "s-2"}, {"m4"}),
        ({"external_ref": "s"}, set()),  # exact, not a prefix
    ],
)
def test_movement_filters(world, movements, query: dict, expected: set[str]) -> None:
    response = world.analyst.client.get(_url(world, "movements/"), query)
    assert response.status_code == 200, response.content
    assert _names(response.json()["results"], movements) == expected


def test_movement_rows(world, movements, stock) -> None:
    rows = world.erp.client.get(_url(world, "movements/"), {"external_ref": "s-1"}).json()["results"]
    assert [{k: v for k, v in row.items() if k not in ("created_at", "batch_id")} for row in rows] == [
        {
            "id": movements["m1"].pk,
            "position": stock["p0"].pk,
            "sku": {"id": str(world.sku.pk), "code": "SKU-1", "name": "Crisps"},
            "warehouse": {"id": str(world.warehouse.pk), "code": "WH-1", "name": "Main DC", "region": "north"},
            "kind": "sale",
            "quantity": 2,
            "occurred_at": "2026-01-10T10:00:00Z",
            "source": "erp-test",
            "external_ref": "s-1",
            "order_ref": "",
            "unit_price": "2.5000",
        }
    ]


@pytest.mark.parametrize("query", [{"kind": "theft"}, {"occurred_after": "yesterday"}])
def test_movement_filter_values_are_checked(world, query: dict) -> None:
    error = assert_error(world.analyst.client.get(_url(world, "movements/"), query), 400, "validation_error")
    assert list(error["fields"]) == list(query)


def test_movements_are_cursor_paginated_by_id(world, movements) -> None:
    seen, url, query = [], _url(world, "movements/"), {"page_size": 2}
    while url:
        page = world.analyst.client.get(url, query).json()
        seen += [row["id"] for row in page["results"]]
        url, query = page["next"], None
    assert seen == sorted(m.pk for m in movements.values())


# stock/<id>/daily-sales/


def test_daily_sales_default_to_the_last_120_days(world, stock) -> None:
    today, p2 = timezone.localdate(), stock["p2"]
    for days_ago in (0, 1, 119, 120, 200):
        make_fact(p2, today - timedelta(days=days_ago), units_sold=days_ago + 1, revenue=Decimal(days_ago + 1) * 2)
    make_fact(stock["p0"], today, units_sold=99)  # another position's day stays out

    body = world.analyst.client.get(_url(world, f"stock/{p2.pk}/daily-sales/")).json()

    assert (body["position"], body["from"], body["to"]) == (
        p2.pk,
        (today - timedelta(days=119)).isoformat(),
        today.isoformat(),
    )
    assert [day["day"] for day in body["days"]] == [
        (today - timedelta(days=n)).isoformat() for n in (119, 1, 0)
    ]  # oldest first, 120 days including today


def test_daily_sales_rows_and_an_explicit_window(world, stock) -> None:
    p1, today = stock["p1"], timezone.localdate()
    d1, d2, d3 = (today - timedelta(days=n) for n in (300, 299, 298))  # outside the default window
    make_fact(p1, d1, units_sold=4, revenue=Decimal("10"), units_returned=1, units_flagged=2)
    make_fact(p1, d2, units_received=12)
    make_fact(p1, d3, units_sold=1, revenue=Decimal("3"))
    url = _url(world, f"stock/{p1.pk}/daily-sales/")

    response = world.erp.client.get(url, {"from": d1.isoformat(), "to": d2.isoformat()})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "position": p1.pk,
        "from": d1.isoformat(),
        "to": d2.isoformat(),
        "days": [
            {
                "day": d1.isoformat(),
                "units_sold": 4,
                "revenue": "10.0000",
                "average_price": "2.5000",
                "units_returned": 1,
                "units_received": 0,
                "units_flagged": 2,
            },
            {
                "day": d2.isoformat(),
                "units_sold": 0,
                "revenue": "0.0000",
                "average_price": None,  # no clean sale that day
                "units_returned": 0,
                "units_received": 12,
                "units_flagged": 0,
            },
        ],
    }
    # `from` alone runs up to today; `to` alone looks back 120 days from it
    only_from = world.erp.client.get(url, {"from": d3.isoformat()}).json()
    assert ([day["day"] for day in only_from["days"]], only_from["to"]) == ([d3.isoformat()], today.isoformat())
    only_to = world.erp.client.get(url, {"to": d2.isoformat()}).json()
    assert ([day["day"] for day in only_to["days"]], only_to["from"]) == (
        [d1.isoformat(), d2.isoformat()],
        (d2 - timedelta(days=119)).isoformat(),
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-03-01"}, "from"),  # longer than the longest window
        ({"to": "March"}, "to"),
        ({"since": "2026-03-01"}, "since"),
    ],
)
def test_daily_sales_window_is_checked(world, query: dict, field: str) -> None:
    response = world.analyst.client.get(_url(world, f"stock/{world.position.pk}/daily-sales/"), query)
    assert list(assert_error(response, 400, "validation_error")["fields"]) == [field]


# Query counts


@pytest.fixture
def many_rows(world) -> None:
    """Twelve more positions, each with a lot and a movement, so N+1 queries would show."""
    skus = [make_sku(world, f"MANY-{i}") for i in range(4)]
    warehouses = [make_warehouse(world, f"MANY-WH-{i}", f"r{i}") for i in range(3)]
    for i, (sku, warehouse) in enumerate((s, w) for s in skus for w in warehouses):
        position = make_position(world, sku, warehouse, on_hand=i + 1)
        make_lot(position, f"many-{i}", received_on=date(2026, 1, 1), expires_on=date(2027, 1, 1))
        make_movement(position, MovementKind.RECEIPT, i + 1, utc(2026, 1, 1), f"many-{i}")


@pytest.mark.parametrize(
    ("path", "rows"), [("stock/", 13), ("lots/", 13), ("movements/", 13), ("skus/", 5), ("warehouses/", 4)]
)
def test_list_pages_cost_a_constant_number_of_queries(
    world, many_rows, path: str, rows: int, django_assert_max_num_queries
) -> None:
    client = world.analyst.client
    client.get(_url(world, "me/"))  # the key's last-used time is written once, not on every request
    # Key lookup, membership, and one query for the page (stock joins SKU and warehouse, lots and
    # movements join the position with both): a per-row query would add at least 13.
    with django_assert_max_num_queries(3):
        response = client.get(_url(world, path), {"page_size": 100})
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


def test_daily_sales_far_past_dates_are_a_400_not_a_crash(world) -> None:
    url = f"/api/v1/tenants/{world.tenant.slug}/stock/{world.position.pk}/daily-sales/"
    response = world.analyst.client.get(url, {"to": "0001-01-01"})
    assert response.status_code == 400
    assert "to" in response.json()["error"]["fields"]
