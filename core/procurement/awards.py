"""Closing an RFQ: settling it when quotes are in or time is up, awarding, cancelling, giving up.

The automatic rule (docs/procurement.md): among active quotes still valid that deliver by the
needed-by day (today + the quote's lead time) for at least the asked quantity, the lowest landed
unit cost wins; ties go to the more reliable supplier, then the earlier quote. Settling happens
when every invitee has answered or the deadline passes. With nothing to award, the next backups
are invited once, for another response window; after that the tenant's planners are told.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from core import telemetry
from core.access.views import event_payloads
from core.alerts.models import LIVE, Alert
from core.alerts.triggers import positions_mark_dirty
from core.base_models import short_reference
from core.exceptions import Conflict
from core.inventory.models import Position
from core.procurement.events import RFQ_AWARDED, RFQ_CLOSED, RFQ_UNANSWERED
from core.procurement.models import (
    OPEN_RFQ_STATUSES,
    AwardRule,
    InvitationStatus,
    PurchaseOrder,
    PurchaseOrderStatus,
    Quote,
    QuoteStatus,
    Rfq,
    RfqInvitation,
    RfqStatus,
)
from core.procurement.receiving import reliability_refresh
from core.procurement.rfqs import everyone_answered, invitations_per_round, invitations_send, limits_for, rfq_locked
from core.retries import atomic_retried
from core.webhooks.outbox import Event, outbox_emit
from tenants.principals import SYSTEM_ACTOR, Principal, actor_name
from tenants.services import audit_record


def quotes_awardable(rfq: Rfq, today: date) -> list[Quote]:
    """Quotes the automatic rule may pick, best first."""
    quotes = Quote.objects.filter(
        rfq=rfq, status=QuoteStatus.ACTIVE, valid_until__gte=today, quantity__gte=rfq.quantity
    ).select_related("invitation")
    usable = [q for q in quotes if today + timedelta(days=q.lead_time_days) <= rfq.needed_by]
    return sorted(usable, key=lambda q: (q.landed_unit_cost, -q.invitation.reliability, q.created_at))


@transaction.atomic
def rfq_settle(*, rfq_id: object, now: datetime | None = None) -> str:
    """Move an open RFQ on if it is time; answer what happened. Safe to run any number of times."""
    now = now or timezone.now()
    rfq = rfq_locked(rfq_id)
    if rfq is None or rfq.status != RfqStatus.OPEN:
        return "nothing to do"
    if rfq.alert_id is not None and not _alert_live(rfq.alert_id):
        _close_for_quiet_alert(rfq)
        return "cancelled"
    if now < rfq.respond_by and not everyone_answered(rfq):
        return "waiting"
    if rfq.award_rule == AwardRule.LOWEST_LANDED_COST:
        best = quotes_awardable(rfq, now.date())
        if best:
            _award(rfq, best[0], SYSTEM_ACTOR, how="automatic")
            return "awarded"
    elif Quote.objects.filter(rfq=rfq, status=QuoteStatus.ACTIVE).exists():
        rfq.status = RfqStatus.AWAITING_AWARD
        rfq.save(update_fields=["status", "updated_at"])
        return "awaiting award"
    if rfq.round == 1:
        window = rfq.respond_by - rfq.created_at
        rfq.round, rfq.respond_by = 2, now + max(window, timedelta(hours=1))
        rfq.save(update_fields=["round", "respond_by", "updated_at"])
        if invitations_send(rfq=rfq, wanted=invitations_per_round(rfq, limits_for(rfq.tenant_id)), today=now.date()):
            audit_record(tenant=rfq.tenant, actor=SYSTEM_ACTOR, action="rfq.next_round", target=rfq, data={})
            return "next round"
    rfq_unanswered(rfq=rfq, reason=_why_unanswered(rfq))
    return "unanswered"


def _alert_live(alert_id: object) -> bool:
    return Alert.objects.filter(LIVE, pk=alert_id).exists()


def _close_for_quiet_alert(rfq: Rfq) -> None:
    rfq.status, rfq.decided_by = RfqStatus.CANCELLED, SYSTEM_ACTOR
    rfq.closed_reason = "The stock-out alert that opened it resolved or was dismissed before an award."
    rfq.save(update_fields=["status", "closed_reason", "decided_by", "updated_at"])
    invitees_close(rfq=rfq, reason="cancelled")
    audit_record(
        tenant=rfq.tenant, actor=SYSTEM_ACTOR, action="rfq.cancelled", target=rfq, data={"reason": rfq.closed_reason}
    )


@transaction.atomic
def rfqs_close_for_quiet_alerts(*, alert_ids: list) -> int:
    """Cancel the open RFQs of these alerts that are no longer live; answer how many."""
    closed = 0
    # Only RFQs whose alert has gone quiet are locked (and checked again under the lock): locking
    # every open RFQ of every alert event would hold up suppliers quoting on live ones.
    quiet = (
        Rfq.objects.filter(alert_id__in=alert_ids, status__in=OPEN_RFQ_STATUSES)
        .exclude(alert__in=Alert.objects.filter(LIVE, pk__in=alert_ids))
        .values_list("pk", flat=True)
    )
    for rfq_id in quiet:
        rfq = rfq_locked(rfq_id)
        if rfq.status in OPEN_RFQ_STATUSES and not _alert_live(rfq.alert_id):
            _close_for_quiet_alert(rfq)
            closed += 1
    return closed


def _why_unanswered(rfq: Rfq) -> str:
    invited = RfqInvitation.objects.filter(rfq=rfq).count()
    if not invited:
        return "No backup supplier on file can deliver by the needed-by day."
    quoted = Quote.objects.filter(rfq=rfq, status=QuoteStatus.ACTIVE).count()
    if not quoted:
        return f"None of the {invited} invited supplier(s) quoted in {rfq.round} round(s)."
    return (
        f"{quoted} quote(s) in, none that delivers {rfq.quantity} units by {rfq.needed_by.isoformat()} "
        "and is still valid; a planner may award one by hand."
    )


def rfq_unanswered(*, rfq: Rfq, reason: str) -> None:
    rfq.status, rfq.closed_reason = RfqStatus.UNANSWERED, reason
    rfq.save(update_fields=["status", "closed_reason", "updated_at"])
    invitees_close(rfq=rfq, reason="no_award")
    data = {**_about(rfq), "rounds": rfq.round, "reason": reason}
    outbox_emit(
        [
            Event(
                tenant_id=rfq.tenant_id,
                type=RFQ_UNANSWERED.name,
                data=data,
                partner_payloads=event_payloads(RFQ_UNANSWERED.name, data),
                sku_id=rfq.sku_id,
                warehouse_id=rfq.warehouse_id,
                staff_only=True,
            )
        ]
    )
    audit_record(tenant=rfq.tenant, actor=SYSTEM_ACTOR, action="rfq.unanswered", target=rfq, data={"reason": reason})


def _about(rfq: Rfq) -> dict:
    return {
        "rfq_id": str(rfq.pk),
        "reference": rfq.reference,
        "sku": rfq.sku.code,
        "warehouse": rfq.warehouse.code,
        "quantity": rfq.quantity,
        "needed_by": rfq.needed_by.isoformat(),
    }


def invitees_close(*, rfq: Rfq, reason: str, winner: RfqInvitation | None = None) -> None:
    """Tell every invitee but the winner that the RFQ closed for it, and why."""
    others = list(RfqInvitation.objects.filter(rfq=rfq).exclude(pk=getattr(winner, "pk", None)))
    quoted = set(Quote.objects.filter(rfq=rfq).values_list("invitation_id", flat=True))
    for invitation in others:
        invitation.status = InvitationStatus.LOST if invitation.pk in quoted else InvitationStatus.CLOSED
    RfqInvitation.objects.bulk_update(others, ["status"])
    told = [
        (invitation, {**_about(rfq), "supplier_id": str(invitation.supplier_id), "reason": reason})
        for invitation in others
    ]
    outbox_emit(
        [
            Event(
                tenant_id=rfq.tenant_id,
                type=RFQ_CLOSED.name,
                data=data,
                partner_payloads=event_payloads(RFQ_CLOSED.name, data),
                sku_id=rfq.sku_id,
                warehouse_id=rfq.warehouse_id,
                recipient_id=invitation.supplier_id,
            )
            for invitation, data in told
        ]
    )


def _award(rfq: Rfq, quote: Quote, actor: Principal | str, how: str) -> PurchaseOrder:
    now = timezone.now()
    was_unanswered = rfq.status == RfqStatus.UNANSWERED
    rfq.status, rfq.awarded_quote, rfq.awarded_at = RfqStatus.AWARDED, quote, now
    rfq.decided_by = actor_name(actor)
    rfq.save(update_fields=["status", "awarded_quote", "awarded_at", "decided_by", "updated_at"])
    winner = quote.invitation
    RfqInvitation.objects.filter(pk=winner.pk).update(status=InvitationStatus.WON)
    # What was asked of the supplier, or less if it quoted less: a quote for more buys no more.
    ordered = min(quote.quantity, winner.quantity)
    order = PurchaseOrder.objects.create(
        tenant_id=rfq.tenant_id,
        reference=short_reference("PO", rfq.pk),
        rfq=rfq,
        supplier_id=quote.supplier_id,
        position_id=rfq.position_id,
        quantity=ordered,
        unit_price=quote.unit_price,
        expected_on=now.date() + timedelta(days=quote.lead_time_days),
    )
    # The award is stock on its way: in transit until receipts carrying the order's reference land.
    Position.objects.filter(pk=rfq.position_id).update(in_transit=F("in_transit") + ordered)
    positions_mark_dirty(tenant=rfq.tenant, where=Q(pk=rfq.position_id))
    if not was_unanswered:  # an unanswered RFQ's invitees were told it closed already
        invitees_close(rfq=rfq, reason="awarded_elsewhere", winner=winner)
    data = {
        **_about(rfq),
        "supplier_id": str(quote.supplier_id),
        "quote_id": str(quote.pk),
        "unit_price": str(quote.unit_price),
        "awarded_quantity": ordered,
        "lead_time_days": quote.lead_time_days,
        "purchase_order": order.reference,
        "expected_on": order.expected_on.isoformat(),
        "how": how,
    }
    outbox_emit(
        [
            Event(
                tenant_id=rfq.tenant_id,
                type=RFQ_AWARDED.name,
                data=data,
                partner_payloads=event_payloads(RFQ_AWARDED.name, data),
                sku_id=rfq.sku_id,
                warehouse_id=rfq.warehouse_id,
                recipient_id=quote.supplier_id,
            )
        ]
    )
    audit_record(
        tenant=rfq.tenant,
        actor=actor,
        action="rfq.awarded",
        target=rfq,
        data={"quote": str(quote.pk), "how": how, "purchase_order": order.reference},
    )
    telemetry.count_on_commit(telemetry.RFQS_AWARDED, how=how)
    return order


@transaction.atomic
def rfq_award(*, rfq: Rfq, quote_id: object, actor: Principal) -> Rfq:
    """A planner picks the winner: any active, still valid quote of an RFQ not yet closed."""
    rfq = rfq_locked(rfq.pk)
    if rfq.status not in (*OPEN_RFQ_STATUSES, RfqStatus.UNANSWERED):
        raise Conflict(f"This RFQ is {rfq.status}; only an open or unanswered RFQ can be awarded.")
    quote = Quote.objects.select_related("invitation").filter(rfq=rfq, pk=quote_id).first()
    if quote is None:
        raise ValidationError({"quote_id": "No such quote on this RFQ."})
    if rfq.status == RfqStatus.UNANSWERED and (
        Rfq.objects.filter(
            tenant_id=rfq.tenant_id, sku_id=rfq.sku_id, warehouse_id=rfq.warehouse_id, status__in=OPEN_RFQ_STATUSES
        ).exists()
        or PurchaseOrder.objects.filter(position_id=rfq.position_id, status=PurchaseOrderStatus.OPEN).exists()
    ):
        raise Conflict("A newer RFQ or an open purchase order covers this position; award that one instead.")
    if quote.status != QuoteStatus.ACTIVE:
        raise Conflict(f"That quote is {quote.status}; award the supplier's active quote.")
    if quote.valid_until < timezone.now().date():
        raise Conflict(f"That quote was valid until {quote.valid_until.isoformat()}; ask for a revision.")
    _award(rfq, quote, actor, how="manual")
    return rfq


@transaction.atomic
def rfq_cancel(*, rfq: Rfq, actor: Principal, reason: str) -> Rfq:
    """Stop an open RFQ; every invitee is told it closed."""
    rfq = rfq_locked(rfq.pk)
    if rfq.status not in OPEN_RFQ_STATUSES:
        raise Conflict(f"This RFQ is {rfq.status}; only an open RFQ can be cancelled.")
    rfq.status, rfq.closed_reason, rfq.decided_by = RfqStatus.CANCELLED, reason, actor.describe()
    rfq.save(update_fields=["status", "closed_reason", "decided_by", "updated_at"])
    invitees_close(rfq=rfq, reason="cancelled")
    audit_record(tenant=rfq.tenant, actor=actor, action="rfq.cancelled", target=rfq, data={"reason": reason})
    return rfq


def rfqs_overdue(*, now: datetime | None = None, limit: int = 500) -> list:
    """Open RFQs past their response deadline, for the sweep to settle."""
    now = now or timezone.now()
    return list(
        Rfq.objects.filter(status=RfqStatus.OPEN, respond_by__lte=now)
        .order_by("respond_by")
        .values_list("pk", flat=True)[:limit]
    )


@atomic_retried
def purchase_order_close(*, order: PurchaseOrder, actor: Principal, note: str = "") -> PurchaseOrder:
    """A planner closes an open order short: what has not come is taken off in transit, and the
    supplier's reliability counts the order as not complete."""
    # The position first, then the order: ingestion locks positions before it updates the orders a
    # receipt lands on, and the opposite order here could deadlock with a push (an order's position
    # never changes, so the one passed in names it).
    Position.objects.select_for_update(no_key=True, of=("self",)).get(pk=order.position_id)
    order = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != PurchaseOrderStatus.OPEN:
        raise Conflict(f"Purchase order {order.reference} is {order.status}; only an open one can be closed.")
    missing = order.quantity - order.received_quantity
    Position.objects.filter(pk=order.position_id).update(in_transit=Greatest(F("in_transit") - missing, 0))
    order.status = PurchaseOrderStatus.CLOSED_SHORT
    order.received_on = order.received_on or timezone.now().date()
    order.save(update_fields=["status", "received_on", "updated_at"])
    with connection.cursor() as cursor:
        reliability_refresh(cursor=cursor, tenant=actor.tenant, supplier_ids=[str(order.supplier_id)])
    positions_mark_dirty(tenant=actor.tenant, where=Q(pk=order.position_id))
    audit_record(
        tenant=actor.tenant,
        actor=actor,
        action="purchase_order.closed_short",
        target=order,
        data={"missing": missing, "note": note},
    )
    return order
