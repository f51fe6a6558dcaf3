"""Suspicious sales: kept in the ledger, out of the daily facts until a planner dismisses them."""

from __future__ import annotations

from datetime import UTC

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core.exceptions import Conflict, NotFound
from core.inventory import ledger_hooks
from core.inventory.models import Anomaly, AnomalyStatus, DailyFact, Position
from core.retries import atomic_retried
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record


def anomaly_list(*, tenant: Tenant) -> QuerySet[Anomaly]:
    return (
        Anomaly.objects.filter(tenant=tenant)
        .select_related("movement__position__sku", "movement__position__warehouse")
        .order_by("created_at", "id")
    )


def anomaly_get(*, tenant: Tenant, anomaly_id: object) -> Anomaly:
    anomaly = anomaly_list(tenant=tenant).filter(pk=anomaly_id).first()
    if anomaly is None:
        raise NotFound
    return anomaly


def _locked(anomaly: Anomaly) -> Anomaly:
    locked = Anomaly.objects.select_for_update().get(pk=anomaly.pk)
    if locked.status != AnomalyStatus.FLAGGED:
        raise Conflict(f"This anomaly was already {locked.status} by {locked.reviewed_by or 'someone'}.")
    return locked


@transaction.atomic
def anomaly_confirm(*, anomaly: Anomaly, actor: Principal) -> Anomaly:
    """The sale was not real: it stays out of the indicators for good."""
    locked = _locked(anomaly)
    locked.status, locked.reviewed_by, locked.reviewed_at = AnomalyStatus.CONFIRMED, actor.describe(), timezone.now()
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    audit_record(tenant=locked.tenant, actor=actor, action="anomaly.confirmed", target=locked)
    return anomaly_get(tenant=locked.tenant, anomaly_id=locked.pk)


@atomic_retried
def anomaly_dismiss(*, anomaly: Anomaly, actor: Principal) -> Anomaly:
    """The sale was real: its units and revenue count again in the daily facts."""
    locked = _locked(anomaly)
    movement = locked.movement
    # The position first, as ingestion locks it before the daily facts: one order, no deadlock.
    position = (
        Position.objects.select_for_update(no_key=True, of=("self",)).select_related("sku").get(pk=movement.position_id)
    )
    price = movement.unit_price if movement.unit_price is not None else position.sku.list_price
    day = movement.occurred_at.astimezone(UTC).date()  # fact days are UTC dates, as ingestion writes them
    DailyFact.objects.filter(tenant=locked.tenant, position=position, day=day).update(
        units_sold=F("units_sold") + movement.quantity,
        revenue=F("revenue") + movement.quantity * price,
        units_flagged=F("units_flagged") - movement.quantity,
    )
    Position.objects.filter(pk=position.pk, dirty_since__isnull=True).update(dirty_since=timezone.now())
    ledger_hooks.positions_changed(tenant_id=locked.tenant_id)
    locked.status, locked.reviewed_by, locked.reviewed_at = AnomalyStatus.DISMISSED, actor.describe(), timezone.now()
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    audit_record(tenant=locked.tenant, actor=actor, action="anomaly.dismissed", target=locked)
    return anomaly_get(tenant=locked.tenant, anomaly_id=locked.pk)
