"""Industry profiles on hand-made series: monthly coefficients in and out of the fit, the last selling
day, and the stock projections the profile rules read (figures worked out by hand in the comments)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from core.forecasting.demand_class import Classification, DemandClass
from core.forecasting.fitting import Forecast, forecast_history
from core.forecasting.history import DailyHistory
from core.forecasting.profiles import (
    ProfileTerms,
    daily_coefficients,
    demand_through,
    forecast_profiled,
    history_deseasonalised,
    projected_stock,
    projected_unsold,
    projected_unsold_many,
    promotions_restated,
    run_down_per_day,
    stockout_on,
)

# January 2, February 0.5, the rest 1 (mean 1 within 0.01: 12.5 / 12 would not be, but shape is
# what counts here; the API checks the mean).
COEFFICIENTS = (2.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
ORIGIN = date(2027, 1, 25)


def flat_forecast(level: float, horizon: int, *, reason: str = "") -> Forecast:
    mean = np.full(horizon, level)
    return Forecast(
        model="theta_weekly",
        classification=Classification(DemandClass.SMOOTH, adi=1.0, cv2=0.0, observed_days=120, demand_days=120),
        service_level=0.95,
        mean=mean,
        p50=mean.copy(),
        quantile=mean + 2,
        cumulative_quantile=np.cumsum(mean) + 2 * np.sqrt(np.arange(1, horizon + 1)),
        reason=reason,
    )


def test_each_day_takes_its_calendar_months_coefficient() -> None:
    factors = daily_coefficients(date(2027, 1, 30), 4, COEFFICIENTS)
    assert factors.tolist() == [2.0, 2.0, 0.5, 0.5]  # 30, 31 January, 1, 2 February


def test_the_history_is_divided_by_its_days_coefficients_for_apparel_only() -> None:
    history = DailyHistory(start=date(2027, 1, 30), units=np.array([20.0, 20, 5, 5]), censored=np.zeros(4, bool))
    apparel = ProfileTerms(profile="apparel", coefficients=COEFFICIENTS)
    assert history_deseasonalised(history, apparel).units.tolist() == [10.0, 10, 10, 10]
    electronics = ProfileTerms(profile="electronics", end_of_life_on=date(2027, 3, 1))
    assert history_deseasonalised(history, electronics) is history
    assert history_deseasonalised(history, None) is history


def test_an_apparel_forecast_follows_the_coefficients_and_stops_after_the_season_end() -> None:
    # 10 a day de-seasonalised; from 25 January: 7 January days (x2), 28 February days (x0.5), then
    # March (x1). The season ends 10 March: day 45 is its last, nothing after.
    terms = ProfileTerms(profile="apparel", coefficients=COEFFICIENTS, season_ends_on=date(2027, 3, 10))
    forecast = forecast_profiled(flat_forecast(10, 60), terms, origin=ORIGIN)
    assert forecast.mean.tolist() == [20.0] * 7 + [5.0] * 28 + [10.0] * 10 + [0.0] * 15
    assert forecast.quantile[:8].tolist() == [24.0] * 7 + [6.0]  # (10 + 2) x the coefficient
    # The cumulative quantile keeps its proportion to the cumulative mean, then stays flat
    before = flat_forecast(10, 60).cumulative_quantile
    assert forecast.cumulative_quantile[6] == pytest.approx(before[6] * 2)  # 140 / 70
    assert forecast.cumulative_quantile[44] == pytest.approx(before[44] * (140 + 140 + 100) / 450)
    assert (forecast.cumulative_quantile[45:] == forecast.cumulative_quantile[44]).all()
    assert forecast.reason == (
        "apparel: history divided by its days' monthly coefficients, each forecast day multiplied by its "
        "month's (Jan, Feb, Mar); apparel: season ends 2027-03-10, no demand forecast after it"
    )


def test_an_electronics_forecast_stops_after_its_end_of_life_and_keeps_the_fallbacks_reason() -> None:
    terms = ProfileTerms(profile="electronics", coefficients=None, end_of_life_on=ORIGIN + timedelta(days=2))
    forecast = forecast_profiled(flat_forecast(4, 6, reason="21 observed days"), terms, origin=ORIGIN)
    assert forecast.mean.tolist() == [4, 4, 4, 0, 0, 0]
    assert forecast.cumulative_quantile[3:].tolist() == [forecast.cumulative_quantile[2]] * 3
    assert forecast.reason == "21 observed days; electronics: end of life 2027-01-27, no demand forecast after it"
    # An end of life already passed: nothing at all
    passed = ProfileTerms(profile="electronics", end_of_life_on=ORIGIN - timedelta(days=1))
    assert not forecast_profiled(flat_forecast(4, 6), passed, origin=ORIGIN).cumulative_quantile.any()


def test_a_profile_acts_only_on_what_it_reads() -> None:
    plain = flat_forecast(3, 10)
    # A season end on an electronics SKU, an end of life on apparel: neither reads the other's day
    assert forecast_profiled(plain, ProfileTerms("electronics", season_ends_on=ORIGIN), origin=ORIGIN) is plain
    assert forecast_profiled(plain, ProfileTerms("apparel", end_of_life_on=ORIGIN), origin=ORIGIN) is plain
    assert forecast_profiled(plain, None, origin=ORIGIN) is plain
    # The terms' fingerprint changes with any term read
    a = ProfileTerms("apparel", coefficients=COEFFICIENTS, season_ends_on=ORIGIN)
    assert len({a.fingerprint(), ProfileTerms("apparel", coefficients=COEFFICIENTS).fingerprint()}) == 2


def test_a_seasonal_history_fitted_de_seasonalised_forecasts_the_next_months_level() -> None:
    # 120 days to 24 January 2027 at 10 a day times the month's coefficient (October to January:
    # 0.8, 1.2, 1.6, 2.0 here), plus a weekday ripple. Read raw, the last weeks' 20 a day would
    # be carried into a February whose coefficient is 0.8: 8 a day.
    coefficients = (2.0, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 1.2, 1.6)
    start = ORIGIN - timedelta(days=120)
    factors = daily_coefficients(start, 120, coefficients)
    ripple = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0])
    units = np.round(10 * factors * np.resize(ripple, 120))
    history = DailyHistory(start=start, units=units, censored=np.zeros(120, bool))
    terms = ProfileTerms("apparel", coefficients=coefficients)
    forecast = forecast_profiled(
        forecast_history(history_deseasonalised(history, terms), horizon=14), terms, origin=ORIGIN
    )
    assert forecast.mean[:7].mean() == pytest.approx(20, rel=0.1)  # 25 to 31 January
    assert forecast.mean[7:14].mean() == pytest.approx(8, rel=0.1)  # 1 to 7 February
    raw = forecast_history(history, horizon=14)
    assert raw.mean[7:14].mean() > 15  # what the coefficients spare February


# --- Projections -----------------------------------------------------------------------------


def test_stock_left_unsold_on_a_day() -> None:
    demand = np.array([3.0, 3, 3, 3, 3])
    # 10 in stock, 3 a day: 7, 4, 1, 0, 0 at the end of each day
    closing = projected_stock(stock=10, demand=demand, origin=ORIGIN, through=ORIGIN + timedelta(days=4))
    assert closing.tolist() == [7, 4, 1, 0, 0]
    assert projected_unsold(stock=10, demand=demand, origin=ORIGIN, on=ORIGIN + timedelta(days=1)) == 4
    # With 20 arriving on day 3: 7, 4, 21, 18, 15, the same as stock + inbound - cumulative demand
    inbound = {ORIGIN + timedelta(days=2): 20}
    assert projected_unsold(stock=10, demand=demand, origin=ORIGIN, on=ORIGIN + timedelta(days=4), inbound=inbound) == (
        10 + 20 - 15
    )
    # An overdue arrival counts on day 1, one after the day not at all
    overdue = {ORIGIN - timedelta(days=3): 5, ORIGIN + timedelta(days=9): 100}
    assert projected_unsold(stock=10, demand=demand, origin=ORIGIN, on=ORIGIN, inbound=overdue) == 12
    # A day already past: the stock as it is
    assert projected_unsold(stock=10, demand=demand, origin=ORIGIN, on=ORIGIN - timedelta(days=1)) == 10


def test_demand_lost_to_a_stock_out_does_not_eat_a_later_arrival() -> None:
    # 2 in stock, 3 a day, 10 arriving on day 4: 0, 0, 0, then 10 - 3 = 7, 4. The plain formula
    # (2 + 10 - 15 = -3, floored to 0) would say nothing is left.
    demand = np.full(5, 3.0)
    inbound = {ORIGIN + timedelta(days=3): 10}
    on = ORIGIN + timedelta(days=4)
    assert projected_stock(stock=2, demand=demand, origin=ORIGIN, through=on, inbound=inbound).tolist() == [
        0,
        0,
        0,
        7,
        4,
    ]
    assert stockout_on(stock=2, demand=demand, origin=ORIGIN, through=on, inbound=inbound) == ORIGIN


def test_the_day_stock_runs_out() -> None:
    demand = np.array([2.0, 2, 2, 2, 0, 0])
    through = ORIGIN + timedelta(days=5)
    assert stockout_on(stock=5, demand=demand, origin=ORIGIN, through=through) == ORIGIN + timedelta(days=2)
    assert stockout_on(stock=8, demand=demand, origin=ORIGIN, through=through) == ORIGIN + timedelta(days=3)
    # Stock that outlasts the demand (nothing more to sell once it stops) never runs out
    assert stockout_on(stock=9, demand=demand, origin=ORIGIN, through=through) is None
    assert stockout_on(stock=0, demand=demand, origin=ORIGIN, through=through) == ORIGIN


def test_past_the_horizon_the_last_week_repeats() -> None:
    demand = np.array([1.0, 1, 1, 1, 1, 1, 1, 5, 6])  # the last week: 1, 1, 1, 1, 1, 5, 6
    assert demand_through(demand, 12).tolist() == [1, 1, 1, 1, 1, 1, 1, 5, 6, 1, 1, 1]
    assert demand_through(np.zeros(0), 3).tolist() == [0, 0, 0]
    assert projected_unsold(stock=50, demand=demand, origin=ORIGIN, on=ORIGIN + timedelta(days=11)) == 50 - 21


def test_the_run_down_rate_clears_the_stock_by_the_day() -> None:
    # 40 in stock, 2 a day for 10 days leaves 20: 2 more a day would clear it
    demand = np.full(10, 2.0)
    on = ORIGIN + timedelta(days=9)
    assert run_down_per_day(stock=40, demand=demand, origin=ORIGIN, on=on) == 2.0
    assert run_down_per_day(stock=10, demand=demand, origin=ORIGIN, on=on) == 0.0
    assert run_down_per_day(stock=10, demand=demand, origin=ORIGIN, on=ORIGIN - timedelta(days=1)) == 10


def test_many_positions_at_once_agree_with_one_at_a_time() -> None:
    # Three positions: 10 days of 3, 6 of 2 then 4 zeros, 10 of 1; selling 4, 10 and 12 days
    # (the last past the row: its last week of 1 repeats), and one whose day has passed.
    demand = np.array([[3.0] * 10, [2.0] * 6 + [0.0] * 4, [1.0] * 10, [5.0] * 10])
    stock, days = np.array([20.0, 5, 30, 7]), np.array([4, 10, 12, 0])
    many = projected_unsold_many(stock=stock, demand=demand, days=days)
    assert many.tolist() == [8.0, 0.0, 18.0, 7.0]
    for k in range(3):
        one = projected_unsold(
            stock=stock[k], demand=demand[k], origin=ORIGIN, on=ORIGIN + timedelta(days=int(days[k]) - 1)
        )
        assert many[k] == one


def test_a_promotions_promoted_mean_is_read_from_the_profiled_series() -> None:
    # A promotion from 30 January to 3 February on a 10-day series (25 Jan to 3 Feb) whose last day
    # is 1 February: 30, 31 January and 1 February sell, 2 and 3 February do not.
    mean = np.array([1.0] * 5 + [4, 4, 4] + [0, 0])
    applied = [{"id": "p", "starts_on": "2027-01-30", "ends_on": "2027-02-03", "uplift": 2.0, "promoted_mean": 20.0}]
    assert promotions_restated(applied, mean, origin=ORIGIN) == [{**applied[0], "promoted_mean": 12.0}]
    # One that began before the origin counts its days from the origin
    early = [{**applied[0], "starts_on": "2027-01-20", "ends_on": "2027-01-26"}]
    assert promotions_restated(early, mean, origin=ORIGIN)[0]["promoted_mean"] == 2.0
