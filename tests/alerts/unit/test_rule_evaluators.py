"""Each rule's evaluator on hand-made readings, at and around its thresholds and band edges.

Pure functions: no database. Under the default bands a deviation of 10 % is yellow, 20 % orange
and 30 % red, and reaching an edge counts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from core.alerts.catalog import DEFAULT_BANDS, Effective
from core.alerts.rules import RULES, grade_of


def policy(rule: str, standard: float | None = None, **thresholds: float) -> Effective:
    """The rule's built-in defaults, with some thresholds set."""
    spec = RULES[rule]
    values = {**spec.threshold_defaults, **thresholds}
    parameters = {name: parameter.default for name, parameter in spec.parameters.items()}
    sources = {"standard": "velocity class cash_cow standard"} if standard is not None else {}
    return Effective(rule, True, standard, DEFAULT_BANDS, values, parameters, sources)


def evaluate(rule: str, reading: dict, effective: Effective | None = None) -> tuple[str | None, float | None]:
    trip = RULES[rule].evaluator(reading, effective or policy(rule))
    return (None, None) if trip is None else (trip.grade, trip.deviation)


@pytest.mark.parametrize(
    ("deviation", "grade"),
    [(0.0999, None), (0.1, "yellow"), (0.30000000000000004 / 3, "yellow"), (0.2, "orange"), (0.3, "red"), (2, "red")],
)
def test_grade_of_counts_a_band_edge_as_reached(deviation: float, grade: str | None) -> None:
    assert grade_of(deviation, DEFAULT_BANDS) == grade


def slow(wow: float | None, age: float | None) -> dict:
    return {"wow_change": wow, "weighted_age_days": age, "details": {"weekly_sales": [60, 100, 90]}}


@pytest.mark.parametrize(
    ("wow", "age", "expected"),
    [
        (-0.40, 90.0, (None, None)),  # age must be above 90, not at it
        (-0.39, 150.0, (None, None)),  # sales fell less than 40 %
        (None, 150.0, (None, None)),  # no week to compare with
        (-0.40, 91.8, ("yellow", 0.02)),  # tripped: at least yellow below the first band
        (-0.4000001, 99.0, ("yellow", 0.1)),  # compared after rounding: this is the threshold
        (-0.50, 108.0, ("orange", 0.2)),
        (-0.90, 117.0, ("red", 0.3)),
    ],
)
def test_slow_moving(wow: float | None, age: float | None, expected: tuple) -> None:
    assert evaluate("slow_moving", slow(wow, age)) == expected


def test_slow_moving_explains_with_the_weekly_sales_and_the_policy() -> None:
    trip = RULES["slow_moving"].evaluator(slow(-0.40, 99.0), policy("slow_moving"))
    assert trip.inputs == {"wow_change": -0.40, "weighted_age_days": 99.0, "weekly_sales": [60, 100]}
    assert "Sales fell from 100 to 60 units week over week (-40.0 %, threshold -40.0 %)" in trip.explanation
    assert trip.thresholds["thresholds"] == {"wow_change": -0.40, "weighted_age_days": 90.0}
    assert trip.direction == "overstock"


def stock(on_hand: int, days: float | None, age: float | None = 10.0) -> dict:
    return {"on_hand": on_hand, "turnover_days": days, "ads_90": 1.0, "weighted_age_days": age}


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (stock(0, 200.0), (None, None)),  # nothing on hand
        (stock(100, 49.4), (None, None)),  # 9.8 % beyond the standard of 45
        (stock(100, 49.5), ("yellow", 0.1)),
        (stock(100, 54.0), ("orange", 0.2)),
        (stock(100, 58.5), ("red", 0.3)),
        (stock(100, None, 44.9), (None, None)),  # unsold, but younger than the standard
        (stock(100, None, 45.0), ("red", None)),  # unsold and as old as the standard
        (stock(100, None, None), (None, None)),
    ],
)
def test_overstock_against_a_standard_of_45_days(reading: dict, expected: tuple) -> None:
    assert evaluate("overstock", reading, policy("overstock", standard=45.0)) == expected


