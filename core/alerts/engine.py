"""The evaluation engine: one chunk of positions, read, graded and diffed against alerts in bulk.

Both triggers (the full sweep and the incremental pass) call ``chunk_evaluate``. A chunk is one
transaction under a per-tenant advisory lock, so two passes over the same positions queue
rather than race; its dirty positions are row-locked first, so a push that lands meanwhile
waits and leaves them dirty for the next pass. A re-run over unchanged data writes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from core.alerts.indicators import indicator_rows, reading_derive
from core.alerts.models import GRADE_RANK, Alert, AlertEvent, AlertEventKind, AlertStatus, IndicatorReading, RuleCode
from core.alerts.policies import PolicyBook
from core.alerts.responses import context_load, needs_backups, needs_target, recommend
from core.alerts.rules import EVALUATORS, Trip
from core.inventory.bulk_copy import copy_rows, staging_table_create
from tenants.models import Tenant

_LOCK_NAMESPACE = 7_201_004  # pg_advisory_xact_lock(namespace, hashtext(tenant)): evaluation writes

_READING_COLUMNS = [
    f.column
    for f in IndicatorReading._meta.concrete_fields
    if f.column not in ("tenant_id", "changed_at")  # tenant comes from the chunk, changed_at from now()
]
# Reading dicts name the foreign keys as the columns do (sku_id, warehouse_id, position_id).
_READING_KEYS = list(_READING_COLUMNS)
_READING_TYPES = {
    "position_id": "bigint",
    "sku_id": "uuid",
    "warehouse_id": "uuid",
    "as_of": "date",
    "unit_cost": "numeric(12, 4)",
    "details": "jsonb",
    "stockout_risk": "boolean",
    "overstock": "boolean",
}


def _sql_type(field: object) -> str:
    if field.column in _READING_TYPES:
        return _READING_TYPES[field.column]
    return {
        "BigIntegerField": "bigint",
        "IntegerField": "integer",
        "SmallIntegerField": "smallint",
        "FloatField": "float8",
    }[field.get_internal_type()]


def chunk_evaluate(*, tenant: Tenant, position_ids: list[int], today: date, actor: str) -> Counter:
    """Evaluate these positions of the tenant; answer what changed, by kind."""
    counts: Counter = Counter()
    if not position_ids:
        return counts
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_NAMESPACE, str(tenant.pk)])
        # The indicator statement's cost estimate crosses the JIT threshold, and compiling it costs
        # about a second per chunk, far more than running it: interpret it instead.
        cursor.execute("SET LOCAL jit = off")
        # A chunk's facts (90 days of 5,000 positions) sort and hash in memory rather than on disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            "SELECT id FROM inventory_position WHERE tenant_id = %s AND id = ANY(%s) AND dirty_since IS NOT NULL "
            "ORDER BY id FOR NO KEY UPDATE",
            [tenant.pk, position_ids],
        )
        dirty = [row[0] for row in cursor.fetchall()]
        rows = indicator_rows(cursor, tenant_id=tenant.pk, position_ids=position_ids, today=today)
        readings, trips = _assess(tenant, rows, today)
        _readings_write(cursor, tenant, readings)
        _recommend(tenant, readings, trips)
        counts = _alerts_diff(tenant, readings, trips, actor)
        counts["positions"] = len(rows)
        if dirty:
            cursor.execute("UPDATE inventory_position SET dirty_since = NULL WHERE id = ANY(%s)", [dirty])
    return counts


def _assess(tenant: Tenant, rows: list[dict], today: date) -> tuple[dict[int, dict], dict[tuple, Trip]]:
    book = PolicyBook(tenant)
    readings: dict[int, dict] = {}
    trips: dict[tuple, Trip] = {}
    for row in rows:
        policies = book.for_sku(row["sku_id"], row["category_id"], row["velocity_class"])
        standard = policies[RuleCode.OVERSTOCK].standard
        reading = readings[row["id"]] = reading_derive(row, policies[RuleCode.STOCK_OUT_RISK], standard, today)
        for rule, policy in policies.items():
            if not policy.enabled:
                continue
            trip = EVALUATORS[rule](reading, policy)
            if trip is not None:
                trips[(row["id"], rule)] = trip
    return readings, trips


def _readings_write(cursor, tenant: Tenant, readings: dict[int, dict]) -> None:  # noqa: ANN001
    if not readings:
        return
    fields = [f for f in IndicatorReading._meta.concrete_fields if f.column in _READING_COLUMNS]
    staging_table_create(cursor, "evaluation_reading", {f.column: _sql_type(f) for f in fields})
    copy_rows(
        cursor,
        "evaluation_reading",
        _READING_COLUMNS,
        (
            [json.dumps(reading[key]) if key == "details" else reading[key] for key in _READING_KEYS]
            for reading in readings.values()
        ),
    )
    assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in _READING_COLUMNS if column != "position_id")
    cursor.execute(
        f"""
        INSERT INTO alerts_indicatorreading (tenant_id, changed_at, {", ".join(_READING_COLUMNS)})
        SELECT %s, now(), {", ".join(_READING_COLUMNS)} FROM evaluation_reading
        ON CONFLICT (position_id) DO UPDATE SET {assignments}, changed_at = EXCLUDED.changed_at
        WHERE ({", ".join(f"alerts_indicatorreading.{c}" for c in _READING_COLUMNS[1:])})
              IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _READING_COLUMNS[1:])})
        """,  # noqa: S608 - column names come from the model
        [tenant.pk],
    )


def _recommend(tenant: Tenant, readings: dict[int, dict], trips: dict[tuple, Trip]) -> None:
    target_skus = {readings[pid]["sku_id"] for (pid, _), trip in trips.items() if needs_target(trip)}
    backup_skus = {readings[pid]["sku_id"] for (pid, _), trip in trips.items() if needs_backups(trip)}
    context = context_load(tenant_id=tenant.pk, target_skus=target_skus, backup_skus=backup_skus)
    for (pid, _), trip in trips.items():
        trip.recommendation = recommend(trip, readings[pid], context)


def _normal(value: object) -> object:
    """The value as it reads back from a JSON column, so unchanged inputs compare equal."""
    return json.loads(json.dumps(value))


def _event(alert: Alert, kind: str, actor: str, now: datetime, *, to_grade: str = "", **data: object) -> AlertEvent:
    return AlertEvent(
        tenant_id=alert.tenant_id,
        alert=alert,
        kind=kind,
        from_grade=data.pop("from_grade", ""),
        to_grade=to_grade,
        actor=actor,
        data=_normal(data),
        created_at=now,
    )


def _alerts_diff(tenant: Tenant, readings: dict[int, dict], trips: dict[tuple, Trip], actor: str) -> Counter:
    now = timezone.now()
    counts: Counter = Counter()
    active = {
        (alert.position_id, alert.rule): alert
        for alert in Alert.objects.filter(tenant=tenant, active=True, position_id__in=list(readings))
    }
    created: list[Alert] = []
    changed: list[Alert] = []
    events: list[AlertEvent] = []
    for key in trips.keys() | active.keys():
        trip, alert = trips.get(key), active.get(key)
        if trip is not None:
            values = {
                "deviation": trip.deviation,
                "explanation": trip.explanation,
                "inputs": _normal(trip.inputs),
                "thresholds": _normal(trip.thresholds),
                "recommendation": _normal(trip.recommendation),
            }
        if alert is None:
            alert = Alert(
                tenant=tenant,
                position_id=key[0],
                sku_id=readings[key[0]]["sku_id"],
                warehouse_id=readings[key[0]]["warehouse_id"],
                rule=trip.rule,
                direction=trip.direction,
                grade=trip.grade,
                peak_grade=trip.grade,
                opened_at=now,
                **values,
            )
            created.append(alert)
            events.append(_event(alert, AlertEventKind.OPENED, actor, now, to_grade=trip.grade))
            counts["opened"] += 1
            continue
        if trip is None:
            if alert.status == AlertStatus.DISMISSED:
                events.append(_event(alert, AlertEventKind.CLEARED, actor, now, from_grade=alert.grade))
                counts["cleared"] += 1
            else:
                alert.status, alert.resolved_at = AlertStatus.RESOLVED, now
                events.append(_event(alert, AlertEventKind.AUTO_RESOLVED, actor, now, from_grade=alert.grade))
                counts["resolved"] += 1
            alert.active, alert.snoozed_until, alert.updated_at = False, None, now
            changed.append(alert)
            continue
        old, new = GRADE_RANK[alert.grade], GRADE_RANK[trip.grade]
        before = {name: getattr(alert, name) for name in values}
        if alert.status == AlertStatus.DISMISSED and new <= old:
            kind = None  # still dismissed: figures follow the data, the grade stays the dismissed one
        elif alert.status == AlertStatus.DISMISSED:
            kind, alert.status = AlertEventKind.REOPENED, AlertStatus.OPEN
        elif new > old:
            # Worse than what was acknowledged: someone has to acknowledge it again.
            kind, alert.status, alert.acknowledged_at = AlertEventKind.ESCALATED, AlertStatus.OPEN, None
        elif new < old:
            kind = AlertEventKind.DEESCALATED
        else:
            kind = None
        if kind is None and before == values:
            counts["unchanged"] += 1
            continue
        for name, value in values.items():
            setattr(alert, name, value)
        alert.updated_at = now
        if kind is not None:
            events.append(
                _event(alert, kind, actor, now, from_grade=alert.grade, to_grade=trip.grade, deviation=trip.deviation)
            )
            if kind in (AlertEventKind.ESCALATED, AlertEventKind.REOPENED) and alert.snoozed_until:
                if alert.snoozed_until > now:
                    until = str(alert.snoozed_until)
                    events.append(_event(alert, AlertEventKind.WOKEN, actor, now, snoozed_until=until))
                    counts["woken"] += 1
                alert.snoozed_until = None
            alert.grade = trip.grade
            if new > GRADE_RANK[alert.peak_grade]:
                alert.peak_grade = trip.grade
            counts[str(kind)] += 1
        else:
            counts["updated"] += 1
        changed.append(alert)
    Alert.objects.bulk_create(created, batch_size=1000)
    Alert.objects.bulk_update(
        changed,
        [
            "grade",
            "peak_grade",
            "status",
            "active",
            "acknowledged_at",
            "deviation",
            "explanation",
            "inputs",
            "thresholds",
            "recommendation",
            "resolved_at",
            "snoozed_until",
            "updated_at",
        ],
        batch_size=500,
    )
    AlertEvent.objects.bulk_create(events, batch_size=2000)
    return counts
