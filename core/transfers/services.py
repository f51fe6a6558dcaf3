"""Transfer requests through their life: requested -> approved -> shipped -> received, or rejected,
or cancelled. Every step locks the request, then the positions it touches in id order, writes its
transfer lines (and the stock ledger's transfer_out / transfer_in where stock moves) and an outbox
event, in one transaction.

What a source can spare (docs/transfers.md, Requests): available - safety stock, the safety stock being the
one the stock-out rule's policy uses for the SKU (service level or cover), from its latest
reading. Approval reserves at the source; reserved never exceeds on hand (a database constraint),
and ingestion refuses a sale that would take stock below what is reserved, so no unit is promised
twice and available never goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.access import registry as access
from core.access.scope import partner_scope
from core.access.views import event_payloads, spare_refusal
from core.alerts.models import LIVE, Alert, IndicatorReading, RuleCode
from core.alerts.policies import PolicyBook
from core.alerts.triggers import positions_mark_dirty
from core.base_models import short_reference
from core.exceptions import Conflict
from core.inventory.ingestion import BatchRejected, movement_rows_parse, movements_ingest
from core.inventory.models import Movement, Position, Sku, Warehouse
from core.retries import atomic_retried
from core.transfers.events import (
    TRANSFER_APPROVED,
    TRANSFER_CANCELLED,
    TRANSFER_RECEIVED,
    TRANSFER_REJECTED,
    TRANSFER_REQUESTED,
    TRANSFER_SHIPPED,
)
from core.transfers.models import (
    Approval,
    LineKind,
    TransferLane,
    TransferLine,
    TransferPolicy,
    TransferRequest,
    TransferStatus,
)
from core.webhooks.events import EventType
from core.webhooks.outbox import Event, outbox_emit
from tenants.models import Tenant
from tenants.principals import Principal, actor_name
from tenants.services import audit_record

LEDGER_SOURCE = "transfers"  # the stock ledger's source of the lines transfers write
SOURCE_RULES = (RuleCode.OVERSTOCK, RuleCode.SLOW_MOVING)  # alerts that say a position has stock to give


def policy_for(tenant: Tenant | object) -> TransferPolicy:
    policy, _ = TransferPolicy.objects.get_or_create(tenant_id=getattr(tenant, "pk", tenant))
    return policy


@dataclass(frozen=True)
class Spare:
    available: int
    safety_stock: float
    method: str

    @property
    def units(self) -> int:
        return max(0, int(self.available - self.safety_stock))


def spare_of(position: Position, book: PolicyBook | None = None) -> Spare:
    """What the position can give away now: available less the policy's safety stock (``book``: the
    tenant's policies when the caller has them loaded already)."""
    reading = IndicatorReading.objects.filter(position_id=position.pk).first()
    return spare_with(position, reading, book or PolicyBook(position.tenant))


def spare_with(position: Position, reading: IndicatorReading | None, book: PolicyBook) -> Spare:
    """``spare_of`` with the position's reading and the tenant's policies at hand (for many positions
    read in one query)."""
    sku = position.sku
    safety, method = book.safety_stock(
        sku_id=sku.pk,
        category_id=sku.category_id,
        velocity_class=sku.velocity_class,
        cover=reading.safety_stock_cover if reading is not None else 0.0,
        service=reading.safety_stock_service if reading is not None else 0.0,
        forecast=reading.safety_stock_forecast if reading is not None else None,
    )
    return Spare(available=position.on_hand - position.reserved, safety_stock=round(safety, 2), method=method)


def _line(transfer: TransferRequest, kind: str, quantity: int, actor: Principal | str, **extra: object) -> None:
    TransferLine.objects.create(
        tenant_id=transfer.tenant_id,
        transfer=transfer,
        kind=kind,
        quantity=quantity,
        actor=actor_name(actor),
        created_at=timezone.now(),
        **extra,
    )


