"""The figures of the markdown and clearance playbooks (docs/procurement.md, Playbooks).

Price response: the position's own price elasticity (``core.forecasting.elasticity``, which the
promotion uplift reads too): the slope of log units sold on log average price over its last 90 days
of clean sales, used when it is believable and bounded to -6.

Markdown: the cut that sells the excess on top of normal sales within 28 days. With elasticity
``e``, a price ``(1 - d)`` times the list sells ``(1 - d)^e`` times as much, so
``d = 1 - (1 + excess / (ads_28 x 28))^(1/e)``, bounded to 5..50 %. Without a usable elasticity,
the policy's ``markdown_percent``.

Clearance: weekly steps from the markdown percent, ``clearance_step_percent`` deeper each week up
to ``clearance_max_discount_percent``, until the projected sales clear the stock or the deadline
(the earliest expiry for expiring stock, else ``clearance_horizon_days``) is reached; what is left
then goes to a liquidator. Without a price history the projection assumes elasticity -2.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from core.forecasting.elasticity import DEFAULT_ELASTICITY, PriceResponse

MARKDOWN_HORIZON_DAYS = 28
MARKDOWN_BOUNDS = (5.0, 50.0)
MAX_CLEARANCE_WEEKS = 26


def markdown_percent(
    *, excess: int, ads_28: float, response: PriceResponse, default_percent: float
) -> tuple[float, str]:
    """(percent off, method): from the price response when it is usable, else the policy default."""
    base = ads_28 * MARKDOWN_HORIZON_DAYS
    if not response.usable or base <= 0 or excess <= 0:
        return float(default_percent), "policy_default"
    uplift = (base + excess) / base
    cut = (1 - uplift ** (1 / response.elasticity)) * 100
    return round(min(MARKDOWN_BOUNDS[1], max(MARKDOWN_BOUNDS[0], cut)), 1), "price_response"


def markdown_figures(
    *, excess: int, ads_28: float, list_price: float, response: PriceResponse, default_percent: float
) -> dict:
    percent, method = markdown_percent(excess=excess, ads_28=ads_28, response=response, default_percent=default_percent)
    elasticity = response.elasticity if response.usable else None
    lift = (1 - percent / 100) ** elasticity if elasticity is not None else None
    return {
        "method": method,
        "percent": percent,
        "quantity": excess,
        "list_price": round(list_price, 4),
        "price_after": round(list_price * (1 - percent / 100), 4),
        "elasticity": round(elasticity, 3) if elasticity is not None else None,
        "history_days": response.history_days,
        "horizon_days": MARKDOWN_HORIZON_DAYS,
        "expected_daily_sales": round(ads_28 * lift, 2) if lift is not None else None,
    }


def clearance_ladder(
    *,
    quantity: int,
    ads_28: float,
    start_percent: float,
    step_percent: float,
    max_percent: float,
    deadline_days: int,
    elasticity: float | None,
    starts_on: date,
) -> dict:
    """Weekly discount steps until the stock is projected to be gone or the deadline is reached."""
    used = elasticity if elasticity is not None else DEFAULT_ELASTICITY
    weeks_available = max(1, min(MAX_CLEARANCE_WEEKS, deadline_days // 7))
    remaining, steps = quantity, []
    discount = min(max_percent, max(start_percent, 0.0))
    for week in range(1, weeks_available + 1):
        if remaining <= 0:
            break
        weekly = ads_28 * 7 * (1 - discount / 100) ** used
        sold = min(remaining, math.floor(weekly))
        remaining -= sold
        steps.append(
            {
                "week": week,
                "starts_on": (starts_on + timedelta(weeks=week - 1)).isoformat(),
                "discount_percent": round(discount, 1),
                "projected_units": sold,
                "remaining_after": remaining,
            }
        )
        discount = min(max_percent, discount + step_percent)
    return {
        "quantity": quantity,
        "deadline": (starts_on + timedelta(days=deadline_days)).isoformat(),
        "weeks": steps,
        "cleared_in_week": steps[-1]["week"] if steps and remaining == 0 else None,
        "left_for_liquidation": remaining,
        "elasticity": round(used, 3),
        "elasticity_source": "price_response" if elasticity is not None else "assumed",
    }
