"""A position's price response: its own price elasticity, read from its sales at the prices it sold at.

The slope of log units sold on log average price (revenue / units) over the position's last 90 days
of clean sales. It is used when there are at least 14 selling days and the price moved by at least
3 % between them, and only if it says what demand curves say (less than -0.3); it is bounded to -6.

Two readers: the markdown and clearance playbooks (a price cut that sells an excess), and the
promotion uplift (``uplift``: a promotion at discount ``d`` sells ``(1 - d)^e`` times as much).
It lives in forecasting, below both, so neither reads the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from core.inventory.models import DailyFact

PRICE_HISTORY_DAYS = 90
MIN_HISTORY_DAYS = 14
MIN_PRICE_SPREAD = 1.03
ELASTICITY_BOUNDS = (-6.0, -0.3)
# What a price cut is assumed to do where the position's own history says nothing usable.
DEFAULT_ELASTICITY = -2.0


@dataclass(frozen=True)
class PriceResponse:
    elasticity: float | None  # None: no usable history
    history_days: int
    price_spread: float | None

    @property
    def usable(self) -> bool:
        return self.elasticity is not None


def price_responses(*, tenant_id: object, position_ids: list[int], today: date) -> dict[int, PriceResponse]:
    """Each position's price response over the ``PRICE_HISTORY_DAYS`` days through ``today``, in one query."""
    if not position_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT position_id,
                   regr_slope(ln(units_sold::float8), ln((revenue / units_sold)::float8)),
                   count(*),
                   max(revenue / units_sold) / min(revenue / units_sold)
              FROM {DailyFact._meta.db_table}
             WHERE tenant_id = %s AND position_id = ANY(%s) AND day > %s AND day <= %s
               AND units_sold > 0 AND revenue > 0
             GROUP BY position_id
            """,  # noqa: S608 - the table name is the model's; values go as parameters
            [tenant_id, list(position_ids), today - timedelta(days=PRICE_HISTORY_DAYS), today],
        )
        rows = cursor.fetchall()
    found = {}
    for position_id, slope, days, spread in rows:
        spread = float(spread) if spread is not None else None
        usable = (
            slope is not None
            and days >= MIN_HISTORY_DAYS
            and spread is not None
            and spread >= MIN_PRICE_SPREAD
            and slope < ELASTICITY_BOUNDS[1]
        )
        elasticity = max(ELASTICITY_BOUNDS[0], float(slope)) if usable else None
        found[position_id] = PriceResponse(elasticity, int(days), spread)
    return {pid: found.get(pid, PriceResponse(None, 0, None)) for pid in position_ids}
