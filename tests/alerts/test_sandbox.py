"""The what-if sandbox (core.alerts.sandbox) on a hand-made position: each scenario's projected stock,
stock-out days and alerts against figures worked out by hand from the numbers pushed, the live tenant
unchanged, and every bad input refused with its message.

The position (tests/support/sandbox_shop.py): HAND at W holds ``available`` units and sells ``ads_28``
a day, no forecast, no supplier (lead time 14 days); HAND at V holds ``spare`` units and sells nothing.
"""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import InternalError

from core.alerts import sandbox
from core.alerts.sandbox import Scenario, sandbox_run
from core.forecasting.elasticity import DEFAULT_ELASTICITY
from core.inventory.models import Position
from tests.support.ingest import TODAY, push_rows, ts
from tests.support.sandbox_shop import DEFAULT_LEAD_TIME, hand_made_position, live_counts
from workers.tasks.evaluation import evaluation_incremental

HORIZON = sandbox.HORIZON_DAYS


def by_hand(held: float, demand: list[float]) -> tuple[list[float], int | None, int]:
    """Stock at the end of each day, the first day at or below zero, and how many such days."""
    stock, left = [], held
    for units in demand:
        left -= units
        stock.append(left)
    out = [day for day, units in enumerate(stock) if units <= 0]
    return stock, (out[0] if out else None), len(out)


def position(result, warehouse: str):
    (found,) = [outcome for outcome in result.positions if outcome.warehouse == warehouse]
    return found


def test_a_demand_shock_moves_the_stock_out_day_opens_a_stock_out_alert_and_changes_nothing(world) -> None:
    hand = hand_made_position(world)
    counts = live_counts(world.tenant)
    k, days, start = 3.0, 10, 0
    result = sandbox_run(
        tenant=world.tenant,
        sku_codes=[hand.sku],
        warehouse_codes=None,
        scenario=Scenario(kind="demand_shock", factor=k, days=days, start_offset=start),
    )
    w = position(result, "W")
    plain, plain_first, plain_days = by_hand(hand.available, [hand.ads_28] * HORIZON)
    shocked = [hand.ads_28 * (k if start <= day < start + days else 1) for day in range(HORIZON)]
    stock, first, out_days = by_hand(hand.available, shocked)
    assert (w.before.stock, w.before.first_stock_out_day, w.before.stock_out_days) == (plain, plain_first, plain_days)
    assert (w.after.stock, w.after.first_stock_out_day, w.after.stock_out_days) == (stock, first, out_days)
    assert first < plain_first
    assert out_days > plain_days
    # Cover: the moving average's available / ads before; after, the day the shocked demand uses the
    # stock up (interpolated within the day), as the engine reads a forecast.
    assert w.before.days_of_cover == hand.available / hand.ads_28
    used, cover = 0.0, None
    for day, units in enumerate(shocked):
        if used + units >= hand.available:
            cover = day + (hand.available - used) / units
            break
        used += units
    assert w.after.days_of_cover == cover
    # Below the 14-day lead time only after: the stock-out alert would open, graded (14 - cover) / 14.
    assert cover < DEFAULT_LEAD_TIME < hand.available / hand.ads_28
    changes = {change.rule: change for change in w.alerts}
    opened = changes["stock_out_risk"]
    assert (opened.active_grade, opened.before_grade, opened.outcome) == (None, None, "opens")
    deviation = (DEFAULT_LEAD_TIME - cover) / DEFAULT_LEAD_TIME
    assert opened.after_grade == ("red" if deviation >= 0.3 else "orange" if deviation >= 0.2 else "yellow")
    # V sells nothing: the shock of nothing is nothing.
    v = position(result, "V")
    assert v.before.stock == v.after.stock == [float(hand.spare)] * HORIZON
    assert v.after.first_stock_out_day is None
    # Rolled up: the sum of the two per day, and the summary counts.
    assert result.stock_after == [a + b for a, b in zip(w.after.stock, v.after.stock, strict=True)]
    summary = result.summary()
    assert summary["after"]["stock_out_days"] == out_days
    assert summary["before"]["stock_out_days"] == plain_days
    assert summary["after"]["first_stock_out_day"] == first
    assert summary["opening"] >= 1
    # Nothing written, and the engine's next pass still sees no stock-out risk.
    assert live_counts(world.tenant) == counts
    evaluation_incremental(str(world.tenant.pk))
    assert live_counts(world.tenant)["alerts"] == counts["alerts"]


