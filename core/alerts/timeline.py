"""The one writer of alert timelines: every change to an alert, by the engine, a person or a
playbook, lands as an ``AlertEvent`` row through ``timeline_write``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from core.alerts.models import AlertEvent
from core.inventory.bulk_copy import copy_records


def timeline_entry(
    *,
    tenant_id: object,
    alert_id: object,
    kind: str,
    actor: str,
    at: datetime,
    from_grade: str = "",
    to_grade: str = "",
    note: str = "",
    data: dict | None = None,
) -> dict:
    """One timeline row, by column, for ``timeline_write``."""
    return {
        "tenant_id": tenant_id,
        "alert_id": alert_id,
        "kind": kind,
        "from_grade": from_grade,
        "to_grade": to_grade,
        "actor": actor,
        "note": note,
        "data": {} if data is None else data,
        "created_at": at,
    }


def timeline_write(entries: Sequence[dict]) -> None:
    """Append the entries (``timeline_entry`` rows) to their alerts' timelines, in their order, with
    one COPY: one entry or the tens of thousands a first evaluation opens."""
    if entries:
        with connection.cursor() as cursor:
            copy_records(cursor, AlertEvent, entries)
