"""The promotion uplift's pure parts: the order of its sources, the base without promotion days, the
scaling of a forecast, and the backtest's promotion figure on noisy synthetic demand."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pytest

from core.forecasting import backtest as bt
from core.forecasting.elasticity import DEFAULT_ELASTICITY
from core.forecasting.fitting import forecast_with_promotions
from core.forecasting.history import daily_history
from core.forecasting.uplift import (
    SHRINKAGE_DAYS,
    PromotionWindow,
    base_history,
    learned_ratio,
    promoted_days,
    promotion_uplift,
)

START = date(2026, 1, 5)


def _window(first: int, last: int, discount: float = 0.2, stated: float | None = None) -> PromotionWindow:
    return PromotionWindow(
        id=f"p{first}",
        starts_on=START + timedelta(days=first),
        ends_on=START + timedelta(days=last),
        discount=discount,
        expected_uplift=stated,
    )


def test_the_sources_in_their_order() -> None:
    window = _window(0, 6, discount=0.3)
    assert promotion_uplift(window, ratio=None, days=0, elasticity=None).source == "default_elasticity"
    assert promotion_uplift(window, ratio=None, days=0, elasticity=None).uplift == pytest.approx(
        0.7**DEFAULT_ELASTICITY
    )
    with_elasticity = promotion_uplift(window, ratio=None, days=0, elasticity=-3.0)
    assert (with_elasticity.source, with_elasticity.uplift) == ("elasticity", pytest.approx(0.7**-3.0))
    stated = _window(0, 6, discount=0.3, stated=1.5)
    assert promotion_uplift(stated, ratio=None, days=0, elasticity=-3.0).uplift == 1.5
    # Learned: shrunk towards the stated uplift with SHRINKAGE_DAYS of weight.
    learned = promotion_uplift(stated, ratio=3.0, days=10, elasticity=-3.0)
    assert learned.source == "learned"
    assert learned.uplift == pytest.approx((10 * 3.0 + SHRINKAGE_DAYS * 1.5) / (10 + SHRINKAGE_DAYS))
    assert promotion_uplift(_window(0, 6, discount=0.0), ratio=None, days=0, elasticity=None).uplift == 1.0


def test_promotion_days_leave_the_base_and_the_ratio_is_read_against_it() -> None:
    units = np.full(70, 10.0)
    units[21:28] = 25.0
    units[30] = 0.0  # a stock-out day, censored below: neither base nor promotion
    on_hand = np.full(70, 100.0)
    on_hand[30] = 0.0
    history = daily_history(start=START, units_sold=units, on_hand_end=on_hand)
    promoted = promoted_days(START, 70, [_window(21, 27)])
    assert promoted.sum() == 7
    base = base_history(history, promoted)
    assert base.observed_days == 70 - 7 - 1
    assert learned_ratio(history, promoted) == (pytest.approx(2.5), 7)


def test_the_days_ahead_are_scaled_and_the_cumulative_quantile_grows_by_the_added_mean() -> None:
    history = daily_history(start=START, units_sold=np.full(84, 10.0) + np.tile([0, 1, -1, 0, 2, -2, 0], 12))
    plain, none = forecast_with_promotions(history, horizon=14, service_level=0.95)
    ahead = _window(84 + 3, 84 + 5, stated=2.0)
    lifted, applied = forecast_with_promotions(history, horizon=14, service_level=0.95, windows=[ahead])
    assert none == []
    assert [(a["source"], a["uplift"]) for a in applied] == [("stated", 2.0)]
    factor = np.ones(14)
    factor[3:6] = 2.0
    np.testing.assert_allclose(lifted.mean, plain.mean * factor)
    np.testing.assert_allclose(lifted.quantile, plain.quantile * factor)
    np.testing.assert_allclose(
        lifted.cumulative_quantile, plain.cumulative_quantile + np.cumsum(plain.mean * (factor - 1))
    )
    assert applied[0]["promoted_mean"] == pytest.approx(float(lifted.mean[3:6].sum()), abs=1e-3)


def test_on_noisy_demand_the_promotion_days_error_is_under_the_goal() -> None:
    """Poisson demand with a weekly pattern at five levels (0.3 to 30 a day), a promotion of 4-9 days
    every 4-9 weeks with a per-position uplift of 1.4-3 (and ±20 % day to day); no price history, so
    the prior is the default elasticity."""
    rng = np.random.default_rng(7)
    days = 260
    groups: dict = defaultdict(lambda: {m: bt._Accumulator() for m in bt.METHODS})
    for pid in range(60):
        level = rng.choice([0.3, 1.0, 4.0, 12.0, 30.0])
        weekly = 1 + 0.4 * (np.arange(days) % 7 == 5) - 0.2 * (np.arange(days) % 7 == 0)
        uplift, discount = rng.uniform(1.4, 3.0), rng.choice([0.1, 0.2, 0.3])
        windows, k, promo = [], int(rng.integers(5, 30)), np.zeros(days, bool)
        while k < days - 7:
            length = int(rng.integers(4, 10))
            windows.append(_window(k, k + length - 1, discount=discount))
            promo[k : k + length] = True
            k += length + int(rng.integers(21, 42))
        units = rng.poisson(level * weekly * np.where(promo, uplift * rng.uniform(0.8, 1.2, days), 1.0))
        position = bt.PositionDays(
            position_id=pid,
            velocity_class="any",
            lead_time=14,
            lead_time_source="test",
            start=START,
            units=units.astype(float),
            flagged=np.zeros(days),
            on_hand_end=np.full(days, 1e6),
            promotions=tuple(windows),
        )
        bt.backtest_position(position, origins=6, step_days=7, groups=groups, tau=0.95)
    report = bt._report(
        groups, {"moving_average": {}, "forecast": {}}, {}, origins=6, step_days=7, today=START + timedelta(days=259)
    )
    figures = report["promotions"]
    assert figures["forecast"]["observed_days"] > 1000
    assert figures["promotions_ignored"]["bias"] < -0.4  # ignoring them misses about half the units
    assert abs(figures["forecast"]["bias"]) < 0.1
    assert figures["wape_ratio"] <= 0.7
    assert figures["rmsse_ratio"] <= 0.7
