"""Each class's model on hand-made series, the quantiles from the model's own errors, censored
days, and the seasonal naive fallback. Needs statsforecast (requirements.txt)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from core.forecasting.demand_class import DemandClass
from core.forecasting.fitting import FALLBACK_MODEL, fit_forecast, forecast_history
from core.forecasting.history import DailyHistory

WEEK = np.array([5, 5, 5, 5, 8, 12, 2], dtype=float)


def history(units: np.ndarray, censored: np.ndarray | None = None) -> DailyHistory:
    units = np.asarray(units, dtype=float)
    if censored is None:
        censored = np.zeros(units.size, dtype=bool)
    return DailyHistory(start=date(2026, 1, 5), units=units, censored=censored)


def test_intermittent_demand_gets_croston_sba_and_quantiles_from_its_own_errors() -> None:
    # 4 units every 4th day for 60 days: ADI 4, CV² 0. Croston's size and interval levels are 4 and
    # 4, so SBA forecasts 0.95 · 4 / 4 = 0.95 a day.
    forecast = forecast_history(history(np.tile([0, 0, 0, 4], 15)), horizon=5, service_level=0.95)
    assert forecast.model == "croston_sba"
    assert forecast.demand_class == DemandClass.INTERMITTENT
    assert forecast.mean == pytest.approx(np.full(5, 0.95))
    # Errors read on days 15..59 (day 0 has no fit, 14 burn-in days): fitted 0.95 on each; 12
    # demand days err +3.05, 33 empty days -0.95; their mean is (48 - 45·0.95) / 45 = 7/60.
    # Centred: 33 of -1.0667 and 12 of 2.9333. The median is -1.0667 (P50 clipped to 0); the 95th
    # percentile sits at 44·0.95 = 41.8 among the 12 high ones: 0.95 + 2.9333 = 3.8833.
    assert forecast.p50 == pytest.approx(np.zeros(5))
    assert forecast.quantile == pytest.approx(np.full(5, 0.95 + 4 - 0.95 - 7 / 60))
    # One day ahead the cumulative and the daily quantile agree. Two days: 44 windows, 22 hold a
    # demand (error 4 - 1.9 = 2.1), 22 do not (-1.9); centred ±2.0; the 95th percentile is 2.0,
    # so 1.9 + 2.0.
    assert forecast.cumulative_quantile[0] == pytest.approx(forecast.quantile[0])
    assert forecast.cumulative_quantile[1] == pytest.approx(3.9)
    assert np.all(np.diff(forecast.cumulative_quantile) >= 0)
    assert forecast.reason == ""


def test_lumpy_demand_gets_tsb() -> None:
    # Every other day, sizes 1 and 9: ADI 2, CV² 0.66.
    units = np.zeros(60)
    units[::2] = np.resize([1, 9], 30)
    forecast = forecast_history(history(units), horizon=3)
    assert (forecast.demand_class, forecast.model) == (DemandClass.LUMPY, "tsb")
    assert np.all(forecast.mean > 0)


def test_smooth_weekly_demand_gets_theta_and_keeps_the_weekday_pattern_in_phase() -> None:
    # Nine whole weeks, so day 1 ahead is the pattern's first weekday again; no noise, no error.
    forecast = forecast_history(history(np.tile(WEEK, 9)), horizon=14)
    assert (forecast.demand_class, forecast.model) == (DemandClass.SMOOTH, "theta_weekly")
    assert forecast.mean == pytest.approx(np.tile(WEEK, 2), abs=1e-6)
    assert forecast.quantile == pytest.approx(forecast.mean, abs=1e-6)


def test_erratic_demand_gets_theta() -> None:
    units = np.resize([1.0, 9.0, 2.0, 12.0, 1.0, 3.0, 20.0], 70)
    forecast = forecast_history(history(units), horizon=7)
    assert (forecast.demand_class, forecast.model) == (DemandClass.ERRATIC, "theta_weekly")
    assert np.all(forecast.quantile >= forecast.mean)


def test_a_named_model_replaces_the_class_default() -> None:
    forecast = forecast_history(history(np.tile([0, 0, 0, 4], 15)), horizon=2, model="imapa")
    assert forecast.model == "imapa"
    assert forecast.demand_class == DemandClass.INTERMITTENT


def test_stock_out_days_do_not_pull_an_intermittent_forecast_down() -> None:
    # 60 days of 4 every 4th day, then 28 days out of stock selling nothing. Read as zeros, TSB's
    # demand probability decays; left out, the forecast is that of the first 60 days.
    units = np.concatenate((np.tile([0, 0, 0, 4], 15), np.zeros(28)))
    censored = np.arange(88) >= 60
    masked = forecast_history(history(units, censored), horizon=3, model="tsb")
    as_zeros = forecast_history(history(units), horizon=3, model="tsb")
    prefix_mean, _ = fit_forecast(units[:60], model="tsb", horizon=3)
    assert masked.mean == pytest.approx(prefix_mean)
    assert as_zeros.mean[0] < 0.5 * masked.mean[0]


def test_stock_out_days_of_a_smooth_item_are_filled_by_weekday() -> None:
    # Nine weeks of the pattern with week 8 out of stock (nothing sold): filled by weekday, the
    # series is the pattern again and so is the forecast.
    units = np.tile(WEEK, 9)
    censored = np.zeros(63, dtype=bool)
    censored[49:56] = True
    units[49:56] = 0
    forecast = forecast_history(history(units, censored), horizon=7)
    assert forecast.demand_class == DemandClass.SMOOTH
    assert forecast.mean == pytest.approx(WEEK, abs=1e-6)


def test_a_short_history_gets_the_seasonal_naive_fallback_with_poisson_quantiles_and_a_reason() -> None:
    forecast = forecast_history(history(np.full(20, 4.0)), horizon=3, service_level=0.95)
    assert forecast.model == FALLBACK_MODEL
    assert forecast.demand_class == DemandClass.TOO_SHORT
    assert "20 observed days, fewer than the 56" in forecast.reason
    assert forecast.mean.tolist() == [4, 4, 4]
    # Poisson(4): P(X ≤ 3) = 0.433, P(X ≤ 4) = 0.629, so the median is 4; P(X ≤ 7) = 0.949,
    # P(X ≤ 8) = 0.979, so P95 is 8. Two days, Poisson(8): P(X ≤ 12) = 0.936, P(X ≤ 13) = 0.966.
    assert forecast.p50.tolist() == [4, 4, 4]
    assert forecast.quantile.tolist() == [8, 8, 8]
    assert forecast.cumulative_quantile[:2].tolist() == [8, 13]


def test_the_fallback_repeats_the_last_week_or_averages_less_than_a_week() -> None:
    weeks = forecast_history(history(np.tile(WEEK, 2)), horizon=9)
    assert weeks.mean.tolist() == [*WEEK, 5, 5]
    days = forecast_history(history(np.array([1.0, 2.0, 6.0])), horizon=2)
    assert days.mean.tolist() == [3, 3]
    assert "less than a week" in days.reason
    nothing = forecast_history(history(np.array([3.0]), np.array([True])), horizon=2)
    assert nothing.mean.tolist() == [0, 0]
    assert nothing.quantile.tolist() == [0, 0]
