"""The engine's projection of a forecast on hand-made series: cover interpolated within the day it
runs out, the horizon extended at the last week's mean, horizons of different lengths in one
chunk, the safety stock rescaled to another service level; and the look-ahead helpers rules use.

Pure functions: no database.
"""

from __future__ import annotations

from datetime import date
from statistics import NormalDist

import numpy as np
import pytest

from core.alerts.indicators import _forecast_projection
from core.alerts.projection import projected_demand, projected_stock

z = NormalDist().inv_cdf


def _row(mean: list[float], cumulative_quantile: list[float], shift: int = 0) -> dict:
    return {
        "forecast_mean": mean,
        "forecast_cumulative_quantile": cumulative_quantile,
        "forecast_shift": shift,
        "forecast_service_level": 0.95,
    }


def test_cover_tail_and_mixed_horizons() -> None:
    # A: 10 days of 2, 3, 2, 3, ...; stock 12 -> 2+3+2+3 = 10 after 4 days, day 5 sells 2: runs out at 5.0.
    # B: 8 days of 1 (a shorter horizon), stock 20 -> 8 inside, then 12 at the tail's 1 a day: 20 days.
    # C: as A from its origin two days ago (shift 2): from today 2, 3, 2, ... -> stock 6: 2 + 3 + 1/2 = 2.5.
    # D: no forecast.
    a = [2.0, 3.0] * 5
    rows = [
        _row(a, list(np.cumsum(a) + 4.0)),
        _row([1.0] * 8, [float(k + 3) for k in range(1, 9)]),
        _row([9.0, 9.0, *a[:8]], list(np.cumsum([9.0, 9.0, *a[:8]]) + 4.0), shift=2),
        {"forecast_mean": None},
    ]
    stock = np.array([12.0, 20.0, 6.0, 5.0])
    lead = np.array([4.0, 10.0, 2.0, 4.0])
    review = np.array([2.0, 0.0, 0.0, 7.0])
    levels = np.array([z(0.95), z(0.99), z(0.95), z(0.95)])
    projection = _forecast_projection(rows, stock, lead, review, levels)
    assert projection.has.tolist() == [True, True, True, False]
    assert projection.cover[:3] == pytest.approx([5.0, 20.0, 2.5])
    assert np.isnan(projection.cover[3])
    # Lead-time demand: A 2+3+2+3 = 10; B 8 + 2 at the tail = 10; C from today 2 + 3 = 5.
    assert projection.lead_time_demand[:3] == pytest.approx([10.0, 10.0, 5.0])
    assert projection.cycle_demand[:2] == pytest.approx([15.0, 10.0])
    # Spread of A over 4 days from its origin: 4; of B over 10 days: (8+3 - 8) x sqrt(10/8), at 0.99.
    assert projection.safety[0] == pytest.approx(4.0)
    assert projection.safety[1] == pytest.approx(3.0 * np.sqrt(10 / 8) * z(0.99) / z(0.95))
    # The last week's mean: A and C 3+2+3+2+3+2+3 = 18 over 7; B 1.
    assert projection.tail[:3] == pytest.approx([18 / 7, 1.0, 18 / 7])
    assert projection.daily[2][:3] == [2.0, 3.0, 2.0]


def test_no_stock_is_no_cover_and_a_zero_forecast_runs_out_never() -> None:
    rows = [_row([1.0] * 7, [float(k) for k in range(1, 8)]), _row([0.0] * 7, [0.0] * 7)]
    projection = _forecast_projection(
        rows, np.array([0.0, 5.0]), np.array([3.0, 3.0]), np.array([0.0, 0.0]), np.array([z(0.95)] * 2)
    )
    assert projection.cover[0] == 0.0
    assert np.isnan(projection.cover[1])


def test_the_look_ahead_helpers() -> None:
    today = date(2026, 3, 1)
    reading = {
        "as_of": today,
        "available": 10,
        "in_transit": 5,
        "inbound_approved": 3,
        "ads_28": 2.0,
        "details": {"forecast": {"daily_mean": [1.0, 2.0, 3.0], "tail_daily_mean": 4.0}},
    }
    assert projected_demand(reading, 0, 1) == 3.0
    assert projected_demand(reading, 1, 4) == 2.0 + 3.0 + 4.0 + 4.0
    assert projected_demand(reading, 5, 4) == 0.0
    assert projected_stock(reading, 2) == 18 - 6
    moving = {**reading, "details": {"forecast": None}}
    assert projected_demand(moving, 0, 9) == 20.0
    assert projected_stock(moving, 4) == 18 - 10