def short(ads: float, available: int, safety: float, lead: int, cover: float | None, method: str = "cover") -> dict:
    return {
        "ads_28": ads,
        "available": available,
        "days_of_cover": cover,
        "lead_time_days": lead,
        "in_transit": 0,
        "reorder_point_cover": 11.0,
        "reorder_point_service": 22.0,
        "details": {"safety_stock": safety, "safety_stock_method": method, "lead_time_source": "primary supplier"},
    }


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (short(0.0, 0, 100.0, 14, None), (None, None)),  # nothing sells: no stock-out to fear
        (short(1.0, 91, 100.0, 0, 91.0), (None, None)),  # 9 % short of safety stock
        (short(1.0, 90, 100.0, 0, 90.0), ("yellow", 0.1)),
        (short(1.0, 70, 100.0, 0, 70.0), ("red", 0.3)),
        (short(1.0, 8, 0.0, 10, 8.0), ("orange", 0.2)),  # cover 8 days against a lead time of 10
        (short(1.0, 10, 0.0, 10, 10.0), (None, None)),  # cover equal to the lead time
        (short(1.0, 90, 100.0, 10, 7.0), ("red", 0.3)),  # the worse of 10 % and 30 %
    ],
)
def test_stock_out_risk(reading: dict, expected: tuple) -> None:
    assert evaluate("stock_out_risk", reading) == expected


@pytest.mark.parametrize(("method", "reorder_point"), [("cover", 11.0), ("service_level", 22.0)])
def test_stock_out_risk_reports_the_reorder_point_of_its_method(method: str, reorder_point: float) -> None:
    trip = RULES["stock_out_risk"].evaluator(short(1.0, 90, 100.0, 0, 90.0, method), policy("stock_out_risk"))
    assert trip.inputs["reorder_point"] == reorder_point
    assert trip.inputs["safety_stock_method"] == method


def launch(days: int | None, sell_through: float | None) -> dict:
    details = {"days_since_launch": days, "launch_sell_through": sell_through, "units_sold_since_launch": 27}
    return {"on_hand": 63, "details": details}


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (launch(14, 0.0), (None, None)),  # before day 15
        (launch(60, 0.0), (None, None)),  # the window has closed
        (launch(None, None), (None, None)),  # never launched
        (launch(15, 0.30), (None, None)),  # at the threshold: not below it
        (launch(15, 0.29), ("yellow", 0.033333)),  # tripped: at least yellow
        (launch(30, 0.27), ("yellow", 0.1)),
        (launch(45, 0.24), ("orange", 0.2)),
        (launch(59, 0.21), ("red", 0.3)),
    ],
)
def test_launch_check(reading: dict, expected: tuple) -> None:
    assert evaluate("launch_check", reading) == expected


def declining(*changes: float | None) -> dict:
    return {"details": {"sell_through_weekly_changes": list(changes), "weekly_sell_through": [0.1, 0.2, 0.3, 0.4]}}


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (declining(-0.2, -0.2), (None, None)),  # two weeks only
        (declining(-0.15, -0.2, -0.2), (None, None)),  # this week exactly at the threshold, not beyond
        (declining(-0.2, None, -0.2), (None, None)),
        (declining(-0.16, -0.16, -0.16, 0.5), ("yellow", 0.066667)),  # only the last 3 weeks count
        (declining(-0.165, -0.165, -0.165), ("yellow", 0.1)),
        (declining(-0.18, -0.18, -0.18), ("orange", 0.2)),
        (declining(-0.15001, -0.25, -0.235), ("red", 0.411133)),  # mean decline 0.21167
    ],
)
def test_declining_product(reading: dict, expected: tuple) -> None:
    assert evaluate("declining_product", reading) == expected