def _announce(transfer: TransferRequest, event_type: EventType, **data: object) -> None:
    """``event_type`` to the requester's endpoints and the tenant's own, never to other partners."""
    data = {
        "transfer_id": str(transfer.pk),
        "reference": transfer.reference,
        "status": transfer.status,
        "sku": transfer.sku.code,
        "source": transfer.source.code,
        "destination": transfer.destination.code if transfer.destination_id else None,
        "destination_location": transfer.destination_location or None,
        "quantity": transfer.quantity,
        **data,
    }
    outbox_emit(
        [
            Event(
                tenant_id=transfer.tenant_id,
                type=event_type.name,
                data=data,
                partner_payloads=event_payloads(event_type.name, data),
                sku_id=transfer.sku_id,
                warehouse_id=transfer.source_id,
                recipient_id=transfer.requester_id,
                staff_only=transfer.requester_id is None,
            )
        ]
    )


def _visible_warehouse(principal: Principal, code: str, field: str) -> Warehouse:
    """The warehouse by code if the principal may see it; the same error for unknown and hidden."""
    warehouses = Warehouse.objects.filter(tenant=principal.tenant, code=code)
    scope = partner_scope(principal.partner)
    if scope.warehouses is not None:
        warehouses = warehouses.filter(id__in=scope.warehouses)
    warehouse = warehouses.first()
    if warehouse is None:
        raise ValidationError({field: f"No warehouse {code!r} that you can see."})
    return warehouse


def _locked_position(sku: Sku, warehouse: Warehouse) -> Position:
    position, _ = Position.objects.get_or_create(tenant_id=sku.tenant_id, sku=sku, warehouse=warehouse)
    return (
        Position.objects.select_for_update(no_key=True, of=("self",))
        .select_related("sku", "tenant")
        .get(pk=position.pk)
    )


@atomic_retried
def transfer_request_create(
    *,
    principal: Principal,
    tenant: Tenant,
    sku: str,
    source: str,
    quantity: int,
    destination: str | None = None,
    destination_location: str = "",
    needed_by: date | None = None,
    note: str = "",
    recommendation: object = None,
    approval: str | None = None,
    book: PolicyBook | None = None,
) -> TransferRequest:
    """A request to move ``quantity`` of a SKU out of a source warehouse the requester can see.

    ``approval`` set (a plan's move, an accepted proposal) approves it in the same transaction;
    otherwise the tenant's auto-approval policy may.
    """
    errors: dict[str, str] = {}
    if bool(destination) == bool(destination_location):
        errors["destination"] = "Name a destination warehouse or a destination_location, one of the two."
    sku_row = Sku.objects.filter(tenant=tenant, code=sku).first()
    if sku_row is None:
        errors["sku"] = f"No SKU {sku!r} in this tenant."
    if errors:
        raise ValidationError(errors)
    source_row = _visible_warehouse(principal, source, "source")
    destination_row = _visible_warehouse(principal, destination, "destination") if destination else None
    if destination_row is not None and destination_row.pk == source_row.pk:
        raise ValidationError({"destination": "The destination is the source."})
    position = _locked_position(sku_row, source_row)
    spare = spare_of(position, book)
    if quantity > spare.units:
        raise ValidationError({"quantity": _spare_refusal(principal, position, quantity, spare)})
    transfer = TransferRequest(
        tenant=tenant,
        sku=sku_row,
        source=source_row,
        source_position=position,
        destination=destination_row,
        destination_location=destination_location,
        quantity=quantity,
        needed_by=needed_by,
        note=note,
        requester=principal.partner if access.may(principal, access.Can.FILE_TRANSFERS) else None,
        requested_by=principal.describe(),
        recommendation=recommendation,
    )
    transfer.reference = short_reference("TR", transfer.pk)
    transfer.save()
    _line(transfer, LineKind.REQUESTED, 0, transfer.requested_by)
    _announce(transfer, TRANSFER_REQUESTED)
    audit_record(
        tenant=tenant,
        actor=transfer.requested_by,
        action="transfer.requested",
        target=transfer,
        data={"quantity": quantity},
    )
    # The position is locked and its spare just read: approving now reads neither again.
    if approval is not None:
        return _approve(transfer, principal, approval, note="", spare=spare)
    why = _auto_approvable(transfer)
    if why:
        return _approve(transfer, "policy", Approval.POLICY, note=why, spare=spare)
    return transfer


