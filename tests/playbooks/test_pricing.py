"""The markdown and clearance math of ``core/playbooks/pricing.py``, on numbers worked out in the
comments: pure functions, no database."""

from __future__ import annotations

from datetime import date, timedelta

from core.forecasting.elasticity import PriceResponse
from core.playbooks.pricing import clearance_ladder, markdown_figures, markdown_percent

TODAY = date(2026, 3, 2)  # any day: the ladder's dates count from the day it starts


def day(days_from_today: int) -> str:
    return str(TODAY + timedelta(days=days_from_today))


# --- Markdown math --------------------------------------------------------------------------------


def test_markdown_percent_from_a_known_elasticity():
    # ads_28 10 -> 280 units in the 28-day horizon; excess 280 -> uplift (280 + 280) / 280 = 2;
    # d = 1 - 2^(1/-2) = 1 - 0.70711 = 0.29289 -> 29.3 %.
    response = PriceResponse(elasticity=-2.0, history_days=30, price_spread=1.5)
    assert markdown_percent(excess=280, ads_28=10, response=response, default_percent=15) == (29.3, "price_response")
    # e = -1, excess 70: uplift 350 / 280 = 1.25, d = 1 - 1 / 1.25 = 0.2 -> 20 %.
    unit = PriceResponse(elasticity=-1.0, history_days=14, price_spread=2.0)
    assert markdown_percent(excess=70, ads_28=10, response=unit, default_percent=15) == (20.0, "price_response")


def test_markdown_percent_is_bounded_to_5_and_50():
    # e = -6, excess 28 on 280: uplift 1.1, 1.1^(-1/6) = 0.98424 -> 1.6 % -> raised to 5.
    steep = PriceResponse(elasticity=-6.0, history_days=20, price_spread=1.2)
    assert markdown_percent(excess=28, ads_28=10, response=steep, default_percent=15) == (5.0, "price_response")
    # e = -0.5, excess 280 on 280: uplift 2, 2^(-2) = 0.25 -> 75 % -> cut to 50.
    flat = PriceResponse(elasticity=-0.5, history_days=20, price_spread=1.2)
    assert markdown_percent(excess=280, ads_28=10, response=flat, default_percent=15) == (50.0, "price_response")


def test_markdown_percent_takes_the_policy_default_without_a_usable_response_sales_or_excess():
    usable = PriceResponse(elasticity=-2.0, history_days=30, price_spread=1.5)
    none = PriceResponse(elasticity=None, history_days=13, price_spread=1.5)
    assert markdown_percent(excess=280, ads_28=10, response=none, default_percent=15) == (15.0, "policy_default")
    # Nothing sold in 28 days: no base to lift, whatever the response says.
    assert markdown_percent(excess=280, ads_28=0, response=usable, default_percent=22) == (22.0, "policy_default")
    assert markdown_percent(excess=0, ads_28=10, response=usable, default_percent=15) == (15.0, "policy_default")


def test_markdown_figures_with_and_without_a_price_response():
    # e = -1, excess 70 on ads 10: 20 % off (above); list 2.50 -> 2.00; sales 10 x 0.8^-1 = 12.5 a day.
    unit = PriceResponse(elasticity=-1.0, history_days=14, price_spread=2.0)
    assert markdown_figures(excess=70, ads_28=10, list_price=2.5, response=unit, default_percent=15) == {
        "method": "price_response",
        "percent": 20.0,
        "quantity": 70,
        "list_price": 2.5,
        "price_after": 2.0,
        "elasticity": -1.0,
        "history_days": 14,
        "horizon_days": 28,
        "expected_daily_sales": 12.5,
    }
    # No response: the policy's 15 %, 2.50 x 0.85 = 2.125, no elasticity and no projected sales.
    none = PriceResponse(elasticity=None, history_days=0, price_spread=None)
    assert markdown_figures(excess=70, ads_28=10, list_price=2.5, response=none, default_percent=15) == {
        "method": "policy_default",
        "percent": 15.0,
        "quantity": 70,
        "list_price": 2.5,
        "price_after": 2.125,
        "elasticity": None,
        "history_days": 0,
        "horizon_days": 28,
        "expected_daily_sales": None,
    }


def test_markdown_figures_at_elasticity_minus_two_round_the_price_and_the_expected_sales():
    # e = -2, excess 280 on ads 10: 29.3 % off (above); list 2.00 x 0.707 = 1.414; sales
    # 10 x 0.707^-2 = 10 / 0.499849 = 20.006 -> 20.01 a day.
    found = markdown_figures(
        excess=280, ads_28=10, list_price=2.0, response=PriceResponse(-2.0, 30, 1.5), default_percent=15
    )
    assert (found["percent"], found["price_after"], found["expected_daily_sales"]) == (29.3, 1.414, 20.01)
    assert (found["method"], found["elasticity"], found["horizon_days"]) == ("price_response", -2.0, 28)


