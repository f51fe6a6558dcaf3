"""What ``/metrics`` reads of webhook deliveries at scrape time: the pending ones and how late they are.

Across tenants on purpose (an operator's view); one aggregate over the partial index of pending
deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min

from core.webhooks.models import Delivery, DeliveryState


@dataclass(frozen=True)
class PendingDeliveries:
    deliveries: int
    oldest_created: datetime | None  # the oldest pending delivery, first attempt or retrying
    earliest_due: datetime | None  # the earliest next attempt: in the past, how far behind the workers are


def deliveries_pending_summary() -> PendingDeliveries:
    row = Delivery.objects.filter(state=DeliveryState.PENDING).aggregate(
        deliveries=Count("id"), oldest_created=Min("created_at"), earliest_due=Min("next_attempt_at")
    )
    return PendingDeliveries(**row)