def _spare_refusal(principal: Principal, position: Position, quantity: int, spare: Spare) -> str:
    """Why the source cannot give ``quantity``, in what the principal may see of it (the access registry)."""
    caps = access.of(principal, access.level_of(principal, warehouse_id=position.warehouse_id))
    band = None
    if caps.refusal == "band":
        band = access.stock_band(position_id=position.pk, low_cover_days=policy_for(position.tenant_id).low_cover_days)
    return spare_refusal(
        caps,
        source=position.warehouse.code,
        sku=position.sku.code,
        quantity=quantity,
        spare_units=spare.units,
        available=spare.available,
        safety_stock=spare.safety_stock,
        method=spare.method,
        band=band,
    )


def _auto_approvable(transfer: TransferRequest) -> str:
    """Why the tenant's policy approves this request on its own, or '' if it does not."""
    policy = policy_for(transfer.tenant_id)
    limit = policy.auto_approve_max_quantity
    if limit is None or transfer.quantity > limit:
        return ""
    if policy.auto_approve_requires_overstock:
        idle = Alert.objects.filter(
            LIVE,
            tenant_id=transfer.tenant_id,
            position_id=transfer.source_position_id,
            rule__in=SOURCE_RULES,
        ).exists()
        if not idle:
            return ""
        return f"at most {limit} units from a source with an overstock alert"
    return f"at most {limit} units"


def _locked(transfer: TransferRequest, allowed: tuple[str, ...], verb: str) -> TransferRequest:
    locked = (
        TransferRequest.objects.select_for_update(of=("self",))
        .select_related("sku", "source", "destination", "tenant")
        .get(pk=transfer.pk)
    )
    if locked.status not in allowed:
        raise Conflict(
            f"Transfer {locked.reference} is {locked.status}; only one that is {' or '.join(allowed)} can be {verb}."
        )
    return locked


def _approve(
    transfer: TransferRequest, actor: Principal | str, approval: str, note: str, spare: Spare | None = None
) -> TransferRequest:
    """Reserve at the source. A caller that holds the position's lock and has just read what it
    can spare passes ``spare``; otherwise the position is locked and read here."""
    if spare is None:
        position = (
            Position.objects.select_for_update(no_key=True, of=("self",))
            .select_related("sku", "tenant")
            .get(pk=transfer.source_position_id)
        )
        spare = spare_of(position)
    position_id = transfer.source_position_id
    if transfer.quantity > spare.units:
        raise Conflict(
            f"{transfer.source.code} can spare {spare.units} units now (available {spare.available} less safety "
            f"stock {spare.safety_stock:g}); {transfer.reference} asks {transfer.quantity}. Reject it or wait."
        )
    Position.objects.filter(pk=position_id).update(reserved=F("reserved") + transfer.quantity)
    transfer.status, transfer.approval = TransferStatus.APPROVED, approval
    transfer.decided_by, transfer.decided_at, transfer.decision_note = actor_name(actor), timezone.now(), note
    transfer.save(update_fields=["status", "approval", "decided_by", "decided_at", "decision_note", "updated_at"])
    _line(transfer, LineKind.RESERVED, transfer.quantity, actor, position_id=position_id)
    positions_mark_dirty(tenant=transfer.tenant, where=Q(pk=position_id) | _destination(transfer))
    _announce(transfer, TRANSFER_APPROVED, approval=approval)
    audit_record(
        tenant=transfer.tenant,
        actor=actor,
        action="transfer.approved",
        target=transfer,
        data={"approval": approval, "note": note},
    )
    return transfer


def _destination(transfer: TransferRequest) -> Q:
    """The destination's position, whose approved inbound (and so its forward days of cover) the
    transfer changes; nothing for a transfer leaving the network."""
    if not transfer.destination_id:
        return Q(pk__in=[])
    return Q(sku_id=transfer.sku_id, warehouse_id=transfer.destination_id)


def _staff(actor: Principal) -> None:
    if not actor.is_staff_member and not access.may(actor, access.Can.PUSH_INVENTORY):
        raise PermissionDenied("Only the brand's staff or its ERP may do this.")


@atomic_retried
def transfer_approve(*, transfer: TransferRequest, actor: Principal, note: str = "") -> TransferRequest:
    """Reserve the quantity at the source, if the source can still spare it (else 409)."""
    if not actor.is_staff_member:
        raise PermissionDenied("Only the brand's planners approve transfers.")
    return _approve(_locked(transfer, (TransferStatus.REQUESTED,), "approved"), actor, Approval.PERSON, note)


