"""Backtest metrics and baselines against values worked out by hand on a tiny case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.forecasting.metrics import (
    bias,
    coverage,
    moving_average_forecast,
    pinball_loss,
    rmsse,
    rmsse_scale,
    sales_weights,
    seasonal_naive_forecast,
    wape,
    wrmsse,
)


def test_rmsse_scale_skips_leading_zeros_as_m5_does() -> None:
    # From the first sale: 2, 4, 3, 5; naive errors 2, -1, 2; mean square (4 + 1 + 4) / 3 = 3.
    assert rmsse_scale(np.array([0, 0, 2, 4, 3, 5])) == pytest.approx(3.0)


def test_rmsse_and_its_sales_weighted_mean_by_hand() -> None:
    # A: scale 3; errors 4-3, 6-3 = 1, 3; MSE 5; RMSSE sqrt(5/3).
    a = rmsse(np.array([4, 6]), np.array([3, 3]), np.array([0, 0, 2, 4, 3, 5]))
    assert a == pytest.approx(math.sqrt(5 / 3))
    # B: naive errors 0, 0, 2: scale 4/3; errors 0, -2: MSE 2; RMSSE sqrt(2 / (4/3)) = sqrt(1.5).
    b = rmsse(np.array([2, 2]), np.array([2, 4]), np.array([1, 1, 1, 3]))
    assert b == pytest.approx(math.sqrt(1.5))
    # Sales 30 and 10: weights 0.75 and 0.25.
    weights = sales_weights(np.array([30, 10]))
    assert weights.tolist() == [0.75, 0.25]
    assert wrmsse(np.array([a, b]), weights) == pytest.approx(0.75 * math.sqrt(5 / 3) + 0.25 * math.sqrt(1.5))


def test_a_series_without_a_scale_has_no_rmsse_and_leaves_the_weighted_mean() -> None:
    assert math.isnan(rmsse(np.array([1, 1]), np.array([1, 1]), np.array([2, 2, 2])))  # constant
    assert math.isnan(rmsse(np.array([1]), np.array([0]), np.array([0, 0, 0])))  # never sold
    # The remaining weight is renormalised: 0.2 · 1.0 / 0.2.
    assert wrmsse(np.array([1.0, math.nan]), np.array([0.2, 0.8])) == pytest.approx(1.0)


def test_wape_and_bias_by_hand() -> None:
    actual, forecast = np.array([4, 6, 0]), np.array([3, 3, 1])
    # |1| + |3| + |-1| = 5 over 10 sold; (7 - 10) / 10 under-forecast.
    assert wape(actual, forecast) == pytest.approx(0.5)
    assert bias(actual, forecast) == pytest.approx(-0.3)
    assert math.isnan(wape(np.zeros(2), np.ones(2)))


def test_pinball_loss_and_coverage_by_hand() -> None:
    actual, p90 = np.array([4, 6, 0]), np.array([5, 5, 1])
    # a - q = -1, 1, -1: losses 0.1·1, 0.9·1, 0.1·1; mean 1.1 / 3.
    assert pinball_loss(actual, p90, 0.9) == pytest.approx(1.1 / 3)
    # 4 ≤ 5 and 0 ≤ 1 are covered, 6 > 5 is not.
    assert coverage(actual, p90) == pytest.approx(2 / 3)


def test_moving_average_baseline_is_the_last_28_days_flat() -> None:
    # Days 0..34: the last 28 are 7..34, mean (7 + 34) / 2.
    assert moving_average_forecast(np.arange(35), 3).tolist() == [20.5, 20.5, 20.5]
    assert moving_average_forecast(np.array([]), 2).tolist() == [0.0, 0.0]


def test_seasonal_naive_baseline_repeats_the_last_week_in_phase() -> None:
    history = np.array([9, 9, 1, 2, 3, 4, 5, 6, 7])
    assert seasonal_naive_forecast(history, 10).tolist() == [1, 2, 3, 4, 5, 6, 7, 1, 2, 3]
    assert seasonal_naive_forecast(np.array([4, 5]), 2).tolist() == [5, 5]
