"""The inventory replay's arithmetic on a case worked out by hand."""

import numpy as np
import pytest

from core.forecasting.backtest import _simulate


def test_lost_sales_and_a_late_order_worked_out_by_hand() -> None:
    # 10 a day for 14 days, starting at the order-up-to level 100 with nothing on order. Days 0-6 sell
    # 70 (ending at 90, 80, ..., 30); the review on day 7 orders 100 - 30 = 70, due on day 14, after
    # the replay; days 7-9 sell the last 30 (ending at 20, 10, 0), days 10-13 lose their 40.
    figures = _simulate(np.full(14, 10.0), start=0, lead=7, level=lambda day: 100.0)
    assert figures["demand"] == 140
    assert figures["served"] == 100
    assert figures["stock_days"] == sum(range(30, 100, 10)) + 20 + 10
    assert figures["days"] == 14


def test_an_order_arrives_after_its_lead_time_and_is_sold_from() -> None:
    # Lead time 2: the day-7 order (100 - 30 = 70) arrives on day 9, before day 9's demand.
    figures = _simulate(np.full(14, 10.0), start=0, lead=2, level=lambda day: 100.0)
    assert figures["served"] == pytest.approx(140)
    # Ends of days 0-8: 90 ... 10; day 9: 10 + 70 - 10 = 70; days 10-13: 60, 50, 40, 30.
    assert figures["stock_days"] == sum(range(10, 100, 10)) + 70 + 60 + 50 + 40 + 30