def expiring(at_risk: int, on_hand: int) -> dict:
    return {"expiry_at_risk": at_risk, "on_hand": on_hand, "ads_28": 2.0, "days_to_expiry": 12}


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (expiring(0, 100), (None, None)),
        (expiring(5, 0), (None, None)),
        (expiring(9, 100), (None, None)),
        (expiring(10, 100), ("yellow", 0.1)),
        (expiring(20, 100), ("orange", 0.2)),
        (expiring(30, 100), ("red", 0.3)),
    ],
)
def test_expiry_risk(reading: dict, expected: tuple) -> None:
    assert evaluate("expiry_risk", reading) == expected


def three(social: float | None, index: float | None, gap: float | None) -> dict:
    return {"details": {"social_volume_change": social, "supplier_lead_time_index": index, "competitor_price_gap": gap}}


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (three(-0.30, 1.20, -0.10), ("red", None)),  # each exactly at its threshold
        (three(-0.29, 1.20, -0.10), (None, None)),
        (three(-0.30, 1.19, -0.10), (None, None)),
        (three(-0.30, 1.20, -0.09), (None, None)),
        (three(None, 1.50, -0.50), (None, None)),
        (three(-0.80, 2.00, -0.50), ("red", None)),
    ],
)
def test_three_dimension_risk(reading: dict, expected: tuple) -> None:
    assert evaluate("three_dimension_risk", reading) == expected


def test_a_policy_threshold_moves_the_edge() -> None:
    assert evaluate("expiry_risk", expiring(10, 100)) == ("yellow", 0.1)
    stricter = policy("launch_check", launch_sell_through=0.5)
    assert evaluate("launch_check", launch(30, 0.45), stricter) == ("yellow", 0.1)
    assert evaluate("launch_check", launch(30, 0.45)) == (None, None)


# --- promotion_shortfall ---------------------------------------------------------------------------
# At 10 a day (the 28-day average, no forecast) and a 10-day lead time, a 7-day promotion starting in
# 20 days with an uplift of 2: promoted demand over days 20..36 is 17 x 10 + 7 x 10 x (2 - 1) = 240;
# what it holds at the start is held - 20 x 10 = held - 200, so the shortfall is 440 - held.


def promoted(held: int, starts_in: int = 20, days: int = 7, uplift: float = 2.0, forecast: dict | None = None) -> dict:
    today = date(2026, 3, 1)
    return {
        "as_of": today,
        "available": held,
        "in_transit": 0,
        "inbound_approved": 0,
        "ads_28": 10.0,
        "lead_time_days": 10,
        "details": {
            "forecast": forecast,
            "upcoming_promotion": {
                "promotion_id": "p-1",
                "starts_on": (today + timedelta(days=starts_in)).isoformat(),
                "ends_on": (today + timedelta(days=starts_in + days - 1)).isoformat(),
                "discount_percent": 25.0,
                "uplift": uplift,
                "uplift_source": "stated",
                "in_forecast": forecast is not None,
            },
        },
    }


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (440, (None, None)),  # exactly covered
        (439, ("yellow", round(1 / 240, 6))),  # short at all: at least yellow
        (416, ("yellow", 0.1)),  # 24 / 240
        (393, ("yellow", round(47 / 240, 6))),
        (392, ("orange", 0.2)),  # 48 / 240
        (368, ("red", 0.3)),  # 72 / 240
        (100, ("red", 1.0)),  # runs out before the start (the stock-out rule's warning): all 240 short
    ],
)
def test_promotion_shortfall_grades_by_shortfall_over_promoted_demand(held: int, expected: tuple) -> None:
    assert evaluate("promotion_shortfall", promoted(held)) == expected


