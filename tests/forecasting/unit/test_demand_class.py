"""Syntetos-Boylan-Croston classes on hand-made series; the statistics worked out in each test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.forecasting.demand_class import DemandClass, classify


def alternating(a: float, b: float, days: int, every: int = 1) -> np.ndarray:
    """Demand on every ``every``-th day (the first included), sizes a, b, a, b, ..."""
    y = np.zeros(days)
    y[::every] = np.resize([a, b], len(y[::every]))
    return y


def test_demand_every_day_with_steady_sizes_is_smooth() -> None:
    # 60 days, sizes 10, 12, ...: ADI = 60/60 = 1; mean 11, sample variance 60·1²/59, CV² = (60/59)/121.
    result = classify(alternating(10, 12, 60))
    assert result.demand_class == DemandClass.SMOOTH
    assert result.adi == 1.0
    assert result.cv2 == pytest.approx((60 / 59) / 121)
    assert (result.observed_days, result.demand_days) == (60, 60)


def test_demand_every_day_with_varying_sizes_is_erratic() -> None:
    # Sizes 1, 9, ...: mean 5, sample variance 60·4²/59, CV² = (960/59)/25 = 0.651 ≥ 0.49.
    result = classify(alternating(1, 9, 60))
    assert result.demand_class == DemandClass.ERRATIC
    assert result.cv2 == pytest.approx((960 / 59) / 25)


def test_demand_every_other_day_with_one_size_is_intermittent() -> None:
    # 30 demands of 5 in 60 days: ADI = 2 ≥ 1.32, CV² = 0.
    result = classify(alternating(5, 5, 60, every=2))
    assert result.demand_class == DemandClass.INTERMITTENT
    assert (result.adi, result.cv2) == (2.0, 0.0)


def test_demand_every_other_day_with_varying_sizes_is_lumpy() -> None:
    # 30 demands 1, 9, ...: ADI 2; sample variance 30·16/29, CV² = (480/29)/25 = 0.662.
    result = classify(alternating(1, 9, 60, every=2))
    assert result.demand_class == DemandClass.LUMPY
    assert result.cv2 == pytest.approx((480 / 29) / 25)


def test_the_cut_offs_belong_to_the_upper_classes() -> None:
    # 33 days with 25 demands: ADI = 33/25 = 1.32 exactly, which is intermittent, not smooth.
    y = np.full(33, 5.0)
    y[[3, 7, 11, 15, 19, 23, 27, 31]] = 0
    result = classify(y, min_observed_days=33)
    assert result.adi == 1.32
    assert result.demand_class == DemandClass.INTERMITTENT


def test_censored_days_are_left_out_not_read_as_zero_demand() -> None:
    # 60 days of steady demand and 30 stock-out days selling nothing: as zeros, ADI = 90/60 = 1.5
    # (intermittent); left out, ADI = 1 (smooth).
    y = np.concatenate((alternating(10, 12, 60), np.zeros(30)))
    censored = np.arange(90) >= 60
    assert classify(y).demand_class == DemandClass.INTERMITTENT
    result = classify(y, censored)
    assert result.demand_class == DemandClass.SMOOTH
    assert (result.observed_days, result.adi) == (60, 1.0)


def test_a_censored_day_with_sales_does_not_count_as_a_demand_size() -> None:
    # A stock-out day that sold 1 (a truncated size) would make the sizes 10, 10, ..., 1 erratic.
    y = np.full(60, 10.0)
    y[59] = 1
    censored = np.arange(60) == 59
    assert classify(y).cv2 > 0
    assert classify(y, censored).cv2 == 0.0


def test_a_history_under_the_minimum_is_too_short_and_keeps_its_statistics() -> None:
    result = classify(alternating(10, 12, 55))
    assert result.demand_class == DemandClass.TOO_SHORT
    assert result.adi == 1.0
    # The minimum counts observed days: 60 calendar days of which 10 censored are 50 observed.
    assert classify(alternating(10, 12, 60), np.arange(60) < 10).demand_class == DemandClass.TOO_SHORT


def test_no_demand_at_all_is_intermittent_with_an_infinite_interval() -> None:
    result = classify(np.zeros(60))
    assert result.demand_class == DemandClass.INTERMITTENT
    assert math.isinf(result.adi)
    assert result.demand_days == 0
