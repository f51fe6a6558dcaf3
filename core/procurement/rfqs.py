"""Opening RFQs for the alerts of the stock-out direction, inviting backup suppliers, and cancelling.

Which rules call for stock is their RuleSpec's direction (``STOCK_OUT``): the stock-out risk and the
promotion shortfall. Each reads its own policy's RFQ settings (grade, award rule, hours, invitations).

The replenishment rule (docs/procurement.md): a stock-out alert's RFQ asks for enough to bring the
position up to its reorder point plus cover for the lead time, ``reorder point + ads_28 x lead time -
available - in transit - approved inbound`` (under the forecast safety-stock method, the forecast's
demand over the lead time instead of ads_28 x lead time), needed by the projected stock-out day: the
forecast's where the position has one, else ``today + available / ads_28``. A promotion shortfall's
RFQ asks for the shortfall, needed by the promotion's first day. Each supplier is asked for the
quantity rounded up to its minimum order quantity.
"""

from __future__ import annotations

import logging
import math
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, OuterRef, When
from django.utils import timezone
from guardian.shortcuts import assign_perm

from core import telemetry
from core.access.views import event_payloads
from core.alerts.catalog import STOCK_OUT, Effective
from core.alerts.models import (
    GRADE_RANK,
    LIVE,
    LIVE_STATUSES,
    Alert,
    AlertEvent,
    AlertEventKind,
    AlertPolicy,
)
from core.alerts.policies import PolicyBook
from core.alerts.rules import rules_of_direction
from core.alerts.timeline import timeline_entry, timeline_write
from core.base_models import short_reference
from core.procurement.events import RFQ_INVITED
from core.procurement.models import OPEN_RFQ_STATUSES, InvitationStatus, ProcurementLimits, Rfq, RfqInvitation
from core.procurement.ranking import Candidate, candidates_rank
from core.supply.models import SupplierOffer
from core.task_requests import task_request
from core.webhooks.outbox import Event, outbox_emit
from tenants.models import Tenant
from tenants.principals import SYSTEM_ACTOR
from tenants.services import audit_record

logger = logging.getLogger("tripline.procurement")

RFQ_VIEW = "procurement.view_rfq"
SETTLE_TASK = "tripline.procurement.settle"
HELD_NOTE_EVERY = timedelta(hours=1)


def limits_for(tenant: Tenant | object, *, lock: bool = False) -> ProcurementLimits:
    """The tenant's limits (defaults until an admin sets them); locked, it serializes RFQ opening."""
    tenant_id = getattr(tenant, "pk", tenant)
    limits, _ = ProcurementLimits.objects.get_or_create(tenant_id=tenant_id)
    if lock:
        limits = ProcurementLimits.objects.select_for_update().get(pk=limits.pk)
    return limits


def response_policy(alert: Alert, books: dict | None = None) -> Effective:
    """The settings of the alert's rule for its SKU (its RFQ grade and terms); ``books`` keeps one
    PolicyBook per tenant across a batch of alerts instead of loading the tenant's policies for each."""
    books = {} if books is None else books
    if alert.tenant_id not in books:
        books[alert.tenant_id] = PolicyBook(alert.tenant)
    sku = alert.sku
    return books[alert.tenant_id].effective(
        alert.rule, sku_id=sku.pk, category_id=sku.category_id, velocity_class=sku.velocity_class
    )