@transaction.atomic
def transfer_reject(*, transfer: TransferRequest, actor: Principal, note: str = "") -> TransferRequest:
    if not actor.is_staff_member:
        raise PermissionDenied("Only the brand's planners reject transfers.")
    transfer = _locked(transfer, (TransferStatus.REQUESTED,), "rejected")
    transfer.status, transfer.decided_by, transfer.decided_at = (
        TransferStatus.REJECTED,
        actor.describe(),
        timezone.now(),
    )
    transfer.decision_note = note
    transfer.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    _line(transfer, LineKind.REJECTED, 0, actor)
    _announce(transfer, TRANSFER_REJECTED, note=note)
    audit_record(tenant=transfer.tenant, actor=actor, action="transfer.rejected", target=transfer, data={"note": note})
    return transfer


@atomic_retried
def transfer_cancel(*, transfer: TransferRequest, actor: Principal, note: str = "") -> TransferRequest:
    """The requester or the brand calls it off before it ships; an approval's reservation is released."""
    transfer = _locked(transfer, (TransferStatus.REQUESTED, TransferStatus.APPROVED), "cancelled")
    if actor.partner is not None and actor.partner.pk != transfer.requester_id:
        raise PermissionDenied("A partner cancels only its own requests.")
    if transfer.status == TransferStatus.APPROVED:
        Position.objects.select_for_update(no_key=True, of=("self",)).get(pk=transfer.source_position_id)
        Position.objects.filter(pk=transfer.source_position_id).update(reserved=F("reserved") - transfer.quantity)
        _line(transfer, LineKind.RELEASED, -transfer.quantity, actor, position_id=transfer.source_position_id)
        positions_mark_dirty(tenant=transfer.tenant, where=Q(pk=transfer.source_position_id) | _destination(transfer))
    transfer.status, transfer.cancelled_at, transfer.decision_note = TransferStatus.CANCELLED, timezone.now(), note
    transfer.save(update_fields=["status", "cancelled_at", "decision_note", "updated_at"])
    _announce(transfer, TRANSFER_CANCELLED, note=note)
    audit_record(tenant=transfer.tenant, actor=actor, action="transfer.cancelled", target=transfer, data={"note": note})
    return transfer


def _ledger(transfer: TransferRequest, kind: str, warehouse: Warehouse, suffix: str) -> Movement:
    """One line in the stock ledger through ingestion, so lots, daily facts and checks follow."""
    columns, errors = movement_rows_parse(
        [
            {
                "kind": kind,
                "sku": transfer.sku.code,
                "warehouse": warehouse.code,
                "quantity": transfer.quantity,
                "occurred_at": timezone.now().isoformat(),
                "external_ref": f"{transfer.reference}:{suffix}",
                "order_ref": transfer.reference,
            }
        ]
    )
    if errors:
        raise ValidationError({"transfer": [item["message"] for item in errors.sorted()]})
    try:
        movements_ingest(tenant=transfer.tenant, source=LEDGER_SOURCE, columns=columns)
    except BatchRejected as rejected:
        reasons = "; ".join(item["message"] for item in rejected.errors.sorted())
        raise Conflict(f"The stock ledger refused {transfer.reference}: {reasons}") from None
    return Movement.objects.get(
        tenant_id=transfer.tenant_id, source=LEDGER_SOURCE, external_ref=f"{transfer.reference}:{suffix}"
    )


