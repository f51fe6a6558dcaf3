"""Industry profiles in stored forecasts, through the public surface: categories and SKUs pushed and
edited through the API, hand-made histories pushed through ingestion, the ``forecast`` command (and a
real worker), and forecasts/ as a planner reads it."""

from __future__ import annotations

import time
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.forecasting.models import Forecast
from tests.support.celery_worker import worker_idle_wait
from tests.support.histories import DAYS, sku_with_history, weekly
from tests.support.ingest import push_rows

TODAY = timezone.now().date()
# January first; mean 1. Every month differs from its neighbours, so whichever months the history
# and the horizon cover, a forecast that ignored them would show.
COEFFICIENTS = [1.5, 1.2, 0.9, 0.7, 0.6, 0.5, 0.6, 0.8, 0.9, 1.1, 1.4, 1.8]
LEVEL = 10
SEASON_END = TODAY + timedelta(days=30)
END_OF_LIFE = TODAY + timedelta(days=20)


def coefficient(day: date) -> float:
    return COEFFICIENTS[day.month - 1]


def seasonal(days: int = DAYS) -> list[int]:
    # LEVEL a day times the month's coefficient (all whole numbers): de-seasonalised, a flat 10.
    return [round(LEVEL * coefficient(TODAY - timedelta(days=days - i))) for i in range(days)]


@pytest.fixture
def profiled(world):
    """An apparel category with coefficients and an electronics one; a coat whose season ends in 30
    days, a phone whose life ends in 20, and a plain weekly SKU of the world's category."""
    categories = [
        {"code": "COATS", "name": "Coats", "profile": "apparel", "seasonal_coefficients": COEFFICIENTS},
        {"code": "PHONES", "name": "Phones", "profile": "electronics"},
    ]
    assert push_rows(world.erp, world.tenant.slug, "categories", categories).status_code == 201
    sku_with_history(world, "COAT", seasonal(), category="COATS", season_ends_on=SEASON_END.isoformat())
    sku_with_history(world, "PHONE", weekly(), category="PHONES", end_of_life_on=END_OF_LIFE.isoformat())
    sku_with_history(world, "PLAIN", weekly())
    return world


def _refresh(world) -> str:
    out = StringIO()
    call_command("forecast", tenant=world.tenant.slug, stdout=out)
    return out.getvalue()


def _forecast(world, sku: str) -> dict:
    url = f"/api/v1/tenants/{world.tenant.slug}/forecasts/"
    (row,) = world.planner.client.get(url, {"sku": sku}).json()["results"]
    detail = world.planner.client.get(f"{url}{row['position_id']}/")
    assert detail.status_code == 200, detail.content
    return detail.json()


def _sku_url(world, code: str) -> str:
    response = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/skus/", {"code": code})
    sku_id = next(row["id"] for row in response.json()["results"] if row["code"] == code)
    return f"/api/v1/tenants/{world.tenant.slug}/skus/{sku_id}/"


def test_an_apparel_forecast_follows_the_coefficients_and_stops_at_the_season_end(profiled) -> None:
    _refresh(profiled)
    coat = _forecast(profiled, "COAT")
    assert coat["model"] == "theta_weekly"
    assert "monthly coefficients" in coat["reason"]
    assert f"season ends {SEASON_END.isoformat()}, no demand forecast after it" in coat["reason"]
    for day in coat["days"]:
        on = date.fromisoformat(day["date"])
        if on <= SEASON_END:
            # Each day is the de-seasonalised level (10) times its month's coefficient.
            assert day["mean"] == pytest.approx(LEVEL * coefficient(on), rel=0.05), day
        else:
            assert (day["mean"], day["p50"], day["quantile"]) == (0, 0, 0), day
    cumulative = [day["cumulative_quantile"] for day in coat["days"]]
    alive = (SEASON_END - TODAY).days + 1
    assert cumulative == sorted(cumulative)
    assert set(cumulative[alive:]) == {cumulative[alive - 1]}
    assert coat["horizon_mean"] == pytest.approx(
        sum(LEVEL * coefficient(TODAY + timedelta(k)) for k in range(alive)), rel=0.05
    )


def test_an_electronics_forecast_stops_at_the_end_of_life_and_other_profiles_are_untouched(profiled) -> None:
    _refresh(profiled)
    phone, plain = _forecast(profiled, "PHONE"), _forecast(profiled, "PLAIN")
    assert phone["reason"] == f"electronics: end of life {END_OF_LIFE.isoformat()}, no demand forecast after it"
    alive = (END_OF_LIFE - TODAY).days + 1
    # The same history as the plain SKU's: the same forecast through the last selling day, none after
    assert [d["mean"] for d in phone["days"][:alive]] == [d["mean"] for d in plain["days"][:alive]]
    assert all(d["mean"] > 5 for d in phone["days"][:alive])
    assert {d["mean"] for d in phone["days"][alive:]} == {0}
    assert plain["reason"] == ""
    assert all(d["mean"] > 5 for d in plain["days"])


