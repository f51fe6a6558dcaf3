"""promotions/ through the API as each kind of caller uses it: bad input refused with field errors and
nothing written, the overlap rule (with a race), cross-tenant ids, and what each partner kind sees."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.access.scope import warehouse_grant
from core.forecasting.models import Promotion
from core.inventory import master_services
from tenants.models import AuditEvent
from tests.support.endpoints import assert_error

TODAY = timezone.now().date()


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def _url(world, promotion_id: object | None = None) -> str:
    base = f"/api/v1/tenants/{world.tenant.slug}/promotions/"
    return base if promotion_id is None else f"{base}{promotion_id}/"


def _body(**overrides: object) -> dict:
    return (
        {"sku": "SKU-1", "warehouses": ["WH-1"], "starts_on": _day(10), "ends_on": _day(16)}
        | {"discount_percent": "20"}
        | overrides
    )


def _create(caller, world, **overrides: object):
    return caller.client.post(_url(world), _body(**overrides), format="json")


@pytest.fixture
def two_warehouses(world):
    master_services.warehouse_create(tenant=world.tenant, code="WH-2", name="Second", region="south", kind="store")
    return world


def test_a_planner_makes_reads_changes_and_deletes_a_promotion(two_warehouses) -> None:
    world = two_warehouses
    response = _create(world.planner, world, expected_uplift="1.8", note="spring", external_ref="ERP-7")
    assert response.status_code == 201, response.json()
    made = response.json()
    assert made["sku"] == "SKU-1"
    assert (made["all_warehouses"], made["warehouses"]) == (False, ["WH-1"])
    assert (made["starts_on"], made["ends_on"], made["discount_percent"], made["expected_uplift"]) == (
        _day(10),
        _day(16),
        "20.00",
        "1.800",
    )
    assert world.planner.client.get(_url(world, made["id"])).json() == made

    changed = world.planner.client.patch(
        _url(world, made["id"]), {"warehouses": ["WH-1", "WH-2"], "ends_on": _day(20)}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["warehouses"], changed.json()["ends_on"]) == (["WH-1", "WH-2"], _day(20))

    actions = list(
        AuditEvent.objects.filter(tenant=world.tenant, target_id=made["id"])
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["promotion.created", "promotion.updated"]
    assert world.planner.client.delete(_url(world, made["id"])).status_code == 204
    assert not Promotion.objects.filter(tenant=world.tenant).exists()
    assert AuditEvent.objects.filter(tenant=world.tenant, action="promotion.deleted").count() == 1


def test_list_filters(two_warehouses) -> None:
    world = two_warehouses
    everywhere = _create(world.admin, world, warehouses=["all"], starts_on=_day(-30), ends_on=_day(-25)).json()
    first = _create(world.admin, world, warehouses=["WH-1"]).json()
    second = _create(world.admin, world, warehouses=["WH-2"]).json()

    def ids(query: str) -> set[str]:
        response = world.analyst.client.get(_url(world) + query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {everywhere["id"], first["id"], second["id"]}
    assert ids("?warehouse=WH-2") == {everywhere["id"], second["id"]}
    assert ids("?warehouse=WH-9") == set()
    assert ids(f"?active_on={_day(12)}") == {first["id"], second["id"]}
    assert ids(f"?active_on={_day(-27)}") == {everywhere["id"]}
    assert ids(f"?from={_day(-24)}") == {first["id"], second["id"]}
    assert ids(f"?to={_day(0)}") == {everywhere["id"]}
    assert ids(f"?from={_day(-26)}&to={_day(9)}") == {everywhere["id"]}
    assert ids("?sku=SKU-2") == set()
    assert_error(world.analyst.client.get(_url(world) + "?active_on=tomorrow"), 400, "validation_error")


BAD_INPUT = [
    ({"ends_on": _day(5)}, "ends_on"),
    ({"discount_percent": "96"}, "discount_percent"),
    ({"discount_percent": "-1"}, "discount_percent"),
    ({"sku": "SKU-NOPE"}, "sku"),
    ({"warehouses": ["WH-NOPE"]}, "warehouses"),
    ({"warehouses": ["all", "WH-1"]}, "warehouses"),
    ({"warehouses": ["WH-1", "WH-1"]}, "warehouses"),
    ({"starts_on": "next week"}, "starts_on"),
    ({"expected_uplift": "0"}, "expected_uplift"),
    ({"discount": "20"}, "discount"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_INPUT, ids=[field for _, field in BAD_INPUT])
def test_bad_input_is_400_with_the_field_and_writes_nothing(world, overrides: dict, field: str) -> None:
    response = _create(world.planner, world, **overrides)
    assert_error(response, 400, "validation_error")
    assert field in response.json()["error"]["fields"], response.json()
    assert not Promotion.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="promotion.").exists()


def test_codes_of_another_tenant_are_unknown(world, other_world) -> None:
    master_services.warehouse_create(tenant=other_world.tenant, code="WH-X", name="X", region="r", kind="store")
    response = _create(world.planner, world, warehouses=["WH-X"])
    assert_error(response, 400, "validation_error")
    assert "No warehouse with code 'WH-X'" in response.json()["error"]["fields"]["warehouses"][0]
    assert not Promotion.objects.exists()


@pytest.mark.parametrize(
    ("existing", "new", "clashes"),
    [
        (["WH-1"], ["WH-1"], True),
        (["WH-1"], ["WH-2"], False),
        (["all"], ["WH-2"], True),  # an all-warehouses promotion covers WH-2 too
        (["WH-2"], [], True),  # and a new all-warehouses one covers the existing WH-2 one
    ],
)
def test_overlapping_promotions_of_one_sku_and_warehouse_are_refused(
    two_warehouses, existing: list, new: list, clashes: bool
) -> None:
    world = two_warehouses
    assert _create(world.planner, world, warehouses=existing).status_code == 201
    # Sharing only the last day is an overlap: both ends are inclusive.
    response = _create(world.planner, world, warehouses=new, starts_on=_day(16), ends_on=_day(18))
    if clashes:
        assert_error(response, 400, "validation_error")
        assert "Overlaps promotion" in response.json()["error"]["fields"]["starts_on"][0]
        assert Promotion.objects.count() == 1
    else:
        assert response.status_code == 201, response.json()


def test_without_warehouses_it_runs_in_every_one(two_warehouses) -> None:
    world = two_warehouses
    body = _body()
    del body["warehouses"]
    made = world.planner.client.post(_url(world), body, format="json")
    assert made.status_code == 201, made.json()
    assert (made.json()["all_warehouses"], made.json()["warehouses"]) == (True, [])
    for warehouses in ([], None, ["all"]):
        again = _create(world.planner, world, warehouses=warehouses)
        assert "Overlaps promotion" in again.json()["error"]["fields"]["starts_on"][0]


def test_back_to_back_promotions_are_fine(world) -> None:
    assert _create(world.planner, world, warehouses=["all"]).status_code == 201
    assert _create(world.planner, world, starts_on=_day(17), ends_on=_day(18)).status_code == 201
    assert _create(world.planner, world, starts_on=_day(3), ends_on=_day(9)).status_code == 201


def test_a_change_into_an_overlap_is_refused_and_leaves_the_promotion_as_it_was(two_warehouses) -> None:
    world = two_warehouses
    _create(world.planner, world)
    later = _create(world.planner, world, starts_on=_day(20), ends_on=_day(25)).json()
    response = world.planner.client.patch(_url(world, later["id"]), {"starts_on": _day(15)}, format="json")
    assert_error(response, 400, "validation_error")
    assert world.planner.client.get(_url(world, later["id"])).json() == later
    bad = world.planner.client.patch(_url(world, later["id"]), {"ends_on": _day(19)}, format="json")
    assert "ends_on" in bad.json()["error"]["fields"]


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_creates_at_once_cannot_both_pass() -> None:
    from tests.support.world import build_world

    world = build_world("racers")
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def create() -> None:
        try:
            barrier.wait(timeout=10)
            codes.append(_create(world.planner, world).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(codes) == [201, 400]
    assert Promotion.objects.filter(tenant=world.tenant).count() == 1


def test_another_tenants_promotion_is_404(world, other_world) -> None:
    theirs = _create(other_world.planner, other_world).json()
    for method in ("get", "patch", "delete"):
        response = getattr(world.admin.client, method)(_url(world, theirs["id"]), {}, format="json")
        assert_error(response, 404, "not_found")
    assert Promotion.objects.filter(pk=theirs["id"]).exists()


def test_the_erp_pushes_the_calendar_but_may_not_delete(world) -> None:
    made = _create(world.erp, world)
    assert made.status_code == 201, made.json()
    promotion_id = made.json()["id"]
    assert world.erp.client.get(_url(world)).json()["results"][0]["id"] == promotion_id
    assert (
        world.erp.client.patch(_url(world, promotion_id), {"discount_percent": "30"}, format="json").status_code == 200
    )
    assert_error(world.erp.client.delete(_url(world, promotion_id)), 403, "permission_denied")


def test_a_supplier_has_no_access(world) -> None:
    assert_error(world.supplier.client.get(_url(world)), 403, "permission_denied")
    assert_error(_create(world.supplier, world), 403, "permission_denied")


def test_a_distributor_reads_the_promotions_of_its_warehouses_only(two_warehouses) -> None:
    world = two_warehouses
    everywhere = _create(world.admin, world, warehouses=["all"], starts_on=_day(-30), ends_on=_day(-25)).json()
    both = _create(world.admin, world, warehouses=["WH-1", "WH-2"]).json()
    elsewhere = _create(world.admin, world, warehouses=["WH-2"], starts_on=_day(30), ends_on=_day(31)).json()
    distributor = world.distributor
    assert distributor.client.get(_url(world)).json()["results"] == []
    assert_error(distributor.client.get(_url(world, both["id"])), 404, "not_found")

    warehouse_grant(partner=distributor.partner, warehouses=[world.warehouse], quantities="bands")
    rows = {row["id"]: row for row in distributor.client.get(_url(world)).json()["results"]}
    assert set(rows) == {everywhere["id"], both["id"]}
    # Each lists only the warehouses granted to it.
    assert rows[everywhere["id"]]["warehouses"] == ["WH-1"]
    assert rows[both["id"]]["warehouses"] == ["WH-1"]
    assert_error(distributor.client.get(_url(world, elsewhere["id"])), 404, "not_found")
    assert_error(_create(distributor, world, starts_on=_day(40), ends_on=_day(41)), 403, "permission_denied")