def test_a_transfer_takes_stock_from_its_source_and_brings_it_to_its_destination(world) -> None:
    hand = hand_made_position(world)
    counts = live_counts(world.tenant)
    moved = 100
    result = sandbox_run(
        tenant=world.tenant,
        sku_codes=[hand.sku],
        warehouse_codes=["W"],  # the destination joins the run on its own
        scenario=Scenario(kind="transfer", quantity=moved, transfer_sku=hand.sku, from_warehouse="W", to_warehouse="V"),
    )
    w, v = position(result, "W"), position(result, "V")
    stock, first, out_days = by_hand(hand.available - moved, [hand.ads_28] * HORIZON)
    assert (w.after.stock, w.after.first_stock_out_day, w.after.stock_out_days) == (stock, first, out_days)
    assert w.after.days_of_cover == (hand.available - moved) / hand.ads_28
    assert v.after.stock == [float(hand.spare + moved)] * HORIZON
    assert v.after.reading["in_transit"] == moved
    assert {change.rule: change.outcome for change in w.alerts}.get("stock_out_risk") == "opens"
    assert live_counts(world.tenant) == counts


def test_a_supplier_delay_lengthens_the_lead_time_the_rules_compare_cover_with(world) -> None:
    hand = hand_made_position(world)
    delay = 30
    result = sandbox_run(
        tenant=world.tenant,
        sku_codes=[hand.sku],
        warehouse_codes=["W"],
        scenario=Scenario(kind="supplier_delay", delay_days=delay),
    )
    w = position(result, "W")
    assert w.before.reading["lead_time_days"] == DEFAULT_LEAD_TIME
    assert w.after.reading["lead_time_days"] == DEFAULT_LEAD_TIME + delay
    assert w.after.stock == w.before.stock  # stock in transit is held already: a delay moves no demand
    cover = hand.available / hand.ads_28
    lead = DEFAULT_LEAD_TIME + delay
    deviation = (lead - cover) / lead
    expected = "red" if deviation >= 0.3 else "orange" if deviation >= 0.2 else "yellow" if deviation >= 0.1 else None
    assert w.after.trips.get("stock_out_risk") == expected
    assert "stock_out_risk" not in w.before.trips


def test_a_promotion_lifts_demand_on_its_days_and_is_checked_by_the_promotion_rule(world) -> None:
    hand = hand_made_position(world)
    counts = live_counts(world.tenant)
    discount, days, start = 50.0, 5, 2
    result = sandbox_run(
        tenant=world.tenant,
        sku_codes=[hand.sku],
        warehouse_codes=["W"],
        scenario=Scenario(kind="promotion", discount_percent=discount, days=days, start_offset=start),
    )
    w = position(result, "W")
    # No price history: the default elasticity, uplift (1 - d)^e.
    uplift = (1 - discount / 100) ** DEFAULT_ELASTICITY
    demand = [hand.ads_28 * (uplift if start <= day < start + days else 1) for day in range(HORIZON)]
    stock, first, out_days = by_hand(hand.available, demand)
    assert (w.after.stock, w.after.first_stock_out_day, w.after.stock_out_days) == (stock, first, out_days)
    promotion = w.after.reading["details"]["upcoming_promotion"]
    assert (promotion["promotion_id"], promotion["uplift"], promotion["in_forecast"]) == ("what-if", uplift, True)
    assert w.before.reading["details"]["upcoming_promotion"] is None
    # Promoted demand over the promotion and the lead time after it, against what is left at its start.
    promoted = sum(demand[start : start + days + DEFAULT_LEAD_TIME])
    at_start = hand.available - sum(demand[:start])
    shortfall = promoted - at_start
    assert shortfall > 0
    # It starts in 2 days, within the 14-day lead time: the order-by day has passed, so red.
    assert start < DEFAULT_LEAD_TIME
    assert w.after.trips["promotion_shortfall"] == "red"
    assert live_counts(world.tenant) == counts


