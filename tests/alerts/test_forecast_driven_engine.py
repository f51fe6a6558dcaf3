"""The engine reading the stored forecasts, through the public surface.

History goes in through ingestion, forecasts are refit by the ``forecast`` command, the evaluation
runs as ``manage.py evaluate`` runs it, and figures come back from indicators/, alerts/ and
forecasts/. The expected figures are worked out here from the stored forecast's own daily series
(forecasts/{position_id}/), with the formulas of docs/engine.md.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from io import StringIO
from statistics import NormalDist

import pytest
from django.core.management import call_command

from core.inventory.models import Sku
from core.supply.services import supplier_offers_upsert
from tests.support.ingest import TODAY, push_rows, ts

LEAD_TIME = 20
REVIEW = 7
# Four weeks of a weekly pattern, repeated: quiet weekdays, a busy weekend. 120 days, the last yesterday.
WEEK = [2, 2, 3, 2, 3, 9, 7]
HISTORY = (WEEK * 18)[:120]
LEFT = 60  # units on hand after the history


def _get(world, path: str, **params: object) -> dict:
    response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()


def _push(world, what: str, rows: list[dict]):
    return push_rows(world.admin, world.tenant.slug, what, rows)


@pytest.fixture
def stocked(shop):
    """SKU F in W: the weekly history above, LEFT units left, a primary supplier 20 days away (MOQ 1)."""
    _push(shop, "skus", [{"code": "F", "name": "F", "category": "C", "unit_cost": "1", "list_price": "2"}])
    sku = Sku.objects.get(tenant=shop.tenant, code="F")
    supplier_offers_upsert(
        tenant=shop.tenant,
        offers=[
            {
                "sku_id": sku.pk,
                "supplier_id": shop.supplier.partner.pk,
                "rank": 1,
                "lead_time_days": LEAD_TIME,
                "unit_price": "1",
                "min_order_quantity": 1,
            }
        ],
    )
    rows = [
        {
            "kind": "receipt",
            "sku": "F",
            "warehouse": "W",
            "quantity": sum(HISTORY) + LEFT,
            "occurred_at": ts(len(HISTORY) + 1),
            "external_ref": "F-in",
        }
    ]
    rows += [
        {
            "kind": "sale",
            "sku": "F",
            "warehouse": "W",
            "quantity": units,
            "occurred_at": ts(len(HISTORY) - k),
            "external_ref": f"F-sale-{k}",
        }
        for k, units in enumerate(HISTORY)
    ]
    response = _push(shop, "movements", rows)
    assert response.status_code == 201, response.content
    return shop


def _evaluate(world) -> None:
    call_command("evaluate", tenant=world.tenant.slug, stdout=StringIO())


def _forecast(world) -> dict:
    call_command("forecast", tenant=world.tenant.slug, stdout=StringIO())
    (row,) = _get(world, "forecasts/", sku="F")["results"]
    return _get(world, f"forecasts/{row['position_id']}/")


def _reading(world) -> dict:
    (row,) = _get(world, "indicators/", sku="F")["results"]
    return _get(world, f"indicators/{row['position_id']}/")


def _alert(world) -> dict | None:
    rows = _get(world, "alerts/", sku="F", rule="stock_out_risk", active="true")["results"]
    return _get(world, f"alerts/{rows[0]['id']}/") if rows else None


def _from_today(forecast: dict) -> list[float]:
    """The forecast's daily mean from today on (day 1 of the series is its origin)."""
    shift = (TODAY - date.fromisoformat(forecast["origin"])).days
    return [day["mean"] for day in forecast["days"]][shift:]


def _cover_by_hand(daily: list[float], stock: float) -> float:
    """Days until the cumulative mean reaches the stock, interpolated within the day it does."""
    total = 0.0
    for k, mean in enumerate(daily):
        if total + mean >= stock:
            return k + (stock - total) / mean
        total += mean
    raise AssertionError("the stock outlasts the horizon in this test")


def _spread(forecast: dict, days: int) -> float:
    """The stored quantile of demand over ``days`` days from the origin, minus its mean."""
    series = forecast["days"]
    return series[days - 1]["cumulative_quantile"] - sum(day["mean"] for day in series[:days])


