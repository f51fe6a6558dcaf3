"""Which backup suppliers an RFQ invites, in what order, and why the others are skipped.

A backup can make it when its lead time lands the goods on or before the needed-by day and, where
its weekly capacity is on file, it can make the quantity in the weeks until then. Those that can
are ranked by landed cost per reliably delivered unit: landed unit cost (price, duty, freight) over
reliability, so a cheap supplier that is late half the time does not win on price alone; rank on
file breaks ties.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from core.supply.models import SupplierOffer


@dataclass(frozen=True)
class Candidate:
    offer: SupplierOffer
    quantity: int  # the RFQ's quantity rounded up to this supplier's minimum order
    landed_unit_cost: Decimal
    expected_arrival: date

    @property
    def score(self) -> Decimal:
        return self.landed_unit_cost / max(self.offer.reliability, Decimal("0.05"))


def order_quantity(quantity: int, minimum: int) -> int:
    """``quantity`` rounded up to a whole multiple of the minimum order quantity."""
    minimum = max(1, minimum)
    return math.ceil(quantity / minimum) * minimum


def candidates_rank(
    *, offers: list[SupplierOffer], quantity: int, needed_by: date, today: date
) -> tuple[list[Candidate], list[dict]]:
    """(the suppliers that can make it, best first; the ones that cannot, each with why)."""
    able: list[Candidate] = []
    skipped: list[dict] = []
    for offer in offers:
        supplier = offer.supplier
        ordered = order_quantity(quantity, offer.min_order_quantity)
        arrival = today + timedelta(days=offer.lead_time_days)
        reason = None
        if not supplier.is_active:
            reason = "the supplier is deactivated"
        elif arrival > needed_by:
            reason = (
                f"lead time {offer.lead_time_days} days lands on {arrival.isoformat()}, "
                f"after the needed-by day {needed_by.isoformat()}"
            )
        elif offer.capacity_per_week is not None:
            weeks = max(1, (needed_by - today).days) / 7
            if offer.capacity_per_week * max(weeks, 1) < ordered:
                reason = (
                    f"capacity {offer.capacity_per_week} a week cannot make {ordered} units by {needed_by.isoformat()}"
                )
        if reason:
            skipped.append({"supplier_id": str(supplier.pk), "supplier": supplier.name, "reason": reason})
            continue
        able.append(Candidate(offer, ordered, offer.landed_unit_cost(), arrival))
    able.sort(key=lambda c: (c.score, c.offer.rank, str(c.offer.supplier_id)))
    return able, skipped
