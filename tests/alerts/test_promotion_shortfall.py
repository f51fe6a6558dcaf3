"""The promotion_shortfall rule through the public surface: history through ingestion, the promotion
over HTTP, forecasts refit by ``manage.py forecast``, the evaluation by ``manage.py evaluate``, and
figures back from alerts/, indicators/ and forecasts/. The worker-driven flow with its RFQ is in
tests/workers/test_promotion_shortfall_tasks.py.

S sells 10 a day, every day, in W and in W2 (the forecast: 10 a day, theta_weekly on a flat series);
its primary supplier takes 10 days. A promotion of S in every warehouse runs from day 20 through day
26 (today is day 0) at 25 % off with a stated uplift of 3. By hand, with the 10-day lead time:

- promoted demand, days 20 .. 36: 7 promotion days x 30 + 10 days x 10 = 310 units;
- held at the start: what is on hand now less 20 days x 10 = 200 sold before it;
- W holds 440: 240 at the start, 70 short (70 / 310 = 22.6 %, orange): order 70 by day 10;
- W2 holds 1,000: 800 at the start, enough: no alert.
"""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from core.access.scope import warehouse_grant
from core.inventory.models import Warehouse
from tests.support.histories import selling_at_two_warehouses
from tests.support.ingest import TODAY
from workers.tasks.evaluation import evaluation_incremental

LEAD_TIME = 10
HELD = {"W": 440, "W2": 1000}
STARTS, ENDS = TODAY + timedelta(days=20), TODAY + timedelta(days=26)


def _url(world, path: str) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/{path}"