@atomic_retried
def transfer_ship(*, transfer: TransferRequest, actor: Principal) -> TransferRequest:
    """The goods leave: the reservation becomes a transfer_out, and in transit at the destination."""
    _staff(actor)
    transfer = _locked(transfer, (TransferStatus.APPROVED,), "shipped")
    destination = None
    if transfer.destination_id:
        destination, _ = Position.objects.get_or_create(
            tenant_id=transfer.tenant_id, sku=transfer.sku, warehouse=transfer.destination
        )
    # Both ends locked in id order: two transfers between the same warehouses, either way, queue.
    ids = sorted(p for p in (transfer.source_position_id, getattr(destination, "pk", None)) if p)
    list(
        Position.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk")
    )
    Position.objects.filter(pk=transfer.source_position_id).update(reserved=F("reserved") - transfer.quantity)
    _line(transfer, LineKind.RELEASED, -transfer.quantity, actor, position_id=transfer.source_position_id)
    out = _ledger(transfer, "transfer_out", transfer.source, "out")
    _line(
        transfer, LineKind.SHIPPED_OUT, -transfer.quantity, actor, position_id=transfer.source_position_id, movement=out
    )
    if destination is not None:
        Position.objects.filter(pk=destination.pk).update(in_transit=F("in_transit") + transfer.quantity)
        _line(transfer, LineKind.IN_TRANSIT, transfer.quantity, actor, position_id=destination.pk)
    transfer.status, transfer.shipped_at = TransferStatus.SHIPPED, timezone.now()
    transfer.save(update_fields=["status", "shipped_at", "updated_at"])
    _announce(transfer, TRANSFER_SHIPPED)
    audit_record(tenant=transfer.tenant, actor=actor, action="transfer.shipped", target=transfer, data={})
    return transfer


@atomic_retried
def transfer_receive(*, transfer: TransferRequest, actor: Principal) -> TransferRequest:
    """The goods land: in transit becomes a transfer_in at the destination (or leaves the network)."""
    _staff(actor)
    transfer = _locked(transfer, (TransferStatus.SHIPPED,), "received")
    if transfer.destination_id:
        destination = _locked_position(transfer.sku, transfer.destination)
        Position.objects.filter(pk=destination.pk).update(in_transit=F("in_transit") - transfer.quantity)
        _line(transfer, LineKind.IN_TRANSIT, -transfer.quantity, actor, position_id=destination.pk)
        landed = _ledger(transfer, "transfer_in", transfer.destination, "in")
        _line(transfer, LineKind.RECEIVED_IN, transfer.quantity, actor, position_id=destination.pk, movement=landed)
    else:
        _line(transfer, LineKind.DELIVERED, transfer.quantity, actor)
    transfer.status, transfer.received_at = TransferStatus.RECEIVED, timezone.now()
    transfer.save(update_fields=["status", "received_at", "updated_at"])
    _announce(transfer, TRANSFER_RECEIVED)
    audit_record(tenant=transfer.tenant, actor=actor, action="transfer.received", target=transfer, data={})
    return transfer


@transaction.atomic
def transfer_policy_update(*, tenant: Tenant, actor: Principal, **values: object) -> TransferPolicy:
    policy = TransferPolicy.objects.select_for_update().get(pk=policy_for(tenant).pk)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.full_clean(exclude=["tenant"])
    policy.save()
    audit_record(
        tenant=tenant,
        actor=actor,
        action="transfer_policy.updated",
        target=policy,
        data={name: str(value) for name, value in values.items()},
    )
    return policy


@transaction.atomic
def transfer_lane_set(
    *, tenant: Tenant, actor: Principal, source: str, destination: str, cost_per_unit_km: object
) -> TransferLane:
    """A lane's own cost per unit and km, created or changed by its two warehouse codes."""
    ends = dict(Warehouse.objects.filter(tenant=tenant, code__in=[source, destination]).values_list("code", "pk"))
    errors = {
        field: f"No warehouse {code!r} in this tenant."
        for field, code in (("source", source), ("destination", destination))
        if code not in ends
    }
    if errors:
        raise ValidationError(errors)
    if source == destination:
        raise ValidationError({"destination": "A lane joins two different warehouses."})
    lane, _ = TransferLane.objects.update_or_create(
        tenant=tenant,
        source_id=ends[source],
        destination_id=ends[destination],
        defaults={"cost_per_unit_km": cost_per_unit_km},
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        action="transfer_lane.set",
        target=lane,
        data={"source": source, "destination": destination, "cost_per_unit_km": str(cost_per_unit_km)},
    )
    return lane


@transaction.atomic
def transfer_lane_delete(*, lane: TransferLane, actor: Principal) -> None:
    audit_record(tenant=actor.tenant, actor=actor, action="transfer_lane.deleted", target=lane, data={})
    lane.delete()