def test_promotion_shortfall_starts_lead_days_before_the_promotion() -> None:
    # Nothing held: short by all of it (red), from day 30 before the start and not before.
    assert evaluate("promotion_shortfall", promoted(0, starts_in=31)) == (None, None)
    assert evaluate("promotion_shortfall", promoted(0, starts_in=30)) == ("red", 1.0)
    wider = replace(policy("promotion_shortfall"), parameters={"lead_days": 45.0})
    assert evaluate("promotion_shortfall", promoted(0, starts_in=40), wider) == ("red", 1.0)
    assert evaluate("promotion_shortfall", promoted(0, starts_in=46), wider) == (None, None)


def test_promotion_shortfall_names_the_promotion_and_the_order_by_day() -> None:
    trip = RULES["promotion_shortfall"].evaluator(promoted(400), policy("promotion_shortfall"))
    assert trip.direction == "stock_out"
    assert (trip.grade, trip.inputs["shortfall"], trip.inputs["promoted_demand"]) == ("yellow", 40.0, 240.0)
    assert (trip.inputs["stock_at_start"], trip.inputs["order_by"], trip.inputs["order_by_passed"]) == (
        200.0,
        "2026-03-11",
        False,
    )
    assert "Promotion p-1 runs 21 March to 27 March at 25 % off, uplift x2 (stated)" in trip.explanation
    assert "is 240 units by the 28-day average (10 a day)" in trip.explanation
    assert "will hold 200 when it starts (400 available, in transit and approved inbound, less 200" in trip.explanation
    assert "40 units short. Order by 11 March (the start less the 10-day lead time)." in trip.explanation


def test_promotion_shortfall_past_its_order_by_day_is_red_and_says_so() -> None:
    # Starting in 5 days with a 10-day lead time, uplift 3: days 5..21, 17 x 10 + 7 x 10 x 2 = 310;
    # 400 held is 350 at the start, enough; 300 held is 250, 60 short (19 %, yellow by the bands).
    trip = RULES["promotion_shortfall"].evaluator(promoted(400, starts_in=5, uplift=3.0), policy("promotion_shortfall"))
    assert trip is None
    trip = RULES["promotion_shortfall"].evaluator(promoted(300, starts_in=5, uplift=3.0), policy("promotion_shortfall"))
    assert (trip.grade, trip.inputs["shortfall"], trip.inputs["order_by_passed"]) == ("red", 60.0, True)
    assert "has passed: only the emergency path" in trip.explanation


def test_a_running_promotion_is_checked_from_today() -> None:
    # Started 2 days ago, ends in 4: days 0..14, 15 x 10 + 5 x 10 x (2 - 1) = 200 against 150 held now.
    trip = RULES["promotion_shortfall"].evaluator(promoted(150, starts_in=-2), policy("promotion_shortfall"))
    assert (trip.grade, trip.inputs["promoted_demand"], trip.inputs["shortfall"]) == ("red", 200.0, 50.0)
    assert "the position holds 150 now" in trip.explanation
    assert evaluate("promotion_shortfall", promoted(150, starts_in=-7)) == (None, None)  # over yesterday


@pytest.mark.parametrize("horizon", [30, 23, 20])
def test_the_forecast_carries_the_uplift_within_its_horizon_and_the_rule_adds_it_beyond(horizon: int) -> None:
    # The forecast scaled its promotion days (20..26) within its horizon; past it, the tail (10 a day)
    # is scaled by the rule. Every horizon gives the same 240.
    daily = [20.0 if 20 <= day <= 26 else 10.0 for day in range(horizon)]
    forecast = {"model": "theta_weekly", "daily_mean": daily, "tail_daily_mean": 10.0}
    trip = RULES["promotion_shortfall"].evaluator(promoted(400, forecast=forecast), policy("promotion_shortfall"))
    assert (trip.inputs["promoted_demand"], trip.inputs["demand_source"]) == (240.0, "forecast")
    unseen = promoted(400, forecast={**forecast, "daily_mean": [10.0] * horizon})
    unseen["details"]["upcoming_promotion"]["in_forecast"] = False  # fitted before the promotion was made
    assert (
        RULES["promotion_shortfall"].evaluator(unseen, policy("promotion_shortfall")).inputs["promoted_demand"] == 240
    )