# --- Clearance ladder math ------------------------------------------------------------------------


def ladder(**overrides) -> dict:
    """100 units selling 3 a day (21 a week at list), from 20 % off in 15-point steps up to 45 %."""
    arguments = {
        "quantity": 100,
        "ads_28": 3,
        "start_percent": 20,
        "step_percent": 15,
        "max_percent": 45,
        "deadline_days": 21,
        "elasticity": -1.0,
        "starts_on": TODAY,
    }
    return clearance_ladder(**{**arguments, **overrides})


def test_clearance_ladder_leaves_what_the_deadline_cannot_sell_for_liquidation():
    # e = -1, weekly 21 / (1 - d): 20 % -> 26.25 -> 26; 35 % -> 32.31 -> 32; 45 % -> 38.18 -> 38.
    # 21 days = 3 weeks: 26 + 32 + 38 = 96 sold, 4 left.
    assert ladder() == {
        "quantity": 100,
        "deadline": day(21),
        "weeks": [
            {"week": 1, "starts_on": day(0), "discount_percent": 20.0, "projected_units": 26, "remaining_after": 74},
            {"week": 2, "starts_on": day(7), "discount_percent": 35.0, "projected_units": 32, "remaining_after": 42},
            {"week": 3, "starts_on": day(14), "discount_percent": 45.0, "projected_units": 38, "remaining_after": 4},
        ],
        "cleared_in_week": None,
        "left_for_liquidation": 4,
        "elasticity": -1.0,
        "elasticity_source": "price_response",
    }


def test_clearance_ladder_stops_at_the_week_that_clears_the_stock_and_holds_the_deepest_discount():
    # 28 days = 4 weeks; the fourth stays at the 45 % ceiling (35 + 15 = 50 > 45) and sells the last 4.
    found = ladder(deadline_days=28)
    assert [(w["week"], w["discount_percent"], w["projected_units"], w["remaining_after"]) for w in found["weeks"]] == [
        (1, 20.0, 26, 74),
        (2, 35.0, 32, 42),
        (3, 45.0, 38, 4),
        (4, 45.0, 4, 0),
    ]
    assert (found["cleared_in_week"], found["left_for_liquidation"], found["deadline"]) == (4, 0, day(28))
    # Ten weeks available, but the stock is gone in the fourth: no more steps.
    assert len(ladder(deadline_days=70)["weeks"]) == 4


def test_clearance_ladder_assumes_minus_two_without_a_price_history():
    # e = -2 assumed, weekly 21 / (1 - d)^2: 20 % -> 21 / 0.64 = 32.8 -> 32; 35 % -> 21 / 0.4225
    # = 49.7 -> 49; 45 % -> 21 / 0.3025 = 69.4 -> 69, of which 100 - 32 - 49 = 19 are left.
    found = ladder(elasticity=None)
    assert [(w["projected_units"], w["remaining_after"]) for w in found["weeks"]] == [(32, 68), (49, 19), (19, 0)]
    assert (found["elasticity"], found["elasticity_source"], found["cleared_in_week"]) == (-2.0, "assumed", 3)


def test_clearance_ladder_weeks_and_start_discount_are_bounded():
    # A deadline under a week still gets one step; a start above the ceiling starts at the ceiling:
    # 21 / (1 - 0.45) = 38.2 -> 38 in the single week, 62 left.
    short = ladder(deadline_days=6, start_percent=80)
    assert short["weeks"] == [
        {"week": 1, "starts_on": day(0), "discount_percent": 45.0, "projected_units": 38, "remaining_after": 62}
    ]
    assert (short["deadline"], short["left_for_liquidation"]) == (day(6), 62)
    # At most 26 weeks, however far the deadline: 1000 units at 21 / 0.55 = 38 a week never clear.
    long = ladder(quantity=1000, deadline_days=400, start_percent=45)
    assert len(long["weeks"]) == 26
    assert long["left_for_liquidation"] == 1000 - 26 * 38
    # Nothing sells without sales: every week projects 0 and all of it goes to the liquidator.
    idle = ladder(ads_28=0)
    assert [w["projected_units"] for w in idle["weeks"]] == [0, 0, 0]
    assert idle["left_for_liquidation"] == 100
