"""Warehouses, categories and SKUs through the API: CRUD for planners and admins, reads for staff and ERP.

Codes are unique per tenant and fixed once created; anything that stock hangs off is deactivated,
never deleted. Both fixture worlds hold the same codes ("snacks", "WH-1", "SKU-1").
"""

import pytest

from core.inventory import master_services
from core.inventory.models import Category, Sku, Warehouse
from tenants.models import AuditEvent


def _url(world, path: str) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/{path}"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    return error


def _audited(world, action: str, target_id: object) -> bool:
    return AuditEvent.objects.filter(tenant=world.tenant, action=action, target_id=str(target_id)).exists()


# Warehouses


def test_planner_creates_reads_updates_and_deletes_a_warehouse(world) -> None:
    # Given a planner, when they create a store warehouse
    created = world.planner.client.post(
        _url(world, "warehouses/"),
        {"code": "ST-9", "name": "Store 9", "region": "south", "kind": "store", "latitude": "48.137154"},
        format="json",
    )
    # Then it exists with the fields given and the defaults, and the change is audited
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("code", "name", "region", "kind", "latitude", "longitude", "is_active")} == {
        "code": "ST-9",
        "name": "Store 9",
        "region": "south",
        "kind": "store",
        "latitude": "48.137154",
        "longitude": None,
        "is_active": True,
    }
    warehouse = Warehouse.objects.get(pk=body["id"])
    assert warehouse.tenant == world.tenant
    assert _audited(world, "warehouse.created", warehouse.pk)

    # The list filters by region; the detail reads the same row
    south = world.analyst.client.get(_url(world, "warehouses/"), {"region": "south"}).json()["results"]
    assert [w["code"] for w in south] == ["ST-9"]
    assert world.analyst.client.get(_url(world, f"warehouses/{warehouse.pk}/")).json() == body

    # PATCH changes what it names and nothing else
    patched = world.planner.client.patch(
        _url(world, f"warehouses/{warehouse.pk}/"), {"is_active": False, "region": "west"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["is_active"], patched.json()["region"], patched.json()["name"]) == (False, "west", "Store 9")
    assert _audited(world, "warehouse.updated", warehouse.pk)

    # A warehouse without stock can be deleted
    assert world.admin.client.delete(_url(world, f"warehouses/{warehouse.pk}/")).status_code == 204
    assert not Warehouse.objects.filter(pk=warehouse.pk).exists()
    assert _audited(world, "warehouse.deleted", warehouse.pk)


def test_a_warehouse_with_stock_cannot_be_deleted_but_can_be_deactivated(world) -> None:
    # Given the fixture warehouse, which holds a position with a ledger line
    url = _url(world, f"warehouses/{world.warehouse.pk}/")
    # When a planner deletes it, then the answer is 409 and says what to do instead
    error = assert_error(world.planner.client.delete(url), 409, "conflict")
    assert "is_active" in error["message"]
    assert Warehouse.objects.filter(pk=world.warehouse.pk).exists()
    assert not _audited(world, "warehouse.deleted", world.warehouse.pk)
    # and doing that works
    assert world.planner.client.patch(url, {"is_active": False}, format="json").json()["is_active"] is False


def test_warehouse_input_is_checked(world) -> None:
    response = world.planner.client.post(
        _url(world, "warehouses/"),
        {"code": "X", "name": "X", "region": "r", "kind": "castle", "latitude": "91", "longitude": "-181"},
        format="json",
    )
    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == {"kind", "latitude", "longitude"}
    assert not Warehouse.objects.filter(tenant=world.tenant, code="X").exists()


# Categories


def test_planner_creates_updates_and_deletes_a_category(world) -> None:
    created = world.planner.client.post(
        _url(world, "categories/"), {"code": "phones", "name": "Phones", "profile": "electronics"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("code", "name", "profile")} == {
        "code": "phones",
        "name": "Phones",
        "profile": "electronics",
    }
    assert _audited(world, "category.created", body["id"])

    listed = world.erp.client.get(_url(world, "categories/"), {"profile": "electronics"}).json()["results"]
    assert [c["code"] for c in listed] == ["phones"]

    patched = world.admin.client.patch(_url(world, f"categories/{body['id']}/"), {"name": "Mobile"}, format="json")
    assert (patched.json()["name"], patched.json()["profile"]) == ("Mobile", "electronics")

    assert world.planner.client.delete(_url(world, f"categories/{body['id']}/")).status_code == 204
    assert not Category.objects.filter(pk=body["id"]).exists()
    assert _audited(world, "category.deleted", body["id"])


def test_a_category_with_skus_cannot_be_deleted(world) -> None:
    error = assert_error(world.planner.client.delete(_url(world, f"categories/{world.category.pk}/")), 409, "conflict")
    assert "1 SKU" in error["message"]
    assert Category.objects.filter(pk=world.category.pk).exists()


# SKUs


def test_planner_creates_reads_updates_and_deletes_a_sku_naming_categories_by_code(world) -> None:
    drinks = master_services.category_create(tenant=world.tenant, code="drinks", name="Drinks")
    # Given a planner, when they create a SKU in the "snacks" category by its code
    created = world.planner.client.post(
        _url(world, "skus/"),
        {
            "code": "SKU-7",
            "name": "Pretzels",
            "category": "snacks",
            "unit_cost": "0.8000",
            "list_price": "1.99",
            "shelf_life_days": 180,
        },
        format="json",
    )
    # Then it answers with the category's code and the defaults
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "code": "SKU-7",
        "name": "Pretzels",
        "category": "snacks",
        "velocity_class": "long_tail",
        "launch_date": None,
        "shelf_life_days": 180,
        "unit_cost": "0.8000",
        "list_price": "1.9900",
        "status": "active",
        "end_of_life_on": None,
        "successor": None,
        "season_ends_on": None,
    }
    sku = Sku.objects.get(pk=body["id"])
    assert (sku.tenant, sku.category) == (world.tenant, world.category)
    assert _audited(world, "sku.created", sku.pk)

    # The list filters by category code
    in_snacks = world.erp.client.get(_url(world, "skus/"), {"category": "snacks"}).json()["results"]
    assert [s["code"] for s in in_snacks] == ["SKU-1", "SKU-7"]
    assert world.analyst.client.get(_url(world, f"skus/{sku.pk}/")).json()["category"] == "snacks"

    # PATCH moves it to another category by code, and discontinues it
    patched = world.planner.client.patch(
        _url(world, f"skus/{sku.pk}/"), {"category": "drinks", "status": "discontinued"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["category"], patched.json()["status"], patched.json()["name"]) == (
        "drinks",
        "discontinued",
        "Pretzels",
    )
    sku.refresh_from_db()
    assert sku.category == drinks
    assert [
        s["code"] for s in world.planner.client.get(_url(world, "skus/"), {"status": "discontinued"}).json()["results"]
    ] == ["SKU-7"]

    # A SKU without stock can be deleted
    assert world.planner.client.delete(_url(world, f"skus/{sku.pk}/")).status_code == 204
    assert not Sku.objects.filter(pk=sku.pk).exists()
    assert _audited(world, "sku.deleted", sku.pk)


def test_a_sku_with_ledger_lines_cannot_be_deleted(world) -> None:
    error = assert_error(world.admin.client.delete(_url(world, f"skus/{world.sku.pk}/")), 409, "conflict")
    assert "discontinued" in error["message"]
    assert Sku.objects.filter(pk=world.sku.pk).exists()


def test_a_category_of_another_tenant_is_unknown(world, other_world) -> None:
    # Given a category code that exists only in the other tenant
    master_services.category_create(tenant=other_world.tenant, code="frozen", name="Frozen")
    sku_input = {"code": "SKU-8", "name": "Ice", "category": "frozen", "unit_cost": "1", "list_price": "2"}
    # When a planner names it, on create or on update, then it is an unknown category (400)
    error = assert_error(
        world.planner.client.post(_url(world, "skus/"), sku_input, format="json"), 400, "validation_error"
    )
    assert list(error["fields"]) == ["category"]
    assert "frozen" in error["fields"]["category"][0]
    response = world.planner.client.patch(_url(world, f"skus/{world.sku.pk}/"), {"category": "frozen"}, format="json")
    assert list(assert_error(response, 400, "validation_error")["fields"]) == ["category"]
    world.sku.refresh_from_db()
    assert world.sku.category == world.category
    assert not Sku.objects.filter(tenant=world.tenant, code="SKU-8").exists()


def test_sku_prices_cannot_be_negative(world) -> None:
    response = world.planner.client.post(
        _url(world, "skus/"),
        {"code": "SKU-9", "name": "X", "category": "snacks", "unit_cost": "-1", "list_price": "2"},
        format="json",
    )
    assert list(assert_error(response, 400, "validation_error")["fields"]) == ["unit_cost"]


# Codes


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("warehouses/", {"code": "WH-1", "name": "Again", "region": "north", "kind": "store"}),
        ("categories/", {"code": "snacks", "name": "Again"}),
        ("skus/", {"code": "SKU-1", "name": "Again", "category": "snacks", "unit_cost": "1", "list_price": "2"}),
    ],
)
def test_a_code_is_unique_per_tenant(world, path: str, payload: dict) -> None:
    # Given the fixture rows with these codes (which the other tenant uses too, without conflict)
    before = AuditEvent.objects.count()
    # When a planner creates another row with the same code, then it is a 400 on `code`
    error = assert_error(world.planner.client.post(_url(world, path), payload, format="json"), 400, "validation_error")
    assert list(error["fields"]) == ["code"]
    assert payload["code"] in error["fields"]["code"][0]
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("kind", ["warehouse", "category", "sku"])
def test_a_code_cannot_change(world, kind: str) -> None:
    row = getattr(world, kind)
    path = {"warehouse": "warehouses", "category": "categories", "sku": "skus"}[kind]
    response = world.planner.client.patch(_url(world, f"{path}/{row.pk}/"), {"code": "NEW"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["fields"]) == ["code"]
    assert "Unknown field" in error["fields"]["code"][0]
    row.refresh_from_db()
    assert row.code != "NEW"


def test_unknown_fields_are_refused_on_create(world) -> None:
    response = world.planner.client.post(
        _url(world, "categories/"), {"code": "c", "name": "C", "tenant": "globex", "colour": "red"}, format="json"
    )
    assert set(assert_error(response, 400, "validation_error")["fields"]) == {"tenant", "colour"}
    assert not Category.objects.filter(code="c").exists()


# Reading


def test_staff_and_the_erp_partner_read_master_data_of_their_tenant_only(world, other_world) -> None:
    master_services.warehouse_create(tenant=other_world.tenant, code="WH-X", name="X", region="r", kind="store")
    for caller in (world.analyst, world.erp):
        for path, code in (("warehouses/", "WH-1"), ("categories/", "snacks"), ("skus/", "SKU-1")):
            response = caller.client.get(_url(world, path))
            assert response.status_code == 200, response.content
            assert [row["code"] for row in response.json()["results"]] == [code]
    # Suppliers and distributors see no master data here
    assert_error(world.supplier.client.get(_url(world, "skus/")), 403, "permission_denied")


def test_master_lists_are_cursor_paginated(world) -> None:
    for i in range(4):
        master_services.category_create(tenant=world.tenant, code=f"c{i}", name=f"C{i}")
    first = world.planner.client.get(_url(world, "categories/"), {"page_size": 3}).json()
    assert len(first["results"]) == 3
    second = world.planner.client.get(first["next"]).json()
    assert second["next"] is None
    codes = [c["code"] for c in first["results"] + second["results"]]
    assert codes == ["snacks", "c0", "c1", "c2", "c3"]  # in creation order