def last_day(rule: str, days: int | None, unsold: float | None, held: int = 100, successor: str | None = None) -> dict:
    """A reading ``days`` before its last selling day with ``unsold`` units projected left then."""
    day = None if days is None else f"2027-01-{1 + days:02d}" if days < 31 else "2027-03-31"
    keys = (
        ("end_of_life_on", "days_to_end_of_life", "unsold_at_end_of_life")
        if rule == "obsolescence_risk"
        else ("season_ends_on", "days_to_season_end", "unsold_at_season_end")
    )
    details = dict(zip(keys, (day, days, unsold), strict=True))
    details["successor"] = successor
    return {
        "available": held - 20,
        "in_transit": 15,
        "inbound_approved": 5,
        "days_of_cover_source": "forecast",
        "details": details,
    }


@pytest.mark.parametrize(
    ("days", "unsold", "expected"),
    [
        (30, 9.99, (None, None)),  # below the 0.10 share
        (30, 10.0, ("yellow", 0.1)),  # at it: tripped, and yellow
        (30, 19.99, ("yellow", 0.1999)),
        (30, 20.0, ("orange", 0.2)),
        (30, 30.0, ("red", 0.3)),
        (90, 50.0, ("red", 0.5)),  # the look-ahead's first day
        (91, 50.0, (None, None)),  # beyond it
        (0, 50.0, ("red", 0.5)),  # the end of life itself
        (-1, 50.0, (None, None)),  # past: other rules see what is left
        (None, None, (None, None)),  # no end of life
        (30, 0.0, (None, None)),
    ],
)
def test_obsolescence_risk(days: int | None, unsold: float | None, expected: tuple) -> None:
    assert evaluate("obsolescence_risk", last_day("obsolescence_risk", days, unsold)) == expected


def test_less_than_one_unit_projected_unsold_is_no_risk_whatever_its_share() -> None:
    assert evaluate("obsolescence_risk", last_day("obsolescence_risk", 10, 0.99, held=2)) == (None, None)
    assert evaluate("obsolescence_risk", last_day("obsolescence_risk", 10, 1.0, held=2)) == ("red", 0.5)


@pytest.mark.parametrize(
    ("days", "unsold", "expected"),
    [
        (30, 14.99, (None, None)),  # below the 0.15 share
        (30, 15.0, ("yellow", 0.15)),  # at it: yellow (bands 0.10 / 0.20 / 0.30)
        (30, 20.0, ("orange", 0.2)),
        (60, 30.0, ("red", 0.3)),  # the look-ahead's first day
        (61, 30.0, (None, None)),
    ],
)
def test_season_end_overstock(days: int, unsold: float, expected: tuple) -> None:
    assert evaluate("season_end_overstock", last_day("season_end_overstock", days, unsold)) == expected


def test_obsolescence_risk_names_the_day_the_figures_and_the_successor() -> None:
    trip = RULES["obsolescence_risk"].evaluator(
        last_day("obsolescence_risk", 20, 42.5, successor="SUCC-1"), policy("obsolescence_risk")
    )
    assert trip.inputs["unsold_at_end_of_life"] == 42.5
    assert trip.inputs["stock_held"] == 100
    assert trip.inputs["successor"] == "SUCC-1"
    assert "42.5 of 100 units held are projected unsold" in trip.explanation
    assert "on 21 January (20 days away)" in trip.explanation
    assert "Its successor is SUCC-1." in trip.explanation


def test_the_profile_rules_apply_only_to_their_profiles_the_others_to_every_profile() -> None:
    assert RULES["obsolescence_risk"].applies_to("electronics")
    assert not RULES["obsolescence_risk"].applies_to("general")
    assert RULES["season_end_overstock"].applies_to("apparel")
    assert not RULES["season_end_overstock"].applies_to("electronics")
    assert all(RULES[code].applies_to("general") for code in ("expiry_risk", "overstock", "stock_out_risk"))