def test_days_of_cover_looks_forward_with_a_forecast_and_falls_back_without(stocked) -> None:
    world = stocked
    # No forecast yet: today's formula, available / ads_28, and the day it gives.
    _evaluate(world)
    r = _reading(world)
    # The 28-day window is today and the 27 days before; nothing sold today: 110 / 28.
    ads_28 = sum(HISTORY[-27:]) / 28
    assert r["ads_28"] == round(ads_28, 4) == 3.9286
    cover = round(LEFT / ads_28, 2)  # 60 x 28 / 110 = 15.27
    assert (r["available"], r["days_of_cover"], r["days_of_cover_source"]) == (LEFT, cover, "moving_average")
    assert r["projected_stock_out_on"] == str(TODAY + timedelta(days=15))
    assert r["details"]["forecast"] is None
    moving = _alert(world)
    # (20 - 15.27) / 20 = 0.2365: orange, worded by the moving average.
    assert (moving["grade"], moving["deviation"]) == ("orange", 0.2365)
    assert "At 3.9286 units a day" in moving["explanation"]

    # The forecast refit: cover is the day the cumulative forecast reaches available + in transit.
    forecast = _forecast(world)
    _evaluate(world)
    r = _reading(world)
    daily = _from_today(forecast)
    cover = _cover_by_hand(daily, LEFT)
    assert r["days_of_cover_source"] == "forecast"
    assert r["days_of_cover"] == pytest.approx(cover, abs=0.011)
    runs_out = TODAY + timedelta(days=math.floor(r["days_of_cover"]))
    assert r["projected_stock_out_on"] == str(runs_out)
    details = r["details"]
    assert (details["forecast"]["model"], details["forecast"]["demand_class"]) == (
        forecast["model"],
        forecast["demand_class"],
    )
    assert details["forecast"]["daily_mean"][:7] == pytest.approx(daily[:7], abs=1e-4)
    # Lead-time demand is the forecast's over the next 20 days, not 4.0 x 20.
    assert details["lead_time_demand"] == pytest.approx(sum(daily[:LEAD_TIME]), abs=0.011)

    # The alert names the projected day, how long before the earliest delivery, and the forecast.
    found = _alert(world)
    gap = (TODAY + timedelta(days=LEAD_TIME) - runs_out).days
    assert (
        f"Projected to run out on {runs_out.day} {runs_out:%B}, {gap} days before the earliest delivery"
        in (found["explanation"])
    )
    assert (
        f"(lead time {LEAD_TIME} days, forecast {forecast['model']}, demand class {forecast['demand_class']})"
        in (found["explanation"])
    )
    assert found["deviation"] == pytest.approx((LEAD_TIME - r["days_of_cover"]) / LEAD_TIME, abs=1e-6)
    assert (found["inputs"]["days_of_cover_source"], found["inputs"]["projected_stock_out_on"]) == (
        "forecast",
        str(runs_out),
    )


