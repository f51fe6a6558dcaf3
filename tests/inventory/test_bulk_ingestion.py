"""Bulk ingestion through the HTTP API: formats, idempotency, all-or-nothing refusals, FEFO lots,
daily facts, and positions that always equal what the ledger says."""

import json
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from core.inventory.idempotency import idempotency_claim
from core.inventory.models import DailyFact, IdempotencyRecord, Lot, Movement, Position
from tests.support.ingest import TODAY, push_rows, ts


@pytest.fixture
def catalog(world):
    """Two warehouses and three SKUs in the caller's tenant, pushed through the master endpoints."""
    slug = world.tenant.slug
    assert (
        push_rows(world.erp, slug, "categories", [{"code": "FOOD", "name": "Food", "profile": "fmcg"}]).status_code
        == 201
    )
    csv_body = "code,name,region,kind,latitude,longitude\nW1,North DC,north,distribution_centre,59.3,18.0\n"
    csv_body += "W2,South store,south,store,,\n"
    assert push_rows(world.erp, slug, "warehouses", csv_body, fmt="csv").status_code == 201
    skus = [
        {
            "code": "MILK",
            "name": "Milk",
            "category": "FOOD",
            "unit_cost": "0.50",
            "list_price": "1.20",
            "shelf_life_days": 10,
            "velocity_class": "cash_cow",
        },
        {"code": "RICE", "name": "Rice", "category": "FOOD", "unit_cost": "1.00", "list_price": "2.00"},
        {"code": "TEA", "name": "Tea", "category": "FOOD", "unit_cost": "2.00", "list_price": "4.00"},
    ]
    assert push_rows(world.erp, slug, "skus", skus, fmt="ndjson").status_code == 201
    return world


def receipt(sku: str, wh: str, qty: int, ref: str, days_ago: int = 30, **extra) -> dict:
    return {
        "kind": "receipt",
        "sku": sku,
        "warehouse": wh,
        "quantity": qty,
        "occurred_at": ts(days_ago),
        "external_ref": ref,
        **extra,
    }


def sale(sku: str, wh: str, qty: int, ref: str, days_ago: int = 1, **extra) -> dict:
    return {
        "kind": "sale",
        "sku": sku,
        "warehouse": wh,
        "quantity": qty,
        "occurred_at": ts(days_ago),
        "external_ref": ref,
        **extra,
    }


def position(world, sku: str, wh: str) -> Position:
    return Position.objects.get(tenant=world.tenant, sku__code=sku, warehouse__code=wh)


def ledger_snapshot() -> tuple:
    return (
        Movement.objects.count(),
        list(Position.objects.order_by("id").values_list("id", "on_hand")),
        list(Lot.objects.order_by("id").values_list("id", "quantity")),
        list(DailyFact.objects.order_by("id").values_list("id", "units_sold", "units_received")),
    )


def test_master_upsert_keeps_what_a_row_leaves_out(catalog) -> None:
    slug = catalog.tenant.slug
    full = {
        "code": "TEA",
        "name": "Tea",
        "category": "FOOD",
        "unit_cost": "2",
        "list_price": "4",
        "status": "discontinued",
        "shelf_life_days": 30,
        "velocity_class": "cash_cow",
    }
    assert push_rows(catalog.admin, slug, "skus", [full]).json() == {"rows": 1, "created": 0, "updated": 1}
    partial = {"code": "TEA", "name": "Black tea", "category": "FOOD", "unit_cost": "2", "list_price": "5"}
    assert push_rows(catalog.admin, slug, "skus", [partial]).status_code == 201
    tea = catalog.tenant.skus.get(code="TEA")
    assert (tea.name, str(tea.list_price), tea.status, tea.shelf_life_days, tea.velocity_class) == (
        "Black tea",
        "5.0000",
        "discontinued",
        30,
        "cash_cow",
    )
    push_rows(catalog.admin, slug, "skus", [{**partial, "code": "NEW"}])
    new = catalog.tenant.skus.get(code="NEW")
    assert (new.status, new.velocity_class, new.shelf_life_days) == ("active", "long_tail", None)


