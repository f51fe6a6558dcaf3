"""Projected demand and stock of one reading, for rules that look ahead (evaluators run per reading).

Day 0 is the reading's ``as_of``. With a fresh forecast (``details["forecast"]``) demand is its daily
mean from today, and past its horizon the mean of its last week (``tail_daily_mean``); without one,
ads_28 every day. Stock starts from available + in transit + approved inbound, as days of cover does.
"""

from __future__ import annotations


def projected_demand(reading: dict, first_day: int, last_day: int) -> float:
    """Mean demand over days ``first_day`` .. ``last_day`` (inclusive, from today = 0); 0 if empty."""
    first_day = max(first_day, 0)
    if last_day < first_day:
        return 0.0
    forecast = reading["details"].get("forecast")
    if forecast is None:
        return float(reading["ads_28"]) * (last_day - first_day + 1)
    daily, tail = forecast["daily_mean"], forecast["tail_daily_mean"] or 0.0
    inside = sum(daily[first_day : last_day + 1])
    beyond = max(0, last_day + 1 - max(first_day, len(daily)))
    return float(inside + tail * beyond)


def projected_stock(reading: dict, day: int) -> float:
    """Stock left at the end of day ``day`` (today = 0), before any new order; may go negative."""
    held = reading["available"] + reading["in_transit"] + reading.get("inbound_approved", 0)
    return held - projected_demand(reading, 0, day)