def test_the_forecast_safety_stock_method_changes_the_grade_and_the_order(stocked) -> None:
    world = stocked
    forecast = _forecast(world)
    _evaluate(world)
    service = _reading(world)
    assert service["details"]["safety_stock_method"] == "service_level"
    # The forecast figures are there whatever the method: spread of the 20-day demand at 0.95.
    spread = _spread(forecast, LEAD_TIME)
    assert spread > 0
    assert service["safety_stock_forecast"] == pytest.approx(spread, abs=0.011)
    daily = _from_today(forecast)
    assert service["reorder_point_forecast"] == pytest.approx(sum(daily[:LEAD_TIME]) + spread, abs=0.02)

    # At 99 %, the stored 95 % spread is rescaled by z(0.99) / z(0.95).
    response = world.admin.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/alert-policies/",
        {
            "rule": "stock_out_risk",
            "sku": "F",
            "parameters": {"safety_stock_method": "forecast", "service_level": 0.99},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    _evaluate(world)
    r = _reading(world)
    z = NormalDist().inv_cdf
    safety = spread * z(0.99) / z(0.95)
    assert r["details"]["safety_stock_method"] == "forecast"
    assert r["safety_stock_forecast"] == pytest.approx(safety, abs=0.011)
    assert r["details"]["safety_stock"] == r["safety_stock_forecast"]

    found = _alert(world)
    cover = r["days_of_cover"]
    # Grade: the worse of (safety - available) / safety and (lead time - cover) / lead time.
    deviation = max((safety - LEFT) / safety if safety > LEFT else 0.0, (LEAD_TIME - cover) / LEAD_TIME)
    assert found["deviation"] == pytest.approx(deviation, abs=1e-4)
    grade = "red" if deviation >= 0.3 else "orange" if deviation >= 0.2 else "yellow"
    assert found["grade"] == grade
    assert found["inputs"]["safety_stock_method"] == "forecast"
    assert found["inputs"]["reorder_point"] == pytest.approx(sum(daily[:LEAD_TIME]) + safety, abs=0.02)
    # Order-up-to: the forecast's demand over lead time + review period + safety; the order is that
    # less available and in transit (MOQ 1).
    order_up_to = sum(daily[: LEAD_TIME + REVIEW]) + safety
    assert found["inputs"]["order_up_to"] == pytest.approx(order_up_to, abs=0.02)
    assert found["recommendation"]["quantity"] == math.ceil(found["inputs"]["order_up_to"] - LEFT)
    # The service-level method's order differs: z x sigma x sqrt(L) + ads_28 x (L + R).
    assert found["recommendation"]["quantity"] != math.ceil(
        service["safety_stock_service"] + service["ads_28"] * (LEAD_TIME + REVIEW) - LEFT
    )


def test_approved_inbound_counts_in_the_forward_cover(stocked) -> None:
    world = stocked
    forecast = _forecast(world)
    # A second warehouse with stock of F; a transfer from it to W approved, not shipped.
    _push(world, "warehouses", [{"code": "W2", "name": "W2", "region": "r", "kind": "store"}])
    _push(
        world,
        "movements",
        [
            {
                "kind": "receipt",
                "sku": "F",
                "warehouse": "W2",
                "quantity": 500,
                "occurred_at": ts(1),
                "external_ref": "F2",
            }
        ],
    )
    slug = world.tenant.slug
    response = world.admin.client.post(
        f"/api/v1/tenants/{slug}/transfers/",
        {"sku": "F", "source": "W2", "destination": "W", "quantity": 30},
        format="json",
    )
    assert response.status_code == 201, response.content
    transfer = response.json()
    if transfer["status"] != "approved":
        response = world.admin.client.post(
            f"/api/v1/tenants/{slug}/transfers/{transfer['id']}/approve/", {}, format="json"
        )
        assert response.status_code == 200, response.content
    _evaluate(world)
    (row,) = [r for r in _get(world, "indicators/", sku="F")["results"] if r["warehouse"] == "W"]
    r = _get(world, f"indicators/{row['position_id']}/")
    assert (r["inbound_approved"], r["in_transit"], r["available"]) == (30, 0, LEFT)
    assert r["days_of_cover"] == pytest.approx(_cover_by_hand(_from_today(forecast), LEFT + 30), abs=0.011)


@pytest.mark.parametrize(("method", "status"), [("forecast", 201), ("cover", 201), ("oracle", 400)])
def test_policy_validation_knows_the_forecast_method(shop, method: str, status: int) -> None:
    response = shop.admin.client.post(
        f"/api/v1/tenants/{shop.tenant.slug}/alert-policies/",
        {"rule": "stock_out_risk", "parameters": {"safety_stock_method": method}},
        format="json",
    )
    assert response.status_code == status, response.content
    if status == 400:
        assert "safety_stock_method" in response.content.decode()
    response = shop.admin.client.get(f"/api/v1/tenants/{shop.tenant.slug}/alert-policies/rules/")
    (rule,) = [rule for rule in response.json() if rule["code"] == "stock_out_risk"]
    (parameter,) = [p for p in rule["parameters"] if p["name"] == "safety_stock_method"]
    assert parameter["choices"] == ["service_level", "cover", "forecast"]