def replenishment(inputs: dict, today: date) -> tuple[int, date, dict]:
    """(quantity, needed-by day, the figures both came from) for the inputs of a stock-out-direction alert.

    A promotion shortfall (its inputs state the ``shortfall``) asks for it by the promotion's first day.
    Otherwise, under the forecast safety-stock method the demand over the lead time is the forecast's,
    and the needed-by day is the forecast's projected stock-out day; else both come from ads_28.
    """
    if "shortfall" in inputs:
        return _shortfall_replenishment(inputs, today)
    ads, available = float(inputs["ads_28"]), int(inputs["available"])
    lead_time = int(inputs["lead_time_days"])
    reorder_point = float(inputs["reorder_point"])
    in_transit, inbound = int(inputs.get("in_transit") or 0), int(inputs.get("inbound_approved") or 0)
    forecast = inputs.get("safety_stock_method") == "forecast" and inputs.get("lead_time_demand") is not None
    lead_time_demand = float(inputs["lead_time_demand"]) if forecast else ads * lead_time
    target = reorder_point + lead_time_demand
    quantity = math.ceil(target - available - in_transit - inbound)
    runs_out = inputs.get("projected_stock_out_on")
    if inputs.get("days_of_cover_source") == "forecast":
        days_left = (date.fromisoformat(runs_out) - today).days if runs_out else lead_time
        days_left = max(days_left, 0)
    else:
        days_left = math.floor(max(available, 0) / ads) if ads > 0 else lead_time
    needed_by = today + timedelta(days=days_left)
    basis = {
        "available": available,
        "in_transit": in_transit,
        "inbound_approved": inbound,
        "ads_28": ads,
        "lead_time_days": lead_time,
        "lead_time_demand": round(lead_time_demand, 2),
        "reorder_point": round(reorder_point, 2),
        "order_up_to": round(target, 2),
        "days_until_stock_out": days_left,
        "rule": (
            "quantity = reorder point + forecast demand over the lead time - available - in transit - approved "
            "inbound; needed by = the forecast's projected stock-out day"
            if forecast
            else "quantity = reorder point + ads_28 x lead time - available - in transit - approved inbound; "
            + (
                "needed by = the forecast's projected stock-out day"
                if inputs.get("days_of_cover_source") == "forecast"
                else "needed by = today + available / ads_28"
            )
        ),
    }
    return quantity, needed_by, basis


def _shortfall_replenishment(inputs: dict, today: date) -> tuple[int, date, dict]:
    """A promotion shortfall's RFQ: the shortfall, rounded up, needed by the promotion's first day (today
    when it runs already)."""
    quantity = math.ceil(float(inputs["shortfall"]))
    needed_by = max(date.fromisoformat(inputs["promotion_starts_on"]), today)
    basis = {
        "promotion_id": inputs["promotion_id"],
        "promotion_starts_on": inputs["promotion_starts_on"],
        "promotion_ends_on": inputs["promotion_ends_on"],
        "uplift": inputs["uplift"],
        "uplift_source": inputs["uplift_source"],
        "promoted_demand": inputs["promoted_demand"],
        "stock_at_start": inputs["stock_at_start"],
        "available": int(inputs["available"]),
        "in_transit": int(inputs.get("in_transit") or 0),
        "inbound_approved": int(inputs.get("inbound_approved") or 0),
        "lead_time_days": int(inputs["lead_time_days"]),
        "shortfall": inputs["shortfall"],
        "order_by": inputs["order_by"],
        "rule": "quantity = promoted demand over the promotion and the lead time after it - stock held at its start "
        "(available + in transit + approved inbound - projected demand until then); needed by = the promotion's "
        "first day",
    }
    return quantity, needed_by, basis


def rfq_locked(rfq_id: object) -> Rfq | None:
    """The RFQ row locked for a change (not its SKU, warehouse or tenant rows, which it reads)."""
    return (
        Rfq.objects.select_for_update(of=("self",))
        .select_related("sku", "warehouse", "tenant")
        .filter(pk=rfq_id)
        .first()
    )


def everyone_answered(rfq: Rfq) -> bool:
    """Every invitee quoted or withdrew: nothing is left to wait for but the deadline."""
    return not RfqInvitation.objects.filter(rfq=rfq, status=InvitationStatus.INVITED).exists()


def settle_request(rfq_id: object) -> None:
    """Ask a worker to settle the RFQ once this transaction commits (the sweep catches a lost ask)."""
    transaction.on_commit(lambda: task_request(SETTLE_TASK, args=[str(rfq_id)]), robust=True)


def _due(alert: Alert, policy: Effective) -> bool:
    return (
        alert.active
        and alert.direction == STOCK_OUT
        and alert.status in LIVE_STATUSES
        and not (alert.snoozed_until and alert.snoozed_until > timezone.now())
        and GRADE_RANK[alert.grade] >= GRADE_RANK[policy.parameters["rfq_grade"]]
    )


