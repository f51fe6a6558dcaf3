"""Daily facts into model input: censored days (stock-outs, flagged anomalies) and leading days."""

from __future__ import annotations

from datetime import date

import numpy as np

from core.forecasting.demand_class import DemandClass
from core.forecasting.history import (
    DailyHistory,
    closing_stock,
    daily_history,
    model_input,
    observed_series,
    weekday_imputed_series,
)


def test_stock_outs_flagged_units_and_a_stockout_flag_censor_their_days() -> None:
    history = daily_history(
        start=date(2026, 3, 1),
        units_sold=[3, 2, 0, 4, 1, 5],
        units_flagged=[0, 0, 0, 7, 0, 0],
        on_hand_end=[9, 7, 0, 3, 2, 1],
        stockout=[False, False, False, False, True, False],
    )
    assert history.censored.tolist() == [False, False, True, True, True, False]
    assert history.observed_days == 3
    assert observed_series(history).tolist() == [3, 2, 5]


def test_days_before_the_first_sale_or_stock_are_not_history() -> None:
    history = daily_history(start=date(2026, 3, 1), units_sold=[0, 0, 0, 0, 2, 0], on_hand_end=[0, 0, 0, 10, 8, 8])
    # Day 4 (10 received, nothing sold) is the first day the position existed.
    assert history.start == date(2026, 3, 4)
    assert history.end == date(2026, 3, 6)
    assert history.units.tolist() == [0, 2, 0]
    assert not history.censored.any()


def test_without_stock_figures_the_first_sale_starts_the_history() -> None:
    history = daily_history(start=date(2026, 3, 1), units_sold=[0, 0, 1, 0])
    assert history.start == date(2026, 3, 3)
    assert history.units.tolist() == [1, 0]


def test_a_censored_day_is_filled_with_its_weekday_level_and_never_below_its_sales() -> None:
    # Three weeks; weekday slot 0 sold 6 and 8 in weeks 1 and 2 and ran out in week 3 after 1 unit:
    # filled with (6 + 8) / 2 = 7. Slot 3 ran out in week 3 after 9 units, above its level of
    # (2 + 2) / 2 = 2: keeps 9, sales being a lower bound on demand.
    units = np.array([6, 1, 1, 2, 1, 1, 1, 8, 1, 1, 2, 1, 1, 1, 1, 1, 1, 9, 1, 1, 1], dtype=float)
    censored = np.zeros(21, dtype=bool)
    censored[[14, 17]] = True
    filled = weekday_imputed_series(DailyHistory(start=date(2026, 3, 2), units=units, censored=censored))
    expected = units.copy()
    expected[14], expected[17] = 7, 9
    assert filled.tolist() == expected.tolist()


def test_a_weekday_never_observed_nearby_takes_the_mean_of_all_observed_days() -> None:
    # Slot 0 is censored in both weeks: the observed days 1..6 and 8..13 average 2.
    units = np.array([0, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2], dtype=float)
    censored = np.zeros(14, dtype=bool)
    censored[[0, 7]] = True
    filled = weekday_imputed_series(DailyHistory(start=date(2026, 3, 2), units=units, censored=censored))
    assert filled[[0, 7]].tolist() == [2, 2]


def test_intermittent_models_read_observed_days_and_seasonal_ones_the_filled_calendar() -> None:
    units = np.array([0, 3, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0], dtype=float)
    censored = np.zeros(14, dtype=bool)
    censored[1] = True  # a stock-out day that still sold 3
    history = DailyHistory(start=date(2026, 3, 2), units=units, censored=censored)
    assert model_input(history, DemandClass.INTERMITTENT).size == 13
    assert model_input(history, DemandClass.LUMPY).size == 13
    smooth = model_input(history, DemandClass.SMOOTH)
    assert smooth.size == 14
    assert smooth[1] == 3  # slot 1's other week sold 3


def test_closing_stock_is_rebuilt_backwards_from_the_stock_now():
    # Net changes +10, -3, -7, +5 and 4 on hand now, worked back:
    # day 4 closes at 4; day 3 at 4 - 5 = -1 (a stock-out); day 2 at -1 + 7 = 6; day 1 at 6 + 3 = 9.
    assert closing_stock(4, np.array([10, -3, -7, 5])).tolist() == [9.0, 6.0, -1.0, 4.0]
    # A row per position gives the same per row.
    rows = closing_stock(np.array([4, 0]), np.array([[10, -3, -7, 5], [0, 0, 2, -2]]))
    assert rows.tolist() == [[9.0, 6.0, -1.0, 4.0], [0.0, 0.0, 2.0, 0.0]]
