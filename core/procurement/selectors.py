"""Reads of procurement data, by who is asking: staff see the tenant's, a supplier only its own."""

from __future__ import annotations

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_group

from core.access.registry import Can, may
from core.exceptions import NotFound
from core.procurement.models import PurchaseOrder, Quote, Rfq, RfqInvitation
from core.procurement.rfqs import RFQ_VIEW
from tenants.principals import Principal


def rfq_list(*, principal: Principal) -> QuerySet[Rfq]:
    """Staff see every RFQ of the tenant; a supplier those it was invited to (its group's grant)."""
    rfqs = Rfq.objects.filter(tenant=principal.tenant)
    if may(principal, Can.ANSWER_RFQS):
        rfqs = get_objects_for_group(principal.partner.group, RFQ_VIEW, klass=rfqs, accept_global_perms=False)
    elif not principal.is_staff_member:
        return Rfq.objects.none()
    return rfqs.select_related("sku", "warehouse", "awarded_quote")


def rfq_get(*, principal: Principal, rfq_id: object) -> Rfq:
    rfq = rfq_list(principal=principal).filter(pk=rfq_id).first()
    if rfq is None:
        raise NotFound
    return rfq


def invitation_of(*, rfq: Rfq, principal: Principal) -> RfqInvitation | None:
    return RfqInvitation.objects.filter(rfq=rfq, supplier=principal.partner).first()


def rfq_invitations(*, rfq: Rfq) -> QuerySet[RfqInvitation]:
    return RfqInvitation.objects.filter(rfq=rfq).select_related("supplier").order_by("round", "position_in_ranking")


def quote_list(*, rfq: Rfq, principal: Principal) -> QuerySet[Quote]:
    """Every quote of the RFQ for staff; a supplier sees its own revisions only."""
    quotes = Quote.objects.filter(rfq=rfq).select_related("supplier").order_by("created_at", "id")
    if not principal.is_staff_member:
        quotes = quotes.filter(supplier=principal.partner)
    return quotes


def quote_get(*, rfq: Rfq, principal: Principal, quote_id: object) -> Quote:
    quote = quote_list(rfq=rfq, principal=principal).filter(pk=quote_id).first()
    if quote is None:
        raise NotFound
    return quote


def purchase_order_list(*, principal: Principal) -> QuerySet[PurchaseOrder]:
    """Staff see the tenant's purchase orders; a supplier its own; anyone else none."""
    orders = PurchaseOrder.objects.filter(tenant=principal.tenant).select_related(
        "position__sku", "position__warehouse"
    )
    if may(principal, Can.ANSWER_RFQS):
        return orders.filter(supplier=principal.partner)
    return orders if principal.is_staff_member else orders.none()


def purchase_order_get(*, principal: Principal, order_id: object) -> PurchaseOrder:
    order = purchase_order_list(principal=principal).filter(pk=order_id).first()
    if order is None:
        raise NotFound
    return order


def purchase_order_of(*, rfq: Rfq) -> PurchaseOrder | None:
    return PurchaseOrder.objects.filter(rfq=rfq).first()


def rfq_awards_sql(*, tenant: str) -> str:
    """SQL answering ``alert_id, position_id, kind, at`` of every awarded RFQ of the tenant ``tenant``
    (a placeholder): the response the quality app counts as ``rfq_awarded``, at the award's time."""
    return f"""
    SELECT r.alert_id, r.position_id, 'rfq_awarded'::text AS kind, r.awarded_at AS at
    FROM {Rfq._meta.db_table} r
    WHERE r.tenant_id = {tenant} AND r.awarded_at IS NOT NULL"""  # noqa: S608 - a table name and the caller's SQL