@pytest.mark.parametrize(
    ("scenario", "field", "message"),
    [
        (Scenario(kind="promotion", discount_percent=100, days=3), "discount_percent", "above 0 and below 100"),
        (Scenario(kind="promotion", discount_percent=0, days=3), "discount_percent", "above 0 and below 100"),
        (Scenario(kind="promotion", discount_percent=20, days=0), "days", "from 1 to 365"),
        (Scenario(kind="demand_shock", factor=2, days=-3), "days", "(got -3)"),
        (Scenario(kind="demand_shock", factor=0, days=3), "factor", "above 0 and at most 20"),
        (Scenario(kind="demand_shock", factor=21, days=3), "factor", "above 0 and at most 20"),
        (Scenario(kind="demand_shock", factor=2, days=3, start_offset=-1), "start_offset", "0 (today)"),
        (Scenario(kind="supplier_delay", delay_days=0), "delay_days", "from 1 to 365"),
        (Scenario(kind="weather"), "kind", "Unknown scenario kind 'weather'"),
        (
            Scenario(kind="transfer", quantity=10**6, transfer_sku="HAND", from_warehouse="W", to_warehouse="V"),
            "quantity",
            "is more than the 160 available of HAND at W",
        ),
        (
            Scenario(kind="transfer", quantity=1, transfer_sku="HAND", from_warehouse="W", to_warehouse="W"),
            "to_warehouse",
            "another warehouse",
        ),
        (
            Scenario(kind="transfer", quantity=1, transfer_sku="HAND", from_warehouse="W", to_warehouse="NOPE"),
            "to_warehouse",
            "Unknown warehouse code: NOPE",
        ),
    ],
)
def test_bad_scenarios_are_refused_with_their_message(world, scenario, field, message) -> None:
    hand_made_position(world)
    counts = live_counts(world.tenant)
    with pytest.raises(ValidationError) as refused:
        sandbox_run(tenant=world.tenant, sku_codes=["HAND"], warehouse_codes=None, scenario=scenario)
    assert message in " ".join(refused.value.message_dict[field])
    assert live_counts(world.tenant) == counts


def test_unknown_codes_another_tenants_included_and_too_many_positions_are_refused(
    world, other_world, monkeypatch
) -> None:
    hand_made_position(world)
    hand_made_position(other_world)
    shock = Scenario(kind="demand_shock", factor=2, days=3)
    # GLOBEX-ONLY exists in the other tenant only.
    pushed = push_rows(
        other_world.admin,
        other_world.tenant.slug,
        "skus",
        [{"code": "GLOBEX-ONLY", "name": "G", "category": "C", "unit_cost": "1", "list_price": "2"}],
    )
    assert pushed.status_code == 201, pushed.content
    with pytest.raises(ValidationError) as refused:
        sandbox_run(tenant=world.tenant, sku_codes=["HAND", "GLOBEX-ONLY"], warehouse_codes=None, scenario=shock)
    assert refused.value.message_dict["skus"] == ["Unknown SKU code: GLOBEX-ONLY."]
    with pytest.raises(ValidationError) as refused:
        sandbox_run(tenant=world.tenant, sku_codes=["HAND"], warehouse_codes=["W", "X1", "X2"], scenario=shock)
    assert refused.value.message_dict["warehouses"] == ["Unknown warehouse codes: X1, X2."]
    with pytest.raises(ValidationError) as refused:
        sandbox_run(tenant=world.tenant, sku_codes=[], warehouse_codes=None, scenario=shock)
    assert "at least one SKU" in refused.value.message_dict["skus"][0]
    monkeypatch.setattr(sandbox, "MAX_POSITIONS", 1)
    with pytest.raises(ValidationError) as refused:
        sandbox_run(tenant=world.tenant, sku_codes=["HAND"], warehouse_codes=None, scenario=shock)
    assert "More than 1 positions" in refused.value.message_dict["skus"][0]


def test_the_run_is_read_only_even_inside_a_callers_transaction(world) -> None:
    """The savepoint's read-only setting is lifted at its end: the caller's transaction writes on."""
    hand = hand_made_position(world)
    sandbox_run(
        tenant=world.tenant,
        sku_codes=[hand.sku],
        warehouse_codes=None,
        scenario=Scenario(kind="demand_shock", factor=2, days=3),
    )
    evaluation_incremental(str(world.tenant.pk))  # writes in the test's transaction: not refused


