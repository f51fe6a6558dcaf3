"""Asking the engine to look again: dirty positions, and one debounced incremental pass per burst.

Anything that changes what a position's indicators read from (a ledger push, a dismissed
anomaly, a signal, a policy, a refit forecast) marks the positions dirty and calls
``evaluation_request``. After the transaction commits, the first request of a burst enqueues one
incremental pass a moment later; the rest of the burst finds the Redis key taken and adds
nothing. If Redis or the broker is down, the positions stay dirty and the engine's watchdog picks
them up: delayed, not lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now

from core.bulk_copy import bigint_array
from core.inventory.models import Position
from core.task_requests import task_request
from tenants.models import Tenant

INCREMENTAL_TASK = "tripline.evaluation.incremental"


def pending_key(tenant_id: object) -> str:
    return f"evaluation:incremental:{tenant_id}"


def positions_mark_dirty(*, tenant: Tenant, where: Q) -> None:
    """Mark the tenant's positions matching ``where`` for evaluation (those not marked already).

    The positions are locked in id order first, as ingestion does: a chunk that is evaluating one
    of them finishes before this change can commit, so its clearing of the mark cannot swallow it.
    """
    ids = list(
        Position.objects.filter(where, tenant=tenant)
        .order_by("id")
        .select_for_update(no_key=True, of=("self",))
        .values_list("id", flat=True)
    )
    if ids:
        Position.objects.filter(_ids_any(ids), dirty_since__isnull=True).update(dirty_since=Now())
    evaluation_request(tenant_id=tenant.pk)


def _ids_any(ids: Sequence[int]) -> Q:
    """Positions whose id is one of ``ids``, as one array parameter: a full refit hands over 2,000
    ids a chunk, and an IN list of them costs more to build than to run."""
    return Q(RawSQL("id = ANY(%s::bigint[])", [bigint_array(ids)], output_field=BooleanField()))


def positions_refit(*, tenant: Tenant, position_ids: Sequence[int]) -> None:
    """Forecasting's ``forecasts_changed`` hook: positions whose forecasts a refresh just rewrote are
    dirty, so their alerts are graded on the new forecast rather than the one before."""
    if position_ids:
        with transaction.atomic():  # the refresh calls it after its own transactions committed
            positions_mark_dirty(tenant=tenant, where=_ids_any(position_ids))


def evaluation_request(*, tenant_id: object) -> None:
    """Schedule an incremental pass for the tenant once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue(tenant_id), robust=True)


def _enqueue(tenant_id: object) -> None:
    # The key lives a little longer than the delay; the pass deletes it as it starts.
    delay = settings.EVALUATION_DEBOUNCE_SECONDS
    once_per = (pending_key(tenant_id), max(5, delay * 10))
    task_request(INCREMENTAL_TASK, args=[str(tenant_id)], countdown=delay, once_per=once_per)
