"""Writing domain events to the outbox, in the transaction of the change that caused them.

After the transaction commits, the relay is asked to fan the new events out to endpoints; if the
broker is down at that moment, the beat's relay picks them up later. Nothing is sent from here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from core.bulk_copy import copy_records
from core.task_requests import task_request
from core.webhooks.events import EVENT_TYPES, Audience, EventType
from core.webhooks.models import OutboxEvent
from tenants.models import PartnerKind

RELAY_TASK = "tripline.webhooks.relay"
RELAY_PENDING_KEY = "webhooks:relay"


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
    unknown = EVENT_TYPES.unknown(event.type for event in events)
    if unknown:
        raise ValueError(f"Not in the event registry: {sorted(unknown)}")
    for event in events:
        _audience_check(event)
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


def _audience_check(event: Event) -> None:
    """An event must not reach further than its type's audience says."""
    audience = EVENT_TYPES[event.type].audience
    if audience == Audience.TENANT and not event.staff_only:
        beyond = set(event.partner_payloads or {}) - {PartnerKind.ERP}
        if beyond:
            raise ValueError(f"{event.type} is heard by the tenant and its ERP only, not {sorted(beyond)}")
    if audience == Audience.STAFF and (not event.staff_only or event.partner_payloads):
        raise ValueError(f"{event.type} is heard by the tenant's own endpoints only: staff_only, no partner payloads")
    if audience == Audience.ADDRESSED and event.recipient_id is None and not event.staff_only:
        raise ValueError(f"{event.type} is addressed: give its recipient, or make it staff_only")


# What the SELECT given to ``outbox_insert_select`` answers, in this order.
OUTBOX_SELECT_COLUMNS = (
    "tenant_id",
    "type",
    "data",
    "partner_payloads",
    "sku_id",
    "warehouse_id",
    "recipient_id",
    "staff_only",
    "created_at",
)


def outbox_insert_select(cursor, *, select: str, params: dict, types: Iterable[EventType]) -> int:  # noqa: ANN001
    """Write the events a SELECT answers, in one statement; answer how many. The relay runs once the
    transaction commits.

    ``select`` answers the columns of ``OUTBOX_SELECT_COLUMNS``, by position (the event id is made
    here), in the order the events are to be relayed. Its ``type`` may only be one of ``types``, each declared in
    the event registry: a row of another type is written with no type, which the column refuses,
    so the statement fails as a whole rather than writing an event nobody declared.
    """
    names = sorted({event_type.name for event_type in types})
    unknown = EVENT_TYPES.unknown(names)
    if unknown or not names:
        raise ValueError(f"Not in the event registry: {sorted(unknown) or 'no types given'}")
    if "outbox_types" in params:
        raise ValueError("outbox_types is the statement's own parameter")
    columns = ", ".join(OUTBOX_SELECT_COLUMNS)
    chosen = ", ".join(
        "CASE WHEN new.type = ANY(%(outbox_types)s) THEN new.type END" if column == "type" else f"new.{column}"
        for column in OUTBOX_SELECT_COLUMNS
    )
    cursor.execute(
        f"""
        INSERT INTO {OutboxEvent._meta.db_table} (event_id, {columns})
        SELECT {EVENT_ID_SQL}, {chosen} FROM ({select}) AS new ({columns})
        """,  # noqa: S608 - the table, columns and the caller's SELECT are code; values go as parameters
        {**params, "outbox_types": names},
    )
    if cursor.rowcount:
        outbox_relay_after_commit()
    return cursor.rowcount


def outbox_relay_after_commit() -> None:
    """Have the relay run once the current transaction commits (after writing outbox rows)."""
    transaction.on_commit(relay_request, robust=True)


def relay_request() -> None:
    """Ask for a relay pass now; one per burst of commits until it starts (the beat relays what this
    misses). No countdown: it was 50 ms of every event's commit-to-receipt time, and a pass that
    finds little to do costs a few statements."""
    task_request(RELAY_TASK, once_per=(RELAY_PENDING_KEY, 2))