def _timeline(alert: Alert, kind: str, note: str, **data: object) -> None:
    """A system event on the alert's timeline, at its current grade."""
    timeline_write(
        [
            timeline_entry(
                tenant_id=alert.tenant_id,
                alert_id=alert.pk,
                kind=kind,
                actor=SYSTEM_ACTOR,
                at=timezone.now(),
                from_grade=alert.grade,
                to_grade=alert.grade,
                note=note[:500],
                data=data,
            )
        ]
    )


def _hold(alert: Alert, reason: str, **data: object) -> None:
    """Note on the alert's timeline that its response waits, at most once an hour."""
    since = timezone.now() - HELD_NOTE_EVERY
    if AlertEvent.objects.filter(alert=alert, kind=AlertEventKind.RESPONSE_HELD, created_at__gte=since).exists():
        return
    _timeline(alert, AlertEventKind.RESPONSE_HELD, reason, **data)


@transaction.atomic
def rfq_open_for_alert(*, alert_id: object, books: dict | None = None) -> Rfq | None:
    """The RFQ for a stock-out-direction alert at its policy's RFQ grade: the one that exists, a new one, or
    None (not due, or held by the tenant's hourly limit, which the alert's timeline records)."""
    alert = Alert.objects.select_related("sku", "warehouse", "tenant").filter(pk=alert_id).first()
    if alert is None:
        return None
    existing = Rfq.objects.filter(alert=alert).first()
    if existing is not None:
        return existing
    policy = response_policy(alert, books)
    if not _due(alert, policy):
        return None
    limits = limits_for(alert.tenant_id, lock=True)  # serializes openings of this tenant
    alert = Alert.objects.select_for_update(of=("self",)).select_related("sku", "warehouse", "tenant").get(pk=alert.pk)
    existing = Rfq.objects.filter(alert=alert).first()
    if existing is not None or not _due(alert, policy):
        return existing
    open_here = Rfq.objects.filter(
        tenant_id=alert.tenant_id, sku_id=alert.sku_id, warehouse_id=alert.warehouse_id, status__in=OPEN_RFQ_STATUSES
    ).first()
    if open_here is not None:
        return open_here
    hour_ago = timezone.now() - timedelta(hours=1)
    opened = Rfq.objects.filter(tenant_id=alert.tenant_id, created_at__gte=hour_ago).count()
    if opened >= limits.rfqs_per_hour:
        _hold(
            alert,
            f"RFQ held: {opened} RFQs opened in the last hour, the tenant's limit is {limits.rfqs_per_hour}; "
            "it opens when the hour frees up.",
            limit="rfqs_per_hour",
            value=limits.rfqs_per_hour,
        )
        return None

    now = timezone.now()
    today = now.date()
    quantity, needed_by, basis = replenishment(alert.inputs, today)
    if quantity <= 0:
        _hold(
            alert,
            "No RFQ: stock in transit already reaches the order-up-to level.",
            order_up_to=basis.get("order_up_to"),
        )
        return None
    response_hours = float(policy.parameters["rfq_response_hours"])
    rfq = Rfq(
        tenant_id=alert.tenant_id,
        position_id=alert.position_id,
        sku_id=alert.sku_id,
        warehouse_id=alert.warehouse_id,
        alert=alert,
        award_rule=policy.parameters["rfq_award_rule"],
        quantity=quantity,
        needed_by=needed_by,
        respond_by=now + timedelta(hours=response_hours),
        basis={**basis, "invitations_per_round": int(policy.parameters["rfq_invitations"])},
        opened_by=SYSTEM_ACTOR,
    )
    rfq.reference = short_reference("RFQ", rfq.pk)
    try:
        with transaction.atomic():
            rfq.save()
    except IntegrityError:
        # Another worker opened this alert's or this position's RFQ between our check and insert.
        return (
            Rfq.objects.filter(alert=alert).first()
            or Rfq.objects.filter(tenant_id=alert.tenant_id, sku_id=alert.sku_id, warehouse_id=alert.warehouse_id)
            .filter(status__in=OPEN_RFQ_STATUSES)
            .first()
        )
    invited = invitations_send(rfq=rfq, wanted=invitations_per_round(rfq, limits), today=today)
    _timeline(
        alert,
        AlertEventKind.RFQ_OPENED,
        f"{rfq.reference}: {quantity} units needed by {needed_by.isoformat()}, {len(invited)} supplier(s) invited.",
        rfq_id=str(rfq.pk),
        invited=len(invited),
        skipped=len(rfq.skipped),
    )
    audit_record(
        tenant=alert.tenant,
        actor=SYSTEM_ACTOR,
        action="rfq.opened",
        target=rfq,
        data={"alert": str(alert.pk), "quantity": quantity, "invited": len(invited)},
    )
    telemetry.count_on_commit(telemetry.RFQS_OPENED)
    if not invited:
        # Nobody to wait for: settling goes to the next round at once, and from there to the planners.
        settle_request(rfq.pk)
    return rfq


