"""Industry profiles on hand-made series: monthly coefficients in and out of the fit, the last selling
day, and the promotions read again from the profiled series (figures worked out by hand in the comments)."""

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
    forecast_profiled,
    history_deseasonalised,
    promotions_restated,
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


def test_a_promotions_promoted_mean_is_read_from_the_profiled_series() -> None:
    # A promotion from 30 January to 3 February on a 10-day series (25 Jan to 3 Feb) whose last day
    # is 1 February: 30, 31 January and 1 February sell, 2 and 3 February do not.
    mean = np.array([1.0] * 5 + [4, 4, 4] + [0, 0])
    applied = [{"id": "p", "starts_on": "2027-01-30", "ends_on": "2027-02-03", "uplift": 2.0, "promoted_mean": 20.0}]
    assert promotions_restated(applied, mean, origin=ORIGIN) == [{**applied[0], "promoted_mean": 12.0}]
    # One that began before the origin counts its days from the origin
    early = [{**applied[0], "starts_on": "2027-01-20", "ends_on": "2027-01-26"}]
    assert promotions_restated(early, mean, origin=ORIGIN)[0]["promoted_mean"] == 2.0