def test_a_write_slipped_into_the_run_is_refused_by_postgresql(world, monkeypatch) -> None:
    """The guarantee does not rest on the engine's code staying read-only: a write inside is refused."""
    hand = hand_made_position(world)
    counts = live_counts(world.tenant)

    def writing(**kwargs: object) -> None:
        Position.objects.filter(tenant=world.tenant).update(on_hand=0)

    monkeypatch.setattr(sandbox, "readings_assess", writing)
    with pytest.raises(InternalError, match="read-only transaction"):
        sandbox_run(
            tenant=world.tenant,
            sku_codes=[hand.sku],
            warehouse_codes=None,
            scenario=Scenario(kind="demand_shock", factor=2, days=3),
        )
    assert live_counts(world.tenant) == counts


# A weekly pattern (quiet weekdays, a busy weekend) over 120 days, refit by the forecast command: the
# shock then scales the stored forecast's own daily mean, not an average.
WEEK = [2, 2, 3, 2, 3, 9, 7]
HISTORY = (WEEK * 18)[:120]
LEFT = 90


def test_a_demand_shock_scales_a_fresh_forecast_on_its_days(shop) -> None:
    response = push_rows(
        shop.admin,
        shop.tenant.slug,
        "movements",
        [
            {
                "kind": "receipt",
                "sku": "S",
                "warehouse": "W",
                "quantity": sum(HISTORY) + LEFT,
                "occurred_at": ts(len(HISTORY) + 1),
                "external_ref": "F-in",
            }
        ]
        + [
            {
                "kind": "sale",
                "sku": "S",
                "warehouse": "W",
                "quantity": units,
                "occurred_at": ts(len(HISTORY) - k),
                "external_ref": f"F-sale-{k}",
            }
            for k, units in enumerate(HISTORY)
        ],
    )
    assert response.status_code == 201, response.content
    call_command("forecast", tenant=shop.tenant.slug, stdout=StringIO())
    call_command("evaluate", tenant=shop.tenant.slug, stdout=StringIO())
    base = f"/api/v1/tenants/{shop.tenant.slug}"
    (row,) = shop.admin.client.get(f"{base}/forecasts/", {"sku": "S"}).json()["results"]
    forecast = shop.admin.client.get(f"{base}/forecasts/{row['position_id']}/").json()
    series = [day["mean"] for day in forecast["days"]]
    shift = (TODAY - date.fromisoformat(forecast["origin"])).days
    tail = sum(series[-7:]) / 7  # past its horizon the forecast goes on at its last week's mean
    daily = [series[shift + d] if shift + d < len(series) else tail for d in range(HORIZON)]
    k, days, start = 2.0, 5, 3
    counts = live_counts(shop.tenant)

    result = sandbox_run(
        tenant=shop.tenant,
        sku_codes=["S"],
        warehouse_codes=["W"],
        scenario=Scenario(kind="demand_shock", factor=k, days=days, start_offset=start),
    )

    (w,) = result.positions
    assert w.before.days_of_cover_source == w.after.days_of_cover_source == "forecast"
    shocked = [units * (k if start <= d < start + days else 1) for d, units in enumerate(daily)]
    plain, plain_first, plain_days = by_hand(LEFT, daily)
    stock, first, out_days = by_hand(LEFT, shocked)
    assert w.before.stock == pytest.approx(plain, abs=0.01)
    assert w.after.stock == pytest.approx(stock, abs=0.01)
    assert (w.before.first_stock_out_day, w.before.stock_out_days) == (plain_first, plain_days)
    assert (w.after.first_stock_out_day, w.after.stock_out_days) == (first, out_days)
    assert w.after.stock_out_days > w.before.stock_out_days
    used, cover = 0.0, None
    for day, units in enumerate(shocked):
        if used + units >= LEFT:
            cover = day + (LEFT - used) / units
            break
        used += units
    assert w.after.days_of_cover == pytest.approx(cover, abs=0.011)
    assert live_counts(shop.tenant) == counts
