"""The industry-profile columns of bulk master ingestion: a category's monthly coefficients, a SKU's
end of life, successor and season end. A bad batch is refused whole with its rows named; codes of
another tenant are unknown here."""

from datetime import date

import pytest

from core.inventory.models import Category, Position, Sku
from tests.support.ingest import push_rows

COEFFICIENTS = [1.4, 1.2, 0.9, 0.8, 0.7, 0.6, 0.6, 0.7, 0.9, 1.1, 1.5, 1.6]


def _sku(code: str, **fields) -> dict:
    return {"code": code, "name": code, "category": "TECH", "unit_cost": "1", "list_price": "2", **fields}


@pytest.fixture
def tech(world):
    """An electronics and an apparel category, pushed by the ERP."""
    rows = [{"code": "TECH", "name": "Tech", "profile": "electronics"}, {"code": "WEAR", "name": "Wear"}]
    assert push_rows(world.erp, world.tenant.slug, "categories", rows).status_code == 201
    return world


def _snapshot(world) -> tuple:
    return (
        list(Category.objects.filter(tenant=world.tenant).order_by("id").values()),
        list(Sku.objects.filter(tenant=world.tenant).order_by("id").values()),
    )


def test_coefficients_arrive_as_a_json_list_or_a_csv_cell(tech) -> None:
    slug = tech.tenant.slug
    rows = [{"code": "WEAR", "name": "Wear", "profile": "apparel", "seasonal_coefficients": COEFFICIENTS}]
    assert push_rows(tech.erp, slug, "categories", rows).json() == {"rows": 1, "created": 0, "updated": 1}
    wear = Category.objects.get(tenant=tech.tenant, code="WEAR")
    assert (wear.profile, wear.seasonal_coefficients) == ("apparel", COEFFICIENTS)

    # A row that leaves them out keeps them; CSV carries them in one cell, separated by semicolons
    assert push_rows(tech.erp, slug, "categories", [{"code": "WEAR", "name": "Clothing"}]).status_code == 201
    wear.refresh_from_db()
    assert (wear.name, wear.seasonal_coefficients) == ("Clothing", COEFFICIENTS)
    flat = ";".join(["1"] * 12)
    csv_body = f"code,name,profile,seasonal_coefficients\nHATS,Hats,apparel,{flat}\n"
    assert push_rows(tech.erp, slug, "categories", csv_body, fmt="csv").status_code == 201
    assert Category.objects.get(tenant=tech.tenant, code="HATS").seasonal_coefficients == [1.0] * 12


def test_skus_name_a_successor_of_the_tenant_or_of_the_same_batch(tech) -> None:
    slug = tech.tenant.slug
    rows = [
        _sku("PHONE-1", end_of_life_on="2027-03-31", successor="PHONE-2"),
        _sku("PHONE-2"),
        _sku("COAT", category="WEAR", season_ends_on="2027-02-28"),
    ]
    assert push_rows(tech.erp, slug, "skus", rows).json() == {"rows": 3, "created": 3, "updated": 0}
    skus = {sku.code: sku for sku in Sku.objects.filter(tenant=tech.tenant).select_related("successor")}
    assert (skus["PHONE-1"].end_of_life_on, skus["PHONE-1"].successor.code) == (date(2027, 3, 31), "PHONE-2")
    assert skus["COAT"].season_ends_on == date(2027, 2, 28)

    # A later push names a stored SKU; one that leaves the columns out keeps them
    assert push_rows(tech.erp, slug, "skus", [_sku("PHONE-2", successor="SKU-1")]).status_code == 201
    assert push_rows(tech.erp, slug, "skus", [_sku("PHONE-1", name="Phone one")]).status_code == 201
    phone = Sku.objects.select_related("successor").get(tenant=tech.tenant, code="PHONE-1")
    assert (phone.name, phone.end_of_life_on, phone.successor.code) == ("Phone one", date(2027, 3, 31), "PHONE-2")
    assert Sku.objects.get(tenant=tech.tenant, code="PHONE-2").successor.code == "SKU-1"


