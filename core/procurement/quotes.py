"""The supplier's side of an RFQ: submit a quote, revise it (a new revision), withdraw it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import telemetry
from core.access.views import event_payloads
from core.exceptions import Conflict, NotFound
from core.procurement.events import RFQ_QUOTED
from core.procurement.models import InvitationStatus, Quote, QuoteStatus, Rfq, RfqInvitation, RfqStatus
from core.procurement.rfqs import everyone_answered, limits_for, rfq_locked, settle_request
from core.webhooks.outbox import Event, outbox_emit
from tenants.principals import Principal
from tenants.services import audit_record


def _open_for_quotes(rfq: Rfq, principal: Principal) -> tuple[Rfq, RfqInvitation]:
    rfq = rfq_locked(rfq.pk)
    invitation = (
        RfqInvitation.objects.select_for_update(of=("self",))
        .select_related("offer")
        .filter(rfq=rfq, supplier=principal.partner)
        .first()
    )
    if invitation is None:
        raise NotFound
    if rfq.status != RfqStatus.OPEN:
        raise Conflict(f"This RFQ is {rfq.status}; it takes no more quotes.")
    if timezone.now() >= rfq.respond_by:
        raise Conflict(f"The response deadline passed at {rfq.respond_by.isoformat()}; quotes are closed.")
    return rfq, invitation


def _settle_if_everyone_answered(rfq: Rfq) -> None:
    if everyone_answered(rfq):
        settle_request(rfq.pk)


@transaction.atomic
def quote_submit(
    *,
    rfq: Rfq,
    principal: Principal,
    unit_price: Decimal,
    quantity: int,
    lead_time_days: int,
    valid_until: date,
    note: str = "",
) -> Quote:
    """A supplier's quote, or its next revision (the previous one is kept as superseded)."""
    rfq, invitation = _open_for_quotes(rfq, principal)
    if valid_until < timezone.now().date():
        raise ValidationError({"valid_until": "A quote must be valid today or later."})
    limit = limits_for(rfq.tenant_id).quote_revisions
    submitted = Quote.objects.filter(invitation=invitation).count()
    if submitted >= limit:
        raise Conflict(f"{submitted} quotes submitted on this RFQ, the tenant's limit is {limit}; no more revisions.")
    Quote.objects.filter(invitation=invitation, status=QuoteStatus.ACTIVE).update(
        status=QuoteStatus.SUPERSEDED, updated_at=timezone.now()
    )
    landed = invitation.offer.landed_unit_cost(unit_price) if invitation.offer else unit_price
    quote = Quote.objects.create(
        tenant_id=rfq.tenant_id,
        rfq=rfq,
        invitation=invitation,
        supplier=principal.partner,
        revision=submitted + 1,
        unit_price=unit_price,
        quantity=quantity,
        lead_time_days=lead_time_days,
        valid_until=valid_until,
        note=note,
        landed_unit_cost=landed,
        submitted_by=principal.describe(),
    )
    RfqInvitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.QUOTED)
    data = {
        "rfq_id": str(rfq.pk),
        "reference": rfq.reference,
        "quote_id": str(quote.pk),
        "supplier_id": str(quote.supplier_id),
        "revision": quote.revision,
        "unit_price": str(unit_price),
        "landed_unit_cost": str(landed),
        "quantity": quantity,
        "lead_time_days": lead_time_days,
        "valid_until": valid_until.isoformat(),
    }
    outbox_emit(
        [
            Event(
                tenant_id=rfq.tenant_id,
                type=RFQ_QUOTED.name,
                data=data,
                partner_payloads=event_payloads(RFQ_QUOTED.name, data),
                sku_id=rfq.sku_id,
                warehouse_id=rfq.warehouse_id,
                staff_only=True,
            )
        ]
    )
    audit_record(
        tenant=rfq.tenant, actor=principal, action="quote.submitted", target=quote, data={"revision": quote.revision}
    )
    telemetry.count_on_commit(telemetry.RFQ_QUOTES)
    _settle_if_everyone_answered(rfq)
    return quote


@transaction.atomic
def quote_withdraw(*, rfq: Rfq, quote_id: object, principal: Principal) -> Quote:
    """Take back the active quote; the supplier counts as having answered (with nothing)."""
    rfq, invitation = _open_for_quotes(rfq, principal)
    quote = Quote.objects.filter(invitation=invitation, pk=quote_id).first()
    if quote is None:
        raise NotFound
    if quote.status != QuoteStatus.ACTIVE:
        raise Conflict(f"This quote is {quote.status}; only the active quote can be withdrawn.")
    quote.status = QuoteStatus.WITHDRAWN
    quote.save(update_fields=["status", "updated_at"])
    RfqInvitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.WITHDRAWN)
    audit_record(tenant=rfq.tenant, actor=principal, action="quote.withdrawn", target=quote, data={})
    _settle_if_everyone_answered(rfq)
    return quote