def test_master_data_upserts_by_code(catalog) -> None:
    slug = catalog.tenant.slug
    response = push_rows(
        catalog.admin,
        slug,
        "skus",
        [
            {"code": "TEA", "name": "Green tea", "category": "FOOD", "unit_cost": "2.10", "list_price": "4.50"},
            {"code": "COFFEE", "name": "Coffee", "category": "FOOD", "unit_cost": "3", "list_price": "6"},
        ],
    )
    assert response.status_code == 201
    assert response.json() == {"rows": 2, "created": 1, "updated": 1}
    listing = {s.code: (s.name, str(s.list_price)) for s in catalog.tenant.skus.all()}
    assert listing["TEA"] == ("Green tea", "4.5000")
    assert listing["COFFEE"] == ("Coffee", "6.0000")


def test_receipts_and_sales_keep_positions_lots_and_daily_facts(catalog) -> None:
    slug = catalog.tenant.slug
    # Given two receipts of milk with different expiries and one of rice
    rows = [
        receipt("MILK", "W1", 30, "r1", days_ago=5, expires_on=str(TODAY + timedelta(days=9)), lot_code="L-late"),
        receipt("MILK", "W1", 20, "r2", days_ago=3, expires_on=str(TODAY + timedelta(days=2)), lot_code="L-early"),
        receipt("RICE", "W2", 10, "r3", days_ago=40),
    ]
    first = push_rows(catalog.erp, slug, "movements", rows)
    assert first.status_code == 201, first.content
    assert first.json()["rows"] == 3
    assert first.json()["positions"] == 2
    # When 25 milk are sold (one at an explicit price, one at list price) and 3 rice returned
    rows = [
        sale("MILK", "W1", 15, "s1", days_ago=1, unit_price="1.00", order_ref="o1"),
        sale("MILK", "W1", 10, "s2", days_ago=1),
        {"kind": "return", "sku": "RICE", "warehouse": "W2", "quantity": 3, "occurred_at": ts(0), "external_ref": "t1"},
        {
            "kind": "adjustment",
            "sku": "RICE",
            "warehouse": "W2",
            "quantity": -4,
            "occurred_at": ts(0),
            "external_ref": "a1",
        },
    ]
    assert push_rows(catalog.erp, slug, "movements", rows).status_code == 201
    # Then on hand follows the ledger
    milk, rice = position(catalog, "MILK", "W1"), position(catalog, "RICE", "W2")
    assert (milk.on_hand, rice.on_hand) == (25, 9)
    assert milk.dirty_since is not None
    # FEFO: the early-expiring lot went first (20), then 5 from the late one
    lots = {lot.lot_code: lot.quantity for lot in Lot.objects.filter(position=milk)}
    assert lots == {"L-late": 25}
    # Rice: the adjustment consumed 4 of the old lot, the return is a new lot dated today
    rice_lots = sorted((lot.received_on, lot.quantity) for lot in Lot.objects.filter(position=rice))
    assert rice_lots == [(TODAY - timedelta(days=40), 6), (TODAY, 3)]
    assert sum(q for _, q in rice_lots) == rice.on_hand
    # Daily facts: units and revenue of the sale day (15 x 1.00 + 10 x list price 1.20)
    fact = DailyFact.objects.get(position=milk, day=TODAY - timedelta(days=1))
    assert (fact.units_sold, fact.revenue, fact.units_flagged) == (25, 27, 0)
    received = DailyFact.objects.get(position=milk, day=TODAY - timedelta(days=5))
    assert received.units_received == 30


def test_shelf_life_gives_the_expiry_when_the_line_has_none(catalog) -> None:
    push_rows(catalog.erp, catalog.tenant.slug, "movements", [receipt("MILK", "W2", 5, "r1", days_ago=4)])
    lot = Lot.objects.get(position=position(catalog, "MILK", "W2"))
    assert lot.received_on == TODAY - timedelta(days=4)
    assert lot.expires_on == TODAY - timedelta(days=4) + timedelta(days=10)


