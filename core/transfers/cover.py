"""The stock a position keeps for itself: four weeks of its own sales.

Transfer plans give away only what lies beyond it, and the playbooks count excess and a target's
need against it, so both agree on what a position can spare.
"""

from __future__ import annotations

import math

COVER_TARGET_DAYS = 28  # stock beyond four weeks of sales is what transfers and clearances move


def cover_stock(ads_28: float) -> int:
    """Units that last COVER_TARGET_DAYS at the 28-day rate, from the whole units sold.

    ``ads_28`` is stored rounded to 4 places; multiplied back it lands a hair off the integer it
    came from, and rounding up from there would count one unit too many.
    """
    sold_28 = round(ads_28 * 28)
    return math.ceil(sold_28 * COVER_TARGET_DAYS / 28)
