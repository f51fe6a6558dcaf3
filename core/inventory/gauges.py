"""What ``/metrics`` reads of inventory at scrape time: the engine's backlog of dirty positions.

Across tenants on purpose (an operator's view); one aggregate over the partial index of dirty
positions, so a scrape stays cheap however large the tenants are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min

from core.inventory.models import Position


@dataclass(frozen=True)
class DirtyBacklog:
    positions: int
    oldest: datetime | None  # when the longest-waiting position was marked dirty


def positions_dirty_backlog() -> DirtyBacklog:
    """How many positions wait for the engine, and since when the oldest does (its lag)."""
    row = Position.objects.filter(dirty_since__isnull=False).aggregate(positions=Count("id"), oldest=Min("dirty_since"))
    return DirtyBacklog(positions=row["positions"], oldest=row["oldest"])