def invitations_per_round(rfq: Rfq, limits: ProcurementLimits) -> int:
    """The round's invitations: the policy's per round, within what the tenant's limit leaves."""
    already = RfqInvitation.objects.filter(rfq=rfq).count()
    return max(0, min(int(rfq.basis.get("invitations_per_round", 5)), limits.invitations_per_rfq - already))


def _offers(rfq: Rfq) -> list[SupplierOffer]:
    invited = RfqInvitation.objects.filter(rfq=rfq).values("supplier_id")
    return list(
        SupplierOffer.objects.filter(tenant_id=rfq.tenant_id, sku_id=rfq.sku_id, rank__gte=2)
        .exclude(supplier_id__in=invited)
        .select_related("supplier__group")
        .order_by("rank", "created_at")
    )


def invitations_send(*, rfq: Rfq, wanted: int, today: date) -> list[RfqInvitation]:
    """Invite the next ``wanted`` backups that can make it; record the ones skipped and why."""
    able, skipped = candidates_rank(offers=_offers(rfq), quantity=rfq.quantity, needed_by=rfq.needed_by, today=today)
    wanted = max(0, wanted)
    chosen: list[Candidate] = able[:wanted]
    left_out = [
        {
            "supplier_id": str(c.offer.supplier_id),
            "supplier": c.offer.supplier.name,
            "reason": f"ranked below the {wanted} invited this round (landed cost {c.landed_unit_cost} a unit, "
            f"reliability {c.offer.reliability})",
        }
        for c in able[wanted:]
    ]
    # The list says why each supplier is not (yet) invited: this round's reasons replace older ones.
    invited_now = {str(c.offer.supplier_id) for c in chosen}
    decided_now = {x["supplier_id"] for x in skipped + left_out} | invited_now
    rfq.skipped = [
        *[s for s in rfq.skipped if s["supplier_id"] not in decided_now],
        *[{**s, "round": rfq.round} for s in skipped + left_out],
    ]
    rfq.save(update_fields=["skipped", "updated_at"])
    invitations = RfqInvitation.objects.bulk_create(
        [
            RfqInvitation(
                tenant_id=rfq.tenant_id,
                rfq=rfq,
                supplier=candidate.offer.supplier,
                offer=candidate.offer,
                round=rfq.round,
                position_in_ranking=number,
                quantity=candidate.quantity,
                landed_unit_cost=candidate.landed_unit_cost,
                reliability=candidate.offer.reliability,
                expected_arrival=candidate.expected_arrival,
            )
            for number, candidate in enumerate(chosen, start=1)
        ]
    )
    for invitation in invitations:
        assign_perm(RFQ_VIEW, invitation.supplier.group, rfq)
    outbox_emit([_invited_event(rfq, invitation) for invitation in invitations])
    ids = [invitation.pk for invitation in invitations]
    transaction.on_commit(lambda: invitation_emails_send(invitation_ids=ids), robust=True)
    return invitations


