"""What an industry profile reads of master data, through the API: a category's monthly coefficients,
a SKU's end of life, successor and season end. Bad input is a 400 on its field with nothing written;
codes of another tenant are unknown here."""

import pytest

from core.inventory import master_services
from core.inventory.models import Category, Position, Sku
from tenants.models import AuditEvent

COEFFICIENTS = [1.4, 1.2, 0.9, 0.8, 0.7, 0.6, 0.6, 0.7, 0.9, 1.1, 1.5, 1.6]  # mean 1


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    return error


def _url(world, path: str) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/{path}"


def _sku(world, code: str, **fields) -> Sku:
    return master_services.sku_create(
        tenant=world.tenant, code=code, name=code, category=world.category, unit_cost=1, list_price=2, **fields
    )


def _snapshot(world) -> tuple:
    return (
        list(Category.objects.filter(tenant=world.tenant).order_by("id").values()),
        list(Sku.objects.filter(tenant=world.tenant).order_by("id").values()),
        AuditEvent.objects.filter(tenant=world.tenant).count(),
    )


# Categories: monthly coefficients


def test_an_apparel_category_keeps_its_monthly_coefficients(world) -> None:
    created = world.planner.client.post(
        _url(world, "categories/"),
        {"code": "coats", "name": "Coats", "profile": "apparel", "seasonal_coefficients": COEFFICIENTS},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["seasonal_coefficients"] == COEFFICIENTS
    url = _url(world, f"categories/{created.json()['id']}/")
    assert world.erp.client.get(url).json()["seasonal_coefficients"] == COEFFICIENTS

    # Two decimals that miss a mean of 1 by less than 0.01 pass; null clears them
    typed = [1.33, *COEFFICIENTS[1:]]  # mean 0.9942
    patched = world.planner.client.patch(url, {"seasonal_coefficients": typed}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["seasonal_coefficients"] == typed
    cleared = world.planner.client.patch(url, {"seasonal_coefficients": None}, format="json")
    assert cleared.json()["seasonal_coefficients"] is None
    # A category without them says null
    assert (
        world.planner.client.get(_url(world, f"categories/{world.category.pk}/")).json()["seasonal_coefficients"]
        is None
    )


@pytest.mark.parametrize(
    ("coefficients", "says"),
    [
        (COEFFICIENTS[:11], "12"),
        ([*COEFFICIENTS, 1.0], "12"),
        ([0.0, *COEFFICIENTS[1:]], "above 0"),
        ([-0.2, 1.6, *COEFFICIENTS[2:]], "above 0"),
        ([2.0 * c for c in COEFFICIENTS], "mean must be 1"),
        (["1.4", *COEFFICIENTS[1:]], "number"),
        ("1.4;1.2", "list"),
    ],
    ids=["eleven", "thirteen", "a zero", "a negative", "mean 2", "text in the list", "text"],
)
def test_bad_coefficients_are_a_400_and_nothing_is_written(world, coefficients, says: str) -> None:
    before = _snapshot(world)
    for response in (
        world.planner.client.post(
            _url(world, "categories/"),
            {"code": "coats", "name": "Coats", "profile": "apparel", "seasonal_coefficients": coefficients},
            format="json",
        ),
        world.planner.client.patch(
            _url(world, f"categories/{world.category.pk}/"), {"seasonal_coefficients": coefficients}, format="json"
        ),
    ):
        error = assert_error(response, 400, "validation_error")
        assert list(error["fields"]) == ["seasonal_coefficients"], error
        assert says in " ".join(error["fields"]["seasonal_coefficients"])
    assert _snapshot(world) == before


# SKUs: end of life, successor, season end


def test_a_sku_names_its_end_of_life_successor_and_season_end(world) -> None:
    _sku(world, "SKU-NEXT")
    created = world.planner.client.post(
        _url(world, "skus/"),
        {
            "code": "SKU-OLD",
            "name": "Old phone",
            "category": "snacks",
            "unit_cost": "1",
            "list_price": "2",
            "end_of_life_on": "2027-03-31",
            "successor": "SKU-NEXT",
            "season_ends_on": "2027-02-28",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["end_of_life_on"], body["successor"], body["season_ends_on"]) == (
        "2027-03-31",
        "SKU-NEXT",
        "2027-02-28",
    )
    old = Sku.objects.get(pk=body["id"])
    assert old.successor == Sku.objects.get(tenant=world.tenant, code="SKU-NEXT")

    # Lists filter by successor, by last selling day and by season end
    def codes(query: dict) -> list[str]:
        response = world.erp.client.get(_url(world, "skus/"), query)
        assert response.status_code == 200, response.content
        return [row["code"] for row in response.json()["results"]]

    assert codes({"successor": "SKU-NEXT"}) == ["SKU-OLD"]
    assert codes({"end_of_life_before": "2027-04-01"}) == ["SKU-OLD"]
    assert codes({"end_of_life_before": "2027-03-31"}) == []
    assert codes({"season_ends_before": "2027-03-01"}) == ["SKU-OLD"]
    assert codes({"profile": "fmcg"}) == ["SKU-1", "SKU-NEXT", "SKU-OLD"]
    assert codes({"profile": "apparel"}) == []
    assert_error(world.erp.client.get(_url(world, "skus/"), {"end_of_life_before": "soon"}), 400, "validation_error")

    # PATCH clears them with null
    url = _url(world, f"skus/{old.pk}/")
    cleared = world.planner.client.patch(
        url, {"successor": None, "end_of_life_on": None, "season_ends_on": None}, format="json"
    )
    assert cleared.status_code == 200, cleared.content
    assert (cleared.json()["successor"], cleared.json()["end_of_life_on"], cleared.json()["season_ends_on"]) == (
        None,
        None,
        None,
    )


def test_a_successor_must_be_another_sku_of_this_tenant_and_close_no_cycle(world, other_world) -> None:
    # Given A -> B -> C in this tenant, and a SKU only the other tenant has
    c = _sku(world, "SKU-C")
    b = _sku(world, "SKU-B", successor=c)
    a = _sku(world, "SKU-A", successor=b)
    master_services.sku_create(
        tenant=other_world.tenant,
        code="SKU-FOREIGN",
        name="x",
        category=other_world.category,
        unit_cost=1,
        list_price=2,
    )
    before = _snapshot(world)

    cases = [
        (a, "SKU-A", "own successor"),
        (c, "SKU-A", "cycle: SKU-C -> SKU-A -> SKU-B -> SKU-C"),
        (b, "SKU-A", "cycle"),
        (a, "SKU-FOREIGN", "No SKU with the code 'SKU-FOREIGN'"),
        (a, "SKU-NONE", "No SKU with the code 'SKU-NONE'"),
    ]
    for sku, successor, says in cases:
        response = world.planner.client.patch(_url(world, f"skus/{sku.pk}/"), {"successor": successor}, format="json")
        error = assert_error(response, 400, "validation_error")
        assert list(error["fields"]) == ["successor"]
        assert says in error["fields"]["successor"][0], error
    created = world.planner.client.post(
        _url(world, "skus/"),
        {"code": "SKU-D", "name": "D", "category": "snacks", "unit_cost": "1", "list_price": "2", "successor": 5},
        format="json",
    )
    assert list(assert_error(created, 400, "validation_error")["fields"]) == ["successor"]
    assert _snapshot(world) == before

    # Another SKU outside the chain may take the place of one in it
    response = world.planner.client.patch(_url(world, f"skus/{c.pk}/"), {"successor": "SKU-1"}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "payload",
    [{"end_of_life_on": "31/03/2027"}, {"season_ends_on": "2027-02-30"}, {"season_ends_on": 20270228}],
    ids=["day first", "no such day", "a number"],
)
def test_bad_days_are_a_400_and_nothing_is_written(world, payload: dict) -> None:
    before = _snapshot(world)
    response = world.planner.client.patch(_url(world, f"skus/{world.sku.pk}/"), payload, format="json")
    assert list(assert_error(response, 400, "validation_error")["fields"]) == list(payload)
    assert _snapshot(world) == before


def test_partners_do_not_write_master_data_here(world) -> None:
    # The ERP writes master data through bulk ingestion; no partner kind edits it one row at a time.
    for kind, caller in world.partners.items():
        response = caller.client.patch(
            _url(world, f"skus/{world.sku.pk}/"), {"end_of_life_on": "2027-01-31"}, format="json"
        )
        assert response.status_code == 403, (kind, response.content)
    world.sku.refresh_from_db()
    assert world.sku.end_of_life_on is None


def test_a_change_the_forecast_reads_marks_the_positions_changed(world) -> None:
    # Given the fixture position, evaluated (nothing pending)
    Position.objects.filter(pk=world.position.pk).update(dirty_since=None)

    def pending() -> bool:
        return Position.objects.get(pk=world.position.pk).dirty_since is not None

    # When a field the forecast does not read changes, the position is left alone
    world.planner.client.patch(_url(world, f"skus/{world.sku.pk}/"), {"name": "Crisps"}, format="json")
    assert not pending()
    # When its season end changes, it is marked for the forecast and the engine
    world.planner.client.patch(_url(world, f"skus/{world.sku.pk}/"), {"season_ends_on": "2027-02-28"}, format="json")
    assert pending()
    # and so it is when its category's profile changes, and not when the category is renamed
    Position.objects.filter(pk=world.position.pk).update(dirty_since=None)
    category_url = _url(world, f"categories/{world.category.pk}/")
    world.planner.client.patch(category_url, {"name": "Crisps and more"}, format="json")
    assert not pending()
    world.planner.client.patch(category_url, {"profile": "apparel"}, format="json")
    assert pending()