def test_formats_json_ndjson_csv_write_the_same(catalog) -> None:
    slug = catalog.tenant.slug
    assert push_rows(catalog.erp, slug, "movements", [receipt("TEA", "W1", 1, "j1")]).status_code == 201
    assert push_rows(catalog.erp, slug, "movements", [receipt("TEA", "W1", 2, "n1")], fmt="ndjson").status_code == 201
    csv_body = f"kind,sku,warehouse,quantity,occurred_at,external_ref\nreceipt,TEA,W1,4,{ts(30)},c1\n"
    assert push_rows(catalog.erp, slug, "movements", csv_body, fmt="csv").status_code == 201
    assert position(catalog, "TEA", "W1").on_hand == 7


# --- Idempotency ---------------------------------------------------------------------------------


def test_same_key_and_body_replays_and_writes_nothing(catalog) -> None:
    rows = [receipt("TEA", "W1", 5, "r1")]
    first = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key="batch-1")
    before = ledger_snapshot()
    again = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key="batch-1")
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ledger_snapshot() == before


def test_same_key_other_body_is_422(catalog) -> None:
    push_rows(catalog.erp, catalog.tenant.slug, "movements", [receipt("TEA", "W1", 5, "r1")], key="batch-1")
    before = ledger_snapshot()
    response = push_rows(catalog.erp, catalog.tenant.slug, "movements", [receipt("TEA", "W1", 6, "r2")], key="batch-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert ledger_snapshot() == before


def test_same_key_while_running_is_409(catalog) -> None:
    rows = [receipt("TEA", "W1", 5, "r1")]
    body = json.dumps(rows).encode()
    from api.inventory.bulk_body import body_hash

    before = ledger_snapshot()
    # The first request has claimed the key and is still at work.
    idempotency_claim(
        tenant=catalog.tenant,
        source=f"partner:{catalog.erp.partner.pk}",
        key="batch-1",
        endpoint="movements",
        request_hash=body_hash("application/json", body),
    )
    response = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key="batch-1")
    assert response.status_code == 409
    assert "still being processed" in response.json()["error"]["message"]
    assert ledger_snapshot() == before


def test_a_batch_wrong_in_itself_is_remembered(catalog) -> None:
    rows = [sale("TEA", "W1", -5, "s1")]  # a negative quantity is wrong whatever the database holds
    first = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key="batch-9")
    again = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key="batch-9")
    assert first.status_code == again.status_code == 400
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_batch_refused_for_the_database_state_can_be_retried_with_its_key(catalog) -> None:
    rows = [sale("TEA", "W1", 5, "s1")]  # nothing on hand yet
    first = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key="batch-9")
    assert first.status_code == 400
    assert "rows.1.quantity" in first.json()["error"]["fields"]
    push_rows(catalog.erp, catalog.tenant.slug, "movements", [receipt("TEA", "W1", 10, "r1", days_ago=5)])
    again = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key="batch-9")
    assert again.status_code == 201
    assert position(catalog, "TEA", "W1").on_hand == 5


def test_a_key_is_1_to_255_visible_ascii_characters_as_documented(catalog) -> None:
    rows = [receipt("TEA", "W1", 1, "k")]
    for key in ("k" * 256, "caf\u00e9", " padded", "tab\there", "   "):
        response = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key=key)
        assert response.status_code == 400, key
        assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]
    assert not Movement.objects.filter(tenant=catalog.tenant, external_ref="k").exists()
    for key in ("k" * 255, "batch 7 of 2026-11-24", "~!"):
        response = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key=key)
        assert response.status_code == 201, (key, response.content)
        rows = [receipt("TEA", "W1", 1, f"k{len(key)}")]