def _invited_event(rfq: Rfq, invitation: RfqInvitation) -> Event:
    data = {
        "rfq_id": str(rfq.pk),
        "reference": rfq.reference,
        "supplier_id": str(invitation.supplier_id),
        "sku": rfq.sku.code,
        "sku_name": rfq.sku.name,
        "warehouse": rfq.warehouse.code,
        "region": rfq.warehouse.region,
        "quantity": invitation.quantity,
        "needed_by": rfq.needed_by.isoformat(),
        "respond_by": rfq.respond_by.isoformat(),
        "round": invitation.round,
    }
    return Event(
        tenant_id=rfq.tenant_id,
        type=RFQ_INVITED.name,
        data=data,
        partner_payloads=event_payloads(RFQ_INVITED.name, data),
        sku_id=rfq.sku_id,
        warehouse_id=rfq.warehouse_id,
        recipient_id=invitation.supplier_id,
    )


def invitation_emails_send(*, invitation_ids: list) -> int:
    """Email each invitation not emailed yet to its supplier's contact; answer how many went out.

    Runs after the commit that created them: a rolled-back RFQ sends nothing. A failure is kept
    on the invitation (the webhook carries the invitation either way).
    """
    sent = 0
    for invitation in RfqInvitation.objects.filter(pk__in=invitation_ids, emailed_at__isnull=True).select_related(
        "rfq__sku", "rfq__warehouse", "rfq__tenant", "supplier"
    ):
        rfq, supplier = invitation.rfq, invitation.supplier
        if not supplier.contact_email:
            RfqInvitation.objects.filter(pk=invitation.pk).update(email_error="The supplier has no contact email.")
            continue
        subject = f"[{rfq.tenant.name}] {rfq.reference}: quote for {invitation.quantity} x {rfq.sku.code}"
        body = (
            f"{rfq.tenant.name} asks you to quote for {invitation.quantity} units of {rfq.sku.code} "
            f"({rfq.sku.name}), delivered to {rfq.warehouse.code} ({rfq.warehouse.region}) by "
            f"{rfq.needed_by.isoformat()}.\n\nQuote before {rfq.respond_by.isoformat()} with your API key:\n"
            f"POST /api/v1/tenants/{rfq.tenant.slug}/rfqs/{rfq.pk}/quotes/\n"
        )
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [supplier.contact_email])
        except Exception as exc:
            logger.warning("RFQ invitation email to %s failed: %s", supplier.contact_email, exc)
            RfqInvitation.objects.filter(pk=invitation.pk).update(email_error=str(exc)[:500])
            continue
        RfqInvitation.objects.filter(pk=invitation.pk).update(emailed_at=timezone.now(), email_error="")
        sent += 1
    return sent


def rfqs_due_alerts(*, limit: int = 500) -> list:
    """Active stock-out-direction alerts at a grade some policy sends RFQs at, with no RFQ yet and none
    open on their position; red first, oldest first. The per-SKU grade check follows in the service."""
    configured = set(
        AlertPolicy.objects.filter(rule__in=rules_of_direction(STOCK_OUT), parameters__has_key="rfq_grade").values_list(
            "parameters__rfq_grade", flat=True
        )
    )
    lowest = min(GRADE_RANK[grade] for grade in {*configured, "red"} if grade in GRADE_RANK)
    grades = [grade for grade, rank in GRADE_RANK.items() if rank >= lowest]
    open_here = Rfq.objects.filter(
        tenant_id=OuterRef("tenant_id"),
        sku_id=OuterRef("sku_id"),
        warehouse_id=OuterRef("warehouse_id"),
        status__in=OPEN_RFQ_STATUSES,
    )
    return list(
        Alert.objects.filter(LIVE, direction=STOCK_OUT, grade__in=grades)
        .filter(rfqs__isnull=True)
        .exclude(Exists(open_here))
        .order_by(Case(When(grade="red", then=0), default=1), "created_at")
        .values_list("pk", flat=True)[:limit]
    )


def invitation_emails_retry(*, limit: int = 200) -> int:
    """Invitations of open RFQs whose email failed (a mail server down): try once more each sweep."""
    ids = list(
        RfqInvitation.objects.filter(
            emailed_at__isnull=True, rfq__status__in=OPEN_RFQ_STATUSES, supplier__contact_email__gt=""
        ).values_list("pk", flat=True)[:limit]
    )
    return invitation_emails_send(invitation_ids=ids) if ids else 0
