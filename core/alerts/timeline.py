"""The one writer of alert timelines: every change to an alert, by the engine, a person or a
playbook, lands as an ``AlertEvent`` row through ``timeline_write``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from psycopg.types.json import Jsonb

from core.alerts.models import AlertEvent
from core.bulk_copy import copy_rows_binary

# The columns written, in the order of a row below. Ids are drawn from the table's sequence first,
# so the writer knows the rows it wrote without reading them back (COPY returns nothing).
_COLUMNS = ("id", "tenant_id", "alert_id", "kind", "from_grade", "to_grade", "actor", "note", "data", "created_at")
_EMPTY = Jsonb("{}", dumps=str)  # most entries carry no data: one value, serialized once


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


def timeline_write(entries: Sequence[dict]) -> list[int]:
    """Append the entries (``timeline_entry`` rows) to their alerts' timelines, in their order, with
    one COPY: one entry or the tens of thousands a first evaluation opens. Answers the rows' ids, in
    the entries' order."""
    if not entries:
        return []
    table = AlertEvent._meta.db_table
    fields = {field.column: field for field in AlertEvent._meta.concrete_fields}
    types = {column: fields[column].db_type(connection) for column in _COLUMNS}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(entries)]
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    rows = (
        (
            event_id,
            _uuid(entry["tenant_id"]),
            _uuid(entry["alert_id"]),
            entry["kind"],
            entry["from_grade"],
            entry["to_grade"],
            entry["actor"],
            entry["note"],
            Jsonb(entry["data"]) if entry["data"] else _EMPTY,
            entry["created_at"],
        )
        for event_id, entry in zip(ids, entries, strict=True)
    )
    with connection.cursor() as cursor:
        copy_rows_binary(cursor, table, types, rows)
    return ids


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
