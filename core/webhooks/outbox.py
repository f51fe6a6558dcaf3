"""Writing domain events to the outbox, in the transaction of the change that caused them.

After the transaction commits, the relay is asked to fan the new events out to endpoints; if the
broker is down at that moment, the beat's relay picks them up later. Nothing is sent from here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from core.bulk_copy import copy_records
from core.task_requests import task_request
from core.webhooks.models import OutboxEvent

RELAY_TASK = "tripline.webhooks.relay"
RELAY_PENDING_KEY = "webhooks:relay"

# The catalog: every type an endpoint may subscribe to, with what its ``data`` carries.
EVENT_TYPES: dict[str, str] = {
    "alert.opened": "alert id, rule, grade, position, SKU and warehouse codes, deviation, recommendation action",
    "alert.escalated": "as alert.opened, with the previous grade",
    "alert.deescalated": "as alert.opened, with the previous grade",
    "alert.resolved": "alert id, rule, position, SKU and warehouse codes, and who resolved it (system or a person)",
    "alert.dismissed": "alert id, rule, position, SKU and warehouse codes, and the reason",
    "evaluation.completed": "to the tenant and its ERP: run id, trigger, positions evaluated and the counts of what "
    "changed",
    "stock.anomaly_flagged": "to the tenant and its ERP: anomaly id, reason, movement reference, SKU and "
    "warehouse codes",
    "rfq.invited": "to the invited supplier: RFQ id and reference, SKU and ship-to warehouse, quantity, needed-by "
    "and respond-by (never who else was invited)",
    "rfq.quoted": "to the tenant: RFQ id, the supplier, the quote's revision, price, quantity and lead time",
    "rfq.awarded": "to the winner and the tenant: RFQ id, the quote, the purchase order reference, expected day",
    "rfq.closed": "to each other invitee and the tenant: RFQ id and why it closed for them (awarded elsewhere, "
    "cancelled, no award)",
    "rfq.unanswered": "to the tenant: RFQ id, rounds tried, and why no quote could be awarded",
    "recommendation.proposed": "to the tenant: recommendation id, kind (markdown, clearance, transfer), alert id, "
    "SKU and warehouse codes, the summary",
    **{
        f"transfer.{step}": f"to the requesting distributor and the tenant: the transfer {step}, with its id and "
        "reference, status, SKU, source, destination, quantity"
        for step in ("requested", "approved", "rejected", "shipped", "received", "cancelled")
    },
    "transfer_plan.completed": "to the tenant: plan id, moves, units, cost and what demand it leaves short",
    "webhook.ping": "the endpoint id: sent by webhook-endpoints/{id}/test/",
}


@dataclass
class Event:
    tenant_id: object
    type: str
    data: dict
    sku_id: object = None
    warehouse_id: object = None
    recipient_id: object = None  # a partner: only it (and the tenant's own and ERP endpoints) hears of it
    staff_only: bool = False  # only the tenant's own (and its ERP's) endpoints
    # Partner kind -> the payload its endpoints get (the emitting domain shapes it through the access
    # registry); a kind left out hears nothing, so an event nobody shaped reaches the tenant's own only.
    partner_payloads: dict[str, dict] | None = None
    created_at: datetime = field(default_factory=timezone.now)


def event_id_new() -> str:
    return "msg_" + uuid.uuid4().hex


# The same id made by PostgreSQL, for events written by INSERT ... SELECT.
EVENT_ID_SQL = "'msg_' || replace(gen_random_uuid()::text, '-', '')"


def outbox_emit(events: list[Event]) -> int:
    """Write the events in the current transaction (one COPY); the relay runs once it commits."""
    if not events:
        return 0
    unknown = {event.type for event in events} - EVENT_TYPES.keys()
    if unknown:
        raise ValueError(f"Not in the event catalog: {sorted(unknown)}")
    rows = [
        {
            "tenant_id": event.tenant_id,
            "event_id": event_id_new(),
            "type": event.type,
            "data": event.data,
            "partner_payloads": event.partner_payloads or {},
            "sku_id": event.sku_id,
            "warehouse_id": event.warehouse_id,
            "recipient_id": event.recipient_id,
            "staff_only": event.staff_only,
            "created_at": event.created_at,
        }
        for event in events
    ]
    with connection.cursor() as cursor:
        copy_records(cursor, OutboxEvent, rows)
    outbox_relay_after_commit()
    return len(events)


def outbox_relay_after_commit() -> None:
    """Have the relay run once the current transaction commits (after writing outbox rows)."""
    transaction.on_commit(relay_request, robust=True)


def relay_request() -> None:
    """Ask for a relay pass soon; one per burst of commits (the beat relays what this misses)."""
    task_request(RELAY_TASK, countdown=0.05, once_per=(RELAY_PENDING_KEY, 2))