BAD_BATCHES = {
    "eleven coefficients": (
        "categories",
        [{"code": "WEAR", "name": "W", "seasonal_coefficients": COEFFICIENTS[:11]}],
        {"rows.1.seasonal_coefficients"},
    ),
    "a zero coefficient": (
        "categories",
        [{"code": "WEAR", "name": "W", "seasonal_coefficients": [0, *COEFFICIENTS[1:]]}],
        {"rows.1.seasonal_coefficients"},
    ),
    "mean not 1": (
        "categories",
        [
            {"code": "WEAR", "name": "W", "seasonal_coefficients": [2] * 12},
            {"code": "NEW", "name": "N", "seasonal_coefficients": "1;1;1"},
            {"code": "NEW2", "name": "N", "seasonal_coefficients": "a;b"},
        ],
        {"rows.1.seasonal_coefficients", "rows.2.seasonal_coefficients", "rows.3.seasonal_coefficients"},
    ),
    "bad days": (
        "skus",
        [_sku("NEW", end_of_life_on="31/03/2027"), _sku("NEW2", season_ends_on="0202-01-01")],
        {"rows.1.end_of_life_on", "rows.2.season_ends_on"},
    ),
    "its own successor": ("skus", [_sku("NEW"), _sku("PHONE", successor="PHONE")], {"rows.2.successor"}),
    "an unknown successor": ("skus", [_sku("NEW", successor="NOPE")], {"rows.1.successor"}),
    "another tenant's successor": ("skus", [_sku("NEW", successor="FOREIGN")], {"rows.1.successor"}),
    "a cycle in the batch": (
        "skus",
        [_sku("NEW"), _sku("A", successor="B"), _sku("B", successor="A")],
        {"rows.2.successor", "rows.3.successor"},
    ),
    "a cycle through a stored SKU": ("skus", [_sku("NEW"), _sku("LAST", successor="FIRST")], {"rows.2.successor"}),
}


@pytest.mark.parametrize("case", BAD_BATCHES, ids=str)
def test_bad_batches_are_refused_whole(case: str, tech, other_world) -> None:
    # Given FIRST -> LAST stored here, and a SKU only the other tenant has
    slug = tech.tenant.slug
    assert push_rows(tech.erp, slug, "skus", [_sku("FIRST", successor="LAST"), _sku("LAST")]).status_code == 201
    assert push_rows(other_world.erp, other_world.tenant.slug, "categories", [{"code": "T", "name": "T"}])
    foreign = {"code": "FOREIGN", "name": "F", "category": "T", "unit_cost": "1", "list_price": "2"}
    assert push_rows(other_world.erp, other_world.tenant.slug, "skus", [foreign]).status_code == 201
    endpoint, rows, expected = BAD_BATCHES[case]
    before = _snapshot(tech)
    response = push_rows(tech.erp, slug, endpoint, rows)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    assert "nothing was written" in error["message"]
    assert set(error["fields"]) == expected
    assert _snapshot(tech) == before


def test_a_pushed_change_the_forecast_reads_marks_the_positions_changed(world) -> None:
    Position.objects.filter(pk=world.position.pk).update(dirty_since=None)
    row = {"code": "SKU-1", "name": "SKU-1", "category": "snacks", "unit_cost": "1", "list_price": "2"}

    def pending() -> bool:
        return Position.objects.get(pk=world.position.pk).dirty_since is not None

    assert push_rows(world.erp, world.tenant.slug, "skus", [{**row, "name": "Renamed"}]).status_code == 201
    assert not pending()
    assert push_rows(world.erp, world.tenant.slug, "skus", [{**row, "end_of_life_on": "2027-01-31"}]).status_code == 201
    assert pending()
    Position.objects.filter(pk=world.position.pk).update(dirty_since=None)
    assert push_rows(world.erp, world.tenant.slug, "skus", [{**row, "end_of_life_on": "2027-01-31"}]).status_code == 201
    assert not pending()  # the same value again changes nothing
    coefficients = {"code": "snacks", "name": "Snacks", "seasonal_coefficients": COEFFICIENTS}
    assert push_rows(world.erp, world.tenant.slug, "categories", [coefficients]).status_code == 201
    assert pending()