def test_each_partner_has_its_own_keys_and_references(catalog) -> None:
    from tenants import services

    other_erp = services.partner_create(tenant=catalog.tenant, kind="erp", name="Second ERP")
    _, raw = services.api_key_create(tenant=catalog.tenant, partner=other_erp, name="k")
    from tests.support.world import Caller, key_client

    second = Caller(client=key_client(raw), partner=other_erp)
    rows = [receipt("TEA", "W1", 5, "r1")]
    assert push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, key="same").status_code == 201
    response = push_rows(second, catalog.tenant.slug, "movements", rows, key="same")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert position(catalog, "TEA", "W1").on_hand == 10


def test_keys_are_per_tenant_and_required(catalog, other_world) -> None:
    response = catalog.erp.client.post(
        f"/api/v1/tenants/{catalog.tenant.slug}/ingest/movements/", [receipt("TEA", "W1", 1, "x")], format="json"
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    # Staff of two tenants push under the same source ("staff") and the same key: each is its own.
    rows = [receipt("SKU-1", "WH-1", 5, "r1")]
    first = push_rows(catalog.admin, catalog.tenant.slug, "movements", rows, key="shared")
    second = push_rows(other_world.admin, other_world.tenant.slug, "movements", rows, key="shared")
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.json()["batch_id"] != second.json()["batch_id"]
    for world in (catalog, other_world):
        assert IdempotencyRecord.objects.filter(tenant=world.tenant, source="staff", key="shared").count() == 1
        assert Position.objects.get(pk=world.position.pk).on_hand == 10 + 5


# --- Bad input: the whole batch refused, nothing written --------------------------------------


BAD_BATCHES = {
    "unknown codes": (
        [receipt("TEA", "W1", 1, "ok"), receipt("NOPE", "W1", 1, "b1"), receipt("TEA", "W9", 1, "b2")],
        {"rows.2.sku", "rows.3.warehouse"},
    ),
    "wrong types": (
        [
            {**receipt("TEA", "W1", 1, "b1"), "quantity": "many"},
            {**receipt("TEA", "W1", 1, "b2"), "occurred_at": "soon"},
            {**receipt("TEA", "W1", 1, "b3"), "occurred_at": "2026-01-01T10:00:00"},
        ],
        {"rows.1.quantity", "rows.2.occurred_at", "rows.3.occurred_at"},
    ),
    "non-positive quantities": (
        [
            receipt("TEA", "W1", 0, "b1"),
            sale("TEA", "W1", -2, "b2"),
            {**receipt("TEA", "W1", 1, "b3"), "kind": "adjustment", "quantity": 0},
        ],
        {"rows.1.quantity", "rows.2.quantity", "rows.3.quantity"},
    ),
    "sale below zero": (
        [
            receipt("TEA", "W1", 5, "b1", days_ago=3),
            sale("TEA", "W1", 4, "b2", days_ago=2),
            sale("TEA", "W1", 2, "b3", days_ago=1),
        ],
        {"rows.3.quantity"},
    ),
    "duplicate refs in the batch": (
        [receipt("TEA", "W1", 5, "b1"), receipt("TEA", "W1", 5, "b1")],
        {"rows.2.external_ref"},
    ),
    "duplicate ref of the ledger": ([receipt("TEA", "W1", 5, "seed-1")], {"rows.1.external_ref"}),
    "values out of range": (
        [
            {**receipt("TEA", "W1", 1, "b1"), "occurred_at": "0001-01-01T00:00:00+01:00"},
            receipt("TEA", "W1", 10**12, "b2"),
            {**receipt("TEA", "W1", 1, "b3"), "kind": ["sale"]},
            {**receipt("TEA", "W1", 1, "b4"), "expires_on": "0202-01-01"},
        ],
        {"rows.1.occurred_at", "rows.2.quantity", "rows.3.kind", "rows.4.expires_on"},
    ),
    # Each column is first checked whole (plain cells in a few passes, each distinct text parsed
    # once); one odd cell among plain ones must still be found and named by its row.
    "one odd cell among plain ones": (
        [
            receipt("TEA", "W1", 1, "b1", days_ago=2),
            {**receipt("TEA", "W1", 1, "b2", days_ago=2), "quantity": True},
            receipt("TEA", "W1", 1, "", days_ago=2),
            receipt("TEA", "W1", 1, "b\t4", days_ago=2),
            {**receipt("TEA", "W1", 1, "b5"), "occurred_at": ts(2)[:-1] + "+16:00"},
            sale("TEA", "W1", 1, "b6", days_ago=2, unit_price="abc"),
            receipt("TEA", "W1", 1, "b7", days_ago=2),
        ],
        {"rows.2.quantity", "rows.3.external_ref", "rows.4.external_ref", "rows.5.occurred_at", "rows.6.unit_price"},
    ),
    "unknown fields and missing ones": (
        [{**receipt("TEA", "W1", 1, "b1"), "colour": "red"}, {"kind": "receipt", "sku": "TEA"}],
        {"rows.1.colour", "rows.2.warehouse", "rows.2.quantity", "rows.2.occurred_at", "rows.2.external_ref"},
    ),
}


@pytest.mark.parametrize("case", BAD_BATCHES, ids=str)
def test_bad_batches_are_refused_whole(case: str, catalog) -> None:
    push_rows(catalog.erp, catalog.tenant.slug, "movements", [receipt("RICE", "W1", 5, "seed-1")])
    rows, expected_fields = BAD_BATCHES[case]
    before = ledger_snapshot()
    response = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    assert "nothing was written" in error["message"]
    assert set(error["fields"]) == expected_fields
    assert ledger_snapshot() == before


def test_body_over_the_row_limit_is_413(catalog, settings) -> None:
    settings.INGEST_MAX_ROWS = 3
    before = ledger_snapshot()
    rows = [receipt("TEA", "W1", 1, f"r{i}") for i in range(4)]
    for fmt in ("json", "ndjson"):
        response = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows, fmt=fmt)
        assert response.status_code == 413
        assert "at most 3" in response.json()["error"]["message"]
    settings.INGEST_MAX_BYTES = 100
    response = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows[:2])
    assert response.status_code == 413
    assert ledger_snapshot() == before