def test_a_change_of_what_a_profile_reads_refits_its_positions(profiled) -> None:
    world = profiled
    assert "4 positions, 4 refit" in _refresh(world)
    assert "0 refit (none), 4 unchanged" in _refresh(world)

    # A new season end, through the API: the coat is refit and its demand stops at the new day
    later = SEASON_END + timedelta(days=10)
    response = world.planner.client.patch(_sku_url(world, "COAT"), {"season_ends_on": later.isoformat()}, format="json")
    assert response.status_code == 200, response.content
    assert "1 refit (theta_weekly 1), 3 unchanged" in _refresh(world)
    coat = _forecast(world, "COAT")
    assert coat["days"][(later - TODAY).days]["mean"] > 0
    assert coat["days"][(later - TODAY).days + 1]["mean"] == 0

    # A renamed SKU is not refit; new coefficients for the category refit its SKU
    world.planner.client.patch(_sku_url(world, "COAT"), {"name": "Winter coat"}, format="json")
    assert "0 refit (none), 4 unchanged" in _refresh(world)
    flat = [1.0] * 12
    assert (
        push_rows(
            world.erp,
            world.tenant.slug,
            "categories",
            [{"code": "COATS", "name": "Coats", "seasonal_coefficients": flat}],
        ).status_code
        == 201
    )
    assert "1 refit (theta_weekly 1), 3 unchanged" in _refresh(world)
    assert "monthly coefficients" in _forecast(world, "COAT")["reason"]

    # The phone's end of life pushed away by the ERP; then its category made general: refit each time
    push = {"code": "PHONE", "name": "PHONE", "category": "PHONES", "unit_cost": "1", "list_price": "2"}
    assert (
        push_rows(world.erp, world.tenant.slug, "skus", [{**push, "end_of_life_on": "2199-12-31"}]).status_code == 201
    )
    assert "1 refit (theta_weekly 1), 3 unchanged" in _refresh(world)
    assert all(d["mean"] > 5 for d in _forecast(world, "PHONE")["days"])
    response = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/categories/", {"profile": "electronics"})
    (phones,) = response.json()["results"]
    world.planner.client.patch(
        f"/api/v1/tenants/{world.tenant.slug}/categories/{phones['id']}/", {"profile": "general"}, format="json"
    )
    assert "1 refit (theta_weekly 1), 3 unchanged" in _refresh(world)
    assert _forecast(world, "PHONE")["reason"] == ""


@pytest.mark.usefixtures("transactional_db")
def test_the_worker_refits_a_position_whose_season_end_changed(world, celery_worker_process) -> None:
    # Given an apparel SKU whose forecast the worker fitted after its history was pushed
    categories = [{"code": "COATS", "name": "Coats", "profile": "apparel", "seasonal_coefficients": COEFFICIENTS}]
    assert push_rows(world.erp, world.tenant.slug, "categories", categories).status_code == 201
    sku_with_history(world, "COAT", seasonal(), category="COATS")
    worker_idle_wait()
    fitted = Forecast.objects.get(tenant=world.tenant, sku__code="COAT")
    assert "season ends" not in fitted.reason

    # When a planner sets its season end, then the worker refits it shortly after, and it says so
    response = world.planner.client.patch(
        _sku_url(world, "COAT"), {"season_ends_on": SEASON_END.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.content
    deadline = time.monotonic() + 30
    while "season ends" not in Forecast.objects.get(pk=fitted.pk).reason:
        assert time.monotonic() < deadline, "the worker did not refit the coat"
        time.sleep(0.1)
    worker_idle_wait()


def test_a_promotion_across_the_end_of_life_sells_only_until_it(profiled) -> None:
    # Given a promotion of the phone at twice its demand from 5 days before its end of life to 5 after
    world = profiled
    body = {
        "sku": "PHONE",
        "warehouses": [world.warehouse.code],
        "starts_on": (END_OF_LIFE - timedelta(days=5)).isoformat(),
        "ends_on": (END_OF_LIFE + timedelta(days=5)).isoformat(),
        "discount_percent": "20",
        "expected_uplift": "2",
    }
    response = world.planner.client.post(f"/api/v1/tenants/{world.tenant.slug}/promotions/", body, format="json")
    assert response.status_code == 201, response.content
    _refresh(world)
    phone, plain = _forecast(world, "PHONE"), _forecast(world, "PLAIN")
    alive = (END_OF_LIFE - TODAY).days + 1
    # Then its promoted days up to the end of life sell twice the plain SKU's, none after it
    promoted = range(alive - 6, alive)
    for k in promoted:
        assert phone["days"][k]["mean"] == pytest.approx(2 * plain["days"][k]["mean"], rel=1e-3)
    assert {d["mean"] for d in phone["days"][alive:]} == {0}
    (applied,) = phone["promotions"]
    assert applied["promoted_mean"] == pytest.approx(sum(phone["days"][k]["mean"] for k in promoted), rel=1e-3)