def _get(world, path: str, caller=None, **params: object) -> dict:
    response = (caller or world.admin).client.get(_url(world, path), params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def selling(shop):
    """S at W (440 left) and W2 (1,000 left), 10 a day for 120 days; the primary supplier 10 days away."""
    selling_at_two_warehouses(shop, HELD, lead_time_days=LEAD_TIME)
    return shop


def _promote(world, starts: date = STARTS, ends: date = ENDS, **extra: object) -> dict:
    body = {"sku": "S", "starts_on": str(starts), "ends_on": str(ends), "discount_percent": "25", **extra}
    response = world.planner.client.post(_url(world, "promotions/"), {"expected_uplift": "3", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _refit_and_evaluate(world) -> None:
    call_command("forecast", tenant=world.tenant.slug, stdout=StringIO())
    call_command("evaluate", tenant=world.tenant.slug, stdout=StringIO())


def _shortfalls(world, caller=None, **params: object) -> list[dict]:
    found = _get(world, "alerts/", caller=caller, rule="promotion_shortfall", active="true", **params)["results"]
    return [_get(world, f"alerts/{row['id']}/", caller=caller) for row in found]


def _daily(world, warehouse: str) -> list[float]:
    (row,) = _get(world, "forecasts/", sku="S", warehouse=warehouse)["results"]
    forecast = _get(world, f"forecasts/{row['position_id']}/")
    shift = (TODAY - date.fromisoformat(forecast["origin"])).days
    return [day["mean"] for day in forecast["days"]][shift:]


def test_a_promotion_the_stock_cannot_cover_opens_an_alert_with_the_quantity_and_the_order_by_day(selling) -> None:
    world = selling
    promotion = _promote(world)
    _refit_and_evaluate(world)

    # The forecast carries the stated uplift on the promotion's days: 30 a day, 10 on the others.
    daily = _daily(world, "W")
    assert daily[:20] == [10.0] * 20
    assert daily[20:27] == [30.0] * 7
    assert daily[27:37] == [10.0] * 10
    promoted = sum(daily[20 : 27 + LEAD_TIME])
    at_start = HELD["W"] - sum(daily[:20])
    assert (promoted, at_start) == (310.0, 240.0)

    (alert,) = _shortfalls(world)
    assert (alert["warehouse"], alert["direction"], alert["grade"]) == ("W", "stock_out", "orange")
    assert alert["deviation"] == pytest.approx(70 / 310, abs=1e-6)
    order_by = STARTS - timedelta(days=LEAD_TIME)
    inputs = alert["inputs"]
    assert (inputs["promoted_demand"], inputs["stock_at_start"], inputs["shortfall"]) == (310.0, 240.0, 70.0)
    assert (inputs["uplift"], inputs["uplift_source"], inputs["uplift_in_forecast"]) == (3.0, "stated", True)
    assert (inputs["order_by"], inputs["promotion_id"]) == (str(order_by), promotion["id"])
    recommendation = alert["recommendation"]
    assert (recommendation["action"], recommendation["quantity"]) == ("replenishment_order", 70)
    assert (recommendation["order_by"], recommendation["needed_by"]) == (str(order_by), str(STARTS))
    assert f"Order 70 units from the primary supplier by {order_by}" in recommendation["summary"]
    explanation = alert["explanation"]
    for words in (
        f"Promotion {promotion['id']} runs {STARTS.day} {STARTS:%B} to {ENDS.day} {ENDS:%B} at 25 % off",
        "uplift x3 (stated)",
        "is 310 units by the fresh forecast (theta_weekly)",
        "will hold 240 when it starts (440 available, in transit and approved inbound, less 200 projected",
        "70 units short",
        f"Order by {order_by.day} {order_by:%B} (the start less the 10-day lead time)",
    ):
        assert words in explanation

    # The reading names the promotion it looked at; W2, well stocked, has it and no alert.
    (w2,) = _get(world, "indicators/", sku="S", warehouse="W2")["results"]
    upcoming = _get(world, f"indicators/{w2['position_id']}/")["details"]["upcoming_promotion"]
    assert (upcoming["promotion_id"], upcoming["starts_on"], upcoming["uplift"]) == (promotion["id"], str(STARTS), 3.0)
    assert _shortfalls(world, warehouse="W2") == []
    # The stock-out rule sees W run out on day 29, well after the 10-day lead time: nothing to say.
    assert _get(world, "alerts/", rule="stock_out_risk", active="true")["results"] == []


def test_a_promotion_beyond_lead_days_waits_until_a_policy_looks_that_far(selling) -> None:
    world = selling
    _promote(world, starts=TODAY + timedelta(days=40), ends=TODAY + timedelta(days=46))
    _refit_and_evaluate(world)
    assert _shortfalls(world) == []

    response = world.planner.client.post(
        _url(world, "alert-policies/"),
        {"rule": "promotion_shortfall", "sku": "S", "parameters": {"lead_days": 45}},
        format="json",
    )
    assert response.status_code == 201, response.content
    call_command("evaluate", tenant=world.tenant.slug, stdout=StringIO())
    # Days 40 .. 56: 7 x 30 + 10 x 10 = 310 again; W holds 440 - 400 = 40 at the start: 270 short, red.
    (alert,) = _shortfalls(world)
    assert (alert["warehouse"], alert["grade"], alert["inputs"]["shortfall"]) == ("W", "red", 270.0)
    assert alert["thresholds"]["parameters"]["lead_days"] == 45
    assert alert["thresholds"]["sources"]["parameters.lead_days"] == "SKU S"


def test_deleting_the_promotion_makes_the_alert_go_quiet(selling) -> None:
    world = selling
    promotion = _promote(world)
    _refit_and_evaluate(world)
    (alert,) = _shortfalls(world)

    assert world.admin.client.delete(_url(world, f"promotions/{promotion['id']}/")).status_code == 204
    _refit_and_evaluate(world)
    assert _shortfalls(world) == []
    assert _daily(world, "W")[20:27] == [10.0] * 7  # the forecast lost the uplift
    gone = _get(world, f"alerts/{alert['id']}/")
    assert (gone["active"], gone["status"]) == (False, "resolved")


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"lead_days": 0}, "parameters.lead_days"),
        ({"lead_days": 366}, "parameters.lead_days"),
        ({"lead_days": "thirty"}, "parameters.lead_days"),
        ({"lead_days": True}, "parameters.lead_days"),
        ({"rfq_grade": "purple"}, "parameters.rfq_grade"),
        ({"service_level": 0.9}, "parameters.service_level"),  # the stock-out rule's, not this one's
    ],
)
def test_policies_of_the_rule_are_validated(selling, parameters: dict, field: str) -> None:
    world = selling
    response = world.admin.client.post(
        _url(world, "alert-policies/"), {"rule": "promotion_shortfall", "parameters": parameters}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert _get(world, "alert-policies/")["results"] == []


def test_a_distributor_sees_only_the_shortfalls_of_its_warehouses(selling) -> None:
    world = selling
    # From day 5 through day 30 at 5 x: both warehouses short, past the order-by day (red).
    _promote(world, starts=TODAY + timedelta(days=5), ends=TODAY + timedelta(days=30), expected_uplift="5")
    _refit_and_evaluate(world)
    assert sorted(alert["warehouse"] for alert in _shortfalls(world)) == ["W", "W2"]
    warehouse_grant(
        partner=world.distributor.partner, warehouses=[Warehouse.objects.get(tenant=world.tenant, code="W2")]
    )
    (seen,) = _shortfalls(world, caller=world.distributor)
    assert (seen["warehouse"], seen["rule"], seen["grade"]) == ("W2", "promotion_shortfall", "red")
    assert "inputs" not in seen


def test_a_refit_has_the_incremental_pass_grade_its_positions_on_the_new_forecast(selling) -> None:
    world = selling
    call_command("evaluate", tenant=world.tenant.slug, stdout=StringIO())
    (before,) = _get(world, "indicators/", sku="S", warehouse="W")["results"]
    assert before["days_of_cover_source"] == "moving_average"
    call_command("forecast", tenant=world.tenant.slug, stdout=StringIO())
    # The incremental pass evaluates dirty positions only: the refit marked them.
    evaluation_incremental(str(world.tenant.pk))
    (after,) = _get(world, "indicators/", sku="S", warehouse="W")["results"]
    assert after["days_of_cover_source"] == "forecast"
    # A refit that changes no forecast marks nothing: the pass after it finds nothing to run for.
    call_command("forecast", tenant=world.tenant.slug, stdout=StringIO())
    evaluation_incremental(str(world.tenant.pk))
    runs = sorted((run["trigger"], run["positions_total"]) for run in _get(world, "evaluations/")["results"])
    assert runs == [("incremental", 3), ("manual", 3)]  # S at W and W2, and the world's SKU-1