def test_malformed_bodies_and_content_types(catalog) -> None:
    url = f"/api/v1/tenants/{catalog.tenant.slug}/ingest/movements/"
    key = {"HTTP_IDEMPOTENCY_KEY": "k"}
    before = ledger_snapshot()
    response = catalog.erp.client.generic("POST", url, data="[{", content_type="application/json", **key)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "parse_error")
    response = catalog.erp.client.generic("POST", url, data="{}\n{x", content_type="application/x-ndjson", **key)
    assert "line 2" in response.json()["error"]["message"]
    response = catalog.erp.client.generic("POST", url, data="<rows/>", content_type="application/xml", **key)
    assert response.status_code == 415
    assert ledger_snapshot() == before


def test_other_tenants_codes_are_unknown_here(catalog, other_world) -> None:
    # The other tenant has its own TEA and W1; pushing there creates nothing here, and vice versa.
    slug = other_world.tenant.slug
    assert push_rows(other_world.erp, slug, "categories", [{"code": "X", "name": "X"}]).status_code == 201
    response = push_rows(other_world.erp, slug, "movements", [receipt("TEA", "W1", 1, "r1")])
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"rows.1.sku", "rows.1.warehouse"}


# --- Concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_clients_pushing_to_the_same_positions_at_once(world) -> None:
    slug = world.tenant.slug
    push_rows(world.admin, slug, "categories", [{"code": "C", "name": "C"}])
    push_rows(
        world.admin,
        slug,
        "warehouses",
        [{"code": f"W{i}", "name": "w", "region": "r", "kind": "store"} for i in range(3)],
    )
    push_rows(
        world.admin,
        slug,
        "skus",
        [{"code": f"S{i}", "name": "s", "category": "C", "unit_cost": "1", "list_price": "2"} for i in range(4)],
    )
    seed = [receipt(f"S{s}", f"W{w}", 1000, f"seed-{s}-{w}") for s in range(4) for w in range(3)]
    assert push_rows(world.admin, slug, "movements", seed).status_code == 201
    results = []

    def client_pushes(who: str, caller) -> None:
        try:
            for batch in range(5):
                rows = [sale(f"S{s}", f"W{w}", 3 + s, f"{who}-{batch}-{s}-{w}") for s in range(4) for w in range(3)]
                results.append(push_rows(caller, slug, "movements", rows).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=client_pushes, args=(who, caller))
        for who, caller in (("a", world.erp), ("b", world.admin))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 10
    # Every position equals its ledger, and both clients' sales are all there.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.id, p.on_hand, sum(CASE WHEN m.kind = 'sale' THEN -m.quantity ELSE m.quantity END)
            FROM inventory_position p JOIN inventory_movement m ON m.position_id = p.id
            JOIN inventory_sku s ON s.id = p.sku_id
            WHERE s.code LIKE 'S_'
            GROUP BY p.id, p.on_hand
            """
        )
        rows = cursor.fetchall()
    assert len(rows) == 12
    assert all(on_hand == ledger for _, on_hand, ledger in rows)
    assert sorted(on_hand for _, on_hand, _ in rows) == sorted(
        1000 - 2 * 5 * (3 + s) for s in range(4) for _ in range(3)
    )
    assert sum(f.units_sold for f in DailyFact.objects.filter(position__sku__code__startswith="S")) == 2 * 5 * 3 * sum(
        3 + s for s in range(4)
    )


def test_a_ledger_line_never_changes(catalog) -> None:
    from django.db import IntegrityError, transaction

    push_rows(catalog.erp, catalog.tenant.slug, "movements", [receipt("TEA", "W1", 5, "r1")])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Movement.objects.update(quantity=6)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Movement.objects.all().delete()
    assert list(Movement.objects.filter(external_ref="r1").values_list("quantity", flat=True)) == [5]


def test_lot_age_on_hand_made_data(catalog) -> None:
    push_rows(catalog.erp, catalog.tenant.slug, "movements", [receipt("RICE", "W1", 7, "r1", days_ago=95)])
    lot = Lot.objects.get(position=position(catalog, "RICE", "W1"))
    assert (date.today() - lot.received_on).days in (95, 96)


def test_cells_of_mixed_shapes_in_one_column_are_each_read(catalog) -> None:
    """Texts and numbers side by side in a column, and one date-time text on many lines, are each
    read as one line alone would be (the column checks group equal texts, never 2 with "2")."""
    rows = [
        receipt("TEA", "W1", "5", "m1", days_ago=3),
        receipt("TEA", "W1", 4, "m2", days_ago=3),
        sale("TEA", "W1", 2, "m3", days_ago=2, unit_price=2.5, order_ref="o1"),
        sale("TEA", "W1", "1", "m4", days_ago=2, unit_price="2.50", order_ref="o2"),
        sale("TEA", "W1", 1, "m5", days_ago=2, unit_price=3, order_ref="o3"),
    ]
    response = push_rows(catalog.erp, catalog.tenant.slug, "movements", rows)
    assert response.status_code == 201, response.content
    assert position(catalog, "TEA", "W1").on_hand == 5 + 4 - 2 - 1 - 1
    fact = DailyFact.objects.get(position=position(catalog, "TEA", "W1"), day=TODAY - timedelta(days=2))
    assert (fact.units_sold, fact.revenue) == (4, 2 * Decimal("2.5") + Decimal("2.5") + 3)
    prices = dict(Movement.objects.filter(kind="sale").values_list("external_ref", "unit_price"))
    assert prices == {"m3": Decimal("2.5"), "m4": Decimal("2.5"), "m5": Decimal(3)}
