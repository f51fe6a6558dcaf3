"""What people do with an alert: acknowledge, resolve, dismiss with a reason, snooze until a time.

A dismissal's reason is one of ``DismissReason`` (false alarm, too early, too late, duplicate, other)
with an optional note in the planner's words: the tuner counts the reasons, people read the notes.

Each action locks the alert, checks that it applies to the alert's status (else a Conflict that
says why), records an event on the timeline and an audit event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.access.views import event_payloads
from core.alerts.events import ALERT_DISMISSED, ALERT_RESOLVED
from core.alerts.models import LIVE_STATUSES, Alert, AlertEventKind, AlertStatus, DismissReason
from core.alerts.timeline import timeline_entry, timeline_write
from core.exceptions import Conflict
from core.webhooks.outbox import Event, outbox_emit
from tenants.principals import Principal
from tenants.services import audit_record

MAX_SNOOZE = timedelta(days=90)


def _locked(alert: Alert, allowed: tuple[str, ...], verb: str) -> Alert:
    # Its SKU, warehouse and tenant are read for the event and the audit, not locked.
    locked = Alert.objects.select_for_update(of=("self",)).select_related("sku", "warehouse", "tenant").get(pk=alert.pk)
    if locked.status not in allowed:
        raise Conflict(f"This alert is {locked.status}; only an alert that is {' or '.join(allowed)} can be {verb}.")
    return locked


def _record(alert: Alert, actor: Principal, kind: str, note: str = "", **data: object) -> None:
    timeline_write(
        [
            timeline_entry(
                tenant_id=alert.tenant_id,
                alert_id=alert.pk,
                kind=kind,
                actor=actor.describe(),
                at=timezone.now(),
                from_grade=alert.grade,
                to_grade=alert.grade,
                note=note,
                data=data,
            )
        ]
    )
    audit_record(tenant=alert.tenant, actor=actor, action=f"alert.{kind}", target=alert, data={"note": note, **data})
    if kind in (AlertEventKind.RESOLVED, AlertEventKind.DISMISSED):
        event_type = (ALERT_RESOLVED if kind == AlertEventKind.RESOLVED else ALERT_DISMISSED).name
        payload = {
            "alert_id": str(alert.pk),
            "rule": alert.rule,
            "grade": alert.grade,
            "position_id": alert.position_id,
            "sku": alert.sku.code,
            "warehouse": alert.warehouse.code,
            "by": actor.describe(),
            **({"reason": data["reason"], "note": note} if kind == AlertEventKind.DISMISSED else {}),
        }
        outbox_emit(
            [
                Event(
                    tenant_id=alert.tenant_id,
                    type=event_type,
                    data=payload,
                    partner_payloads=event_payloads(event_type, payload),
                    sku_id=alert.sku_id,
                    warehouse_id=alert.warehouse_id,
                )
            ]
        )


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: Principal, note: str = "") -> Alert:
    """Someone is on it; the alert stays active and the engine still escalates or resolves it."""
    alert = _locked(alert, (AlertStatus.OPEN,), "acknowledged")
    alert.status, alert.acknowledged_at = AlertStatus.ACKNOWLEDGED, timezone.now()
    alert.save(update_fields=["status", "acknowledged_at", "updated_at"])
    _record(alert, actor, AlertEventKind.ACKNOWLEDGED, note)
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, actor: Principal, note: str = "") -> Alert:
    """Closed by hand; if the position still trips the rule, the next evaluation opens a new alert."""
    alert = _locked(alert, LIVE_STATUSES, "resolved")
    alert.status, alert.active, alert.resolved_at, alert.snoozed_until = (
        AlertStatus.RESOLVED,
        False,
        timezone.now(),
        None,
    )
    alert.save(update_fields=["status", "active", "resolved_at", "snoozed_until", "updated_at"])
    _record(alert, actor, AlertEventKind.RESOLVED, note)
    return alert


@transaction.atomic
def alert_dismiss(*, alert: Alert, actor: Principal, reason: str, note: str = "") -> Alert:
    """Not worth acting on: it stays quiet while the condition lasts, and reopens only if it gets
    worse than the grade it was dismissed at. ``other`` needs a note: it says nothing by itself."""
    if reason not in DismissReason.values:
        raise ValidationError({"reason": dismiss_reason_help()})
    note = note.strip()
    if reason == DismissReason.OTHER and not note:
        raise ValidationError({"note": "Say why in the note when the reason is other; the timeline keeps it."})
    alert = _locked(alert, LIVE_STATUSES, "dismissed")
    alert.status, alert.dismissed_reason, alert.dismissed_note, alert.snoozed_until = (
        AlertStatus.DISMISSED,
        reason,
        note,
        None,
    )
    alert.save(update_fields=["status", "dismissed_reason", "dismissed_note", "snoozed_until", "updated_at"])
    _record(alert, actor, AlertEventKind.DISMISSED, note, reason=reason)
    return alert


def dismiss_reason_help() -> str:
    """What a dismissal's reason may be, for the 400 that answers anything else."""
    return (
        f"One of: {', '.join(DismissReason.values)}. Free text goes in note "
        "(a body with only a free-text reason, the form before reasons had structure, is refused)."
    )


@transaction.atomic
def alert_snooze(*, alert: Alert, actor: Principal, until: datetime, note: str = "") -> Alert:
    """Hide the alert from the active views until a time; an escalation ends the snooze early."""
    now = timezone.now()
    if until <= now:
        raise ValidationError({"until": "Must be in the future."})
    if until - now > MAX_SNOOZE:
        raise ValidationError({"until": f"At most {MAX_SNOOZE.days} days ahead; dismiss the alert instead."})
    alert = _locked(alert, LIVE_STATUSES, "snoozed")
    alert.snoozed_until = until
    alert.save(update_fields=["snoozed_until", "updated_at"])
    _record(alert, actor, AlertEventKind.SNOOZED, note, until=until.isoformat())
    return alert
