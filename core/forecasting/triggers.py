"""Refitting the forecasts of positions whose history changed: one debounced pass per burst.

Inventory calls ``forecasts_request`` (registered on its ``positions_changed`` hook) inside the
writer's transaction. After commit, the first request of a burst enqueues one pass a few seconds
later; the rest of the burst finds the Redis key taken. The pass refits the positions touched since
their last fit whose history fingerprint changed. If Redis or the broker is down, the daily refresh
on the beat picks the change up: delayed, not lost.
"""

from __future__ import annotations

from django.db import transaction

from core.task_requests import task_request

CHANGED_TASK = "tripline.forecasting.changed"
DEBOUNCE_SECONDS = 2.0  # a refit costs more than an evaluation: gather a longer burst


def pending_key(tenant_id: object) -> str:
    return f"forecasting:changed:{tenant_id}"


def forecasts_request(*, tenant_id: object) -> None:
    """Schedule a refit of the tenant's changed positions once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue(tenant_id), robust=True)


def _enqueue(tenant_id: object) -> None:
    # The key lives a little longer than the delay; the pass deletes it as it starts.
    task_request(
        CHANGED_TASK,
        args=[str(tenant_id)],
        countdown=DEBOUNCE_SECONDS,
        once_per=(pending_key(tenant_id), DEBOUNCE_SECONDS * 10),
    )
