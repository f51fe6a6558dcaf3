"""The evaluation engine: one chunk of positions, read, graded and diffed against alerts in bulk.

Both triggers (the full sweep and the incremental pass) call ``chunk_evaluate``. A chunk is one
transaction under a per-tenant advisory lock, so two passes over the same positions queue
rather than race; its dirty positions are row-locked first, so a push that lands meanwhile
waits and leaves them dirty for the next pass. A re-run over unchanged data writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import Counter, namedtuple
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from core.access.views import event_payloads
from core.alerts.events import ALERT_DEESCALATED, ALERT_ESCALATED, ALERT_OPENED, ALERT_RESOLVED
from core.alerts.grade_response import trips_recommend
from core.alerts.indicators import DerivePolicy, indicator_rows, readings_derive
from core.alerts.lifecycle import UNCHANGED, alert_step
from core.alerts.models import (
    Alert,
    AlertEvent,
    AlertEventKind,
    EvaluationRun,
    EvaluationTrigger,
    IndicatorReading,
    RuleCode,
)
from core.alerts.policies import PolicyBook
from core.alerts.rules import RULES, Trip
from core.alerts.timeline import timeline_entry, timeline_write
from core.bulk_copy import JsonText, bigint_array, copy_records, copy_rows_binary, staging_table_create
from core.forecasting.promotion_selectors import UpcomingPromotion, promotions_upcoming
from core.inventory.models import Position, Sku, Warehouse
from core.retries import atomic_retried
from core.webhooks.outbox import outbox_insert_select
from tenants.models import Tenant
from tenants.principals import SYSTEM_ACTOR

_POSITIONS = Position._meta.db_table
_SKUS = Sku._meta.db_table
_WAREHOUSES = Warehouse._meta.db_table

_LOCK_NAMESPACE = 7_201_004  # pg_advisory_xact_lock(namespace, hashtext(tenant)): evaluation writes

_READING_COLUMNS = [
    f.column
    for f in IndicatorReading._meta.concrete_fields
    if f.column not in ("tenant_id", "changed_at")  # tenant comes from the chunk, changed_at from now()
]


def _session_settings(cursor) -> None:  # noqa: ANN001
    # The indicator statement's cost estimate crosses the JIT threshold, and compiling it costs
    # about a second per chunk, far more than running it: interpret it instead.
    cursor.execute("SET LOCAL jit = off")
    # A chunk's facts (90 days of 5,000 positions) sort and hash in memory rather than on disk.
    cursor.execute("SET LOCAL work_mem = '64MB'")
    # The run already keeps the cores busy with chunks side by side; parallel workers for a scan of
    # one chunk's lots only added their start-up.
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


@dataclass(frozen=True)
class ReadAhead:
    """A chunk read and graded before the chunk took its locks, and when and for which day."""

    rows: list[dict]
    readings: dict[int, dict]
    trips: dict[tuple, Trip]
    started_at: datetime
    today: date


def rows_prefetch(*, tenant: Tenant, position_ids: list[int], today: date) -> ReadAhead:
    """A chunk's indicator rows, read and graded on this thread's own connection while the previous
    chunk is written, so its Python work runs while that chunk waits on the database.
    ``chunk_evaluate`` reads and grades again whatever changed in between. The connection stays
    open for the thread's next chunk; whoever runs the thread closes it."""
    started_at = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        _session_settings(cursor)
        rows = indicator_rows(cursor, tenant_id=tenant.pk, position_ids=position_ids, today=today)
    readings, trips = _assess(tenant, rows, today)
    return ReadAhead(rows=rows, readings=readings, trips=trips, started_at=started_at, today=today)


@atomic_retried
def chunk_evaluate(
    *, tenant: Tenant, position_ids: list[int], today: date, actor: str, prefetched: ReadAhead | None = None
) -> Counter:
    """Evaluate these positions of the tenant; answer what changed, by kind.

    ``prefetched`` rows (read before this chunk's locks) are used only for positions that were not
    dirty once the locks are held: a push that landed in between made its positions dirty, and
    those are read again here. Run again as a whole if PostgreSQL aborts it for contention; the
    read-ahead is only read, so a second attempt starts from the same one.
    """
    counts: Counter = Counter()
    if not position_ids:
        return counts
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_NAMESPACE, str(tenant.pk)])
        _session_settings(cursor)
        cursor.execute(
            f"SELECT id FROM {_POSITIONS} WHERE tenant_id = %s AND id = ANY(%s::bigint[]) "  # noqa: S608
            "AND dirty_since IS NOT NULL ORDER BY id FOR NO KEY UPDATE",
            [tenant.pk, bigint_array(position_ids)],
        )
        dirty = [row[0] for row in cursor.fetchall()]
        if prefetched is not None and not _read_ahead_current(tenant, prefetched, today):
            prefetched = None
        if prefetched is None:
            rows = indicator_rows(cursor, tenant_id=tenant.pk, position_ids=position_ids, today=today)
            readings, trips = _assess(tenant, rows, today)
        else:
            rows, readings, trips = _refreshed(cursor, tenant, position_ids, today, prefetched, dirty)
        _readings_write(cursor, tenant, readings, {row["id"]: row["reading_fingerprint"] for row in rows})
        _recommend(tenant, readings, trips)
        counts = _alerts_diff(tenant, readings, trips, actor)
        counts["positions"] = len(rows)
        if dirty:
            cursor.execute(f"UPDATE {_POSITIONS} SET dirty_since = NULL WHERE id = ANY(%s)", [dirty])  # noqa: S608
    return counts


def _read_ahead_current(tenant: Tenant, ahead: ReadAhead, today: date) -> bool:
    """Whether rows read ahead still hold: same day, and no incremental pass committed since.

    A pass that evaluated (and cleared) a position after the read-ahead would otherwise be
    overwritten with the older figures; passes are rare during a sweep, so the chunk simply reads
    again when one ran.
    """
    if ahead.today != today:
        return False
    return not EvaluationRun.objects.filter(
        tenant=tenant, trigger=EvaluationTrigger.INCREMENTAL, heartbeat_at__gte=ahead.started_at
    ).exists()


def _refreshed(
    cursor,  # noqa: ANN001
    tenant: Tenant,
    ids: list[int],
    today: date,
    ahead: ReadAhead,
    dirty: list[int],
) -> tuple[list[dict], dict[int, dict], dict[tuple, Trip]]:
    """The read-ahead's rows, readings and trips, with dirty or unseen positions read and graded again."""
    cursor.execute(
        f"SELECT id FROM {_POSITIONS} WHERE tenant_id = %s AND id = ANY(%s::bigint[])",  # noqa: S608
        [tenant.pk, bigint_array(ids)],
    )
    existing = {row[0] for row in cursor.fetchall()}
    kept = existing - set(dirty)
    by_id = {row["id"]: row for row in ahead.rows if row["id"] in kept}
    readings = {pid: reading for pid, reading in ahead.readings.items() if pid in by_id}
    trips = {key: trip for key, trip in ahead.trips.items() if key[0] in by_id}
    stale = sorted(existing - by_id.keys())  # changed since, or not seen by the read-ahead
    if stale:
        fresh = indicator_rows(cursor, tenant_id=tenant.pk, position_ids=stale, today=today)
        by_id.update((row["id"], row) for row in fresh)
        fresh_readings, fresh_trips = _assess(tenant, fresh, today)
        readings.update(fresh_readings)
        trips.update(fresh_trips)
    return [by_id[pid] for pid in sorted(by_id)], readings, trips


def reading_compute(*, tenant: Tenant, position_id: int, today: date) -> dict | None:
    """One position's reading with its series, computed now and written nowhere (the detail view)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _session_settings(cursor)
        rows = indicator_rows(cursor, tenant_id=tenant.pk, position_ids=[position_id], today=today)
    if not rows:
        return None
    readings, _ = _assess(tenant, rows, today)
    return readings[position_id]


def _assess(tenant: Tenant, rows: list[dict], today: date) -> tuple[dict[int, dict], dict[tuple, Trip]]:
    return readings_assess(tenant=tenant, rows=rows, today=today)


def readings_assess(
    *,
    tenant: Tenant,
    rows: list[dict],
    today: date,
    book: PolicyBook | None = None,
    promotions_created_by: datetime | None = None,
    fingerprinted: bool = True,
    promotions_assumed: Mapping[int, UpcomingPromotion] | None = None,
) -> tuple[dict[int, dict], dict[tuple, Trip]]:
    """Each position's reading and the rules it trips, by (position, rule), from its indicator rows
    (shaped as ``indicator_rows`` returns them); written nowhere.

    The live engine grades its chunks with this, and the quality replay grades each past day's rows
    rebuilt from the ledger with the same function, under the policies in force that day (``book``;
    the tenant's current ones by default) and only the promotions created by then
    (``promotions_created_by``; every one by default), so a replayed day is what the engine would
    have said. ``fingerprinted``: whether each reading gets the hash its write compares (a reader that
    writes nothing spares it). ``promotions_assumed``: promotions that exist only in a question (the
    what-if sandbox), by position, read in place of the position's stored one.
    """
    book = book if book is not None else PolicyBook(tenant)
    row_policies = [book.for_sku(row["sku_id"], row["category_id"], row["velocity_class"]) for row in rows]
    by_sku: dict[object, DerivePolicy] = {}
    for row, policies in zip(rows, row_policies, strict=True):
        if row["sku_id"] not in by_sku:
            stock_out, overstock = policies[RuleCode.STOCK_OUT_RISK], policies[RuleCode.OVERSTOCK]
            by_sku[row["sku_id"]] = DerivePolicy.of(stock_out, overstock.standard)
    derived = readings_derive(rows, [by_sku[row["sku_id"]] for row in rows], today)
    _promotions_attach(tenant, rows, row_policies, derived, today, promotions_created_by, promotions_assumed)
    readings: dict[int, dict] = {}
    trips: dict[tuple, Trip] = {}
    for reading, policies in zip(derived, row_policies, strict=True):
        position_id = reading["position_id"]
        readings[position_id] = reading
        # Hashed here, on the read-ahead thread when there is one, not while the chunk holds its locks.
        reading["fingerprint"] = reading_fingerprint(reading) if fingerprinted else None
        profile = reading["details"]["profile"]
        for rule, policy in policies.items():
            spec = RULES[rule]
            if not policy.enabled or not spec.applies_to(profile):
                continue
            trip = spec.evaluator(reading, policy)
            if trip is not None:
                trips[(position_id, rule)] = trip
    return readings, trips


def _promotions_attach(
    tenant: Tenant,
    rows: list[dict],
    row_policies: list[dict],
    derived: list[dict],
    today: date,
    created_by: datetime | None = None,
    assumed: Mapping[int, UpcomingPromotion] | None = None,
) -> None:
    """Each reading's ``upcoming_promotion`` detail: its promotion running today or starting within the
    longest ``lead_days`` of the chunk's promotion_shortfall policies (each evaluator applies its own),
    read for the whole chunk at once."""
    windows = [
        policies[RuleCode.PROMOTION_SHORTFALL].parameters["lead_days"]
        for policies in row_policies
        if policies[RuleCode.PROMOTION_SHORTFALL].enabled
    ]
    upcoming = (
        promotions_upcoming(
            tenant_id=tenant.pk,
            positions=[(row["id"], row["sku_id"], row["warehouse_id"]) for row in rows],
            today=today,
            days=int(max(windows)),
            created_by=created_by,
        )
        if windows
        else {}
    )
    if assumed:
        upcoming = {**upcoming, **assumed}
    for reading in derived:
        found = upcoming.get(reading["position_id"])
        reading["details"]["upcoming_promotion"] = (
            None
            if found is None
            else {
                "promotion_id": found.promotion_id,
                "starts_on": found.starts_on.isoformat(),
                "ends_on": found.ends_on.isoformat(),
                "discount_percent": found.discount_percent,
                "uplift": found.uplift,
                "uplift_source": found.uplift_source,
                # Whether the stored forecast was fitted with this promotion (its promotion days scaled).
                "in_forecast": found.promoted_mean is not None,
            }
        )


# Stands for None in a reading's hash: hash(None) differs between processes before Python 3.12.
_NONE_HASHED = -1.7976931348623157e308
_FIELD_TYPES = {f.column: f.get_internal_type() for f in IndicatorReading._meta.concrete_fields}
# Numbers, booleans and UUIDs hash alike in every process; text and dates do not, so they go in apart.
_HASHED_COLUMNS = [
    column
    for column in _READING_COLUMNS
    if column not in ("position_id", "as_of", "fingerprint") and _FIELD_TYPES[column] not in ("CharField", "DateField")
]
_DATE_COLUMNS = [column for column in _READING_COLUMNS if column != "as_of" and _FIELD_TYPES[column] == "DateField"]
_TEXT_COLUMNS = [column for column in _READING_COLUMNS if _FIELD_TYPES[column] == "CharField"]


def reading_fingerprint(reading: dict) -> int:
    """A 64-bit hash of a reading's stored values, the same in every process.

    Numbers, booleans and UUIDs hash alike everywhere; strings and dates do not, so days go in as
    their ordinals and text as the integer of its digest. Equal fingerprints mean equal readings, up
    to a 1 in 2^64 chance.
    """
    values = [_NONE_HASHED if (value := reading[column]) is None else value for column in _HASHED_COLUMNS]
    values.append(reading["as_of"].toordinal())
    values.extend(_NONE_HASHED if (day := reading[column]) is None else day.toordinal() for column in _DATE_COLUMNS)
    values.extend(_text_hashed(reading[column]) for column in _TEXT_COLUMNS)
    return hash(tuple(values))


@lru_cache(maxsize=256)
def _text_hashed(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _readings_write(cursor, tenant: Tenant, readings: dict[int, dict], stored: dict[int, int | None]) -> None:  # noqa: ANN001
    """Upsert the readings whose fingerprint differs from the stored one (``stored``, by position)."""
    changed = [reading for pid, reading in readings.items() if stored.get(pid) != reading["fingerprint"]]
    if not changed:
        return
    fields = {f.column: f for f in IndicatorReading._meta.concrete_fields}
    types = {column: fields[column].db_type(connection) for column in _READING_COLUMNS}
    staging_table_create(cursor, "evaluation_reading", types)
    copy_rows_binary(
        cursor, "evaluation_reading", types, ([reading[column] for column in _READING_COLUMNS] for reading in changed)
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
    trips_recommend(tenant_id=tenant.pk, readings=readings, trips=trips)


def _fingerprint(trip: Trip) -> tuple[dict[str, JsonText], str]:
    """What an alert shows of its trip, each JSON column as text, and a hash of them all.

    The hash (of the trip as one JSON object, keys sorted) lets a re-run compare thousands of
    alerts without loading or parsing their JSON. Each column is serialized once and the object
    is put together from those texts; the thresholds are the policy's, made once for all its trips.
    """
    values = {
        "deviation": JsonText(json.dumps(trip.deviation)),
        "explanation": JsonText(json.dumps(trip.explanation)),
        "inputs": JsonText(json.dumps(trip.inputs, sort_keys=True)),
        "recommendation": JsonText(json.dumps(trip.recommendation, sort_keys=True)),
        "thresholds": JsonText(trip.thresholds_json),
    }
    text = "{" + ", ".join(f'"{name}": {value}' for name, value in values.items()) + "}"  # keys in sorted order
    return values, hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# Loaded for the diff; the JSON columns are loaded only for the alerts whose figures changed.
_STATE_FIELDS = [
    "id",
    "tenant_id",
    "position_id",
    "rule",
    "grade",
    "peak_grade",
    "status",
    "active",
    "acknowledged_at",
    "resolved_at",
    "dismissed_reason",
    "dismissed_note",
    "snoozed_until",
    "fingerprint",
]
_AlertState = namedtuple("_AlertState", _STATE_FIELDS)  # updated_at is not read: every write sets it
_VALUE_FIELDS = ["deviation", "explanation", "inputs", "thresholds", "recommendation", "fingerprint"]


def _uuid4s() -> Iterator[uuid.UUID]:
    """Random (version 4) UUIDs as ``uuid.uuid4`` makes them, 1,024 from each read of the system's
    randomness: a read per alert was a system call each, and each gave the GIL up to the read-ahead
    threads and waited to get it back (1.3 s of the 31,000 alerts of the benchmark's first run)."""
    while True:
        block = os.urandom(16 * 1024)
        for start in range(0, len(block), 16):
            yield uuid.UUID(bytes=block[start : start + 16], version=4)


def _alerts_diff(tenant: Tenant, readings: dict[int, dict], trips: dict[tuple, Trip], actor: str) -> Counter:
    now = timezone.now()
    new_ids = _uuid4s()
    counts: Counter = Counter()
    # Plain rows, not model instances: most alerts are unchanged and only their fingerprint is read.
    # Locked, in id order, so a person's acknowledge or dismiss either lands before this read or
    # waits for the chunk: the engine never writes a state it read before someone changed it.
    # The chunk's positions go as one array parameter: an IN list of 5,000 ids cost more to build
    # in the ORM than the query takes to run.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_STATE_FIELDS)} FROM alerts_alert "  # noqa: S608 - column names are constants
            "WHERE tenant_id = %s AND active AND position_id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE",
            [tenant.pk, bigint_array(readings)],
        )
        active = {(row.position_id, row.rule): row for row in map(_AlertState._make, cursor.fetchall())}
    created: list[dict] = []
    changed: list[Alert] = []
    refigured: list[Alert] = []
    events: list[dict] = []
    opened: list[dict] = []  # written after the other events, as the alerts they open are new
    for key in trips.keys() | active.keys():
        trip, state = trips.get(key), active.get(key)
        if trip is None:
            step = alert_step(state, None, now=now)
        else:
            shown, fingerprint = _fingerprint(trip)
            same = state is not None and state.fingerprint == fingerprint
            step = alert_step(state, trip.grade, same_figures=same, deviation=trip.deviation, now=now)
        counts[step.outcome] += 1
        if step is UNCHANGED:
            continue
        if state is None:
            alert_id = next(new_ids)
            # A microsecond apart each: lists page on (created_at, id) with a cursor, and DRF's
            # cursor gives up on more than 1,000 rows sharing one timestamp.
            at = now + timedelta(microseconds=len(created))
            created.append(
                {
                    "id": alert_id,
                    "created_at": at,
                    "updated_at": at,
                    "tenant_id": tenant.pk,
                    "position_id": key[0],
                    "sku_id": readings[key[0]]["sku_id"],
                    "warehouse_id": readings[key[0]]["warehouse_id"],
                    "rule": trip.rule,
                    "direction": trip.direction,
                    **step.changes,
                    "active": True,
                    "fingerprint": fingerprint,
                    "opened_at": now,
                    "acknowledged_at": None,
                    "resolved_at": None,
                    "dismissed_reason": "",
                    "dismissed_note": "",
                    "snoozed_until": None,
                    "deviation": trip.deviation,
                    "explanation": trip.explanation,
                    "inputs": shown["inputs"],
                    "thresholds": shown["thresholds"],
                    "recommendation": shown["recommendation"],
                }
            )
            timeline = opened
        else:
            alert_id = state.id
            alert = Alert(**state._asdict())
            for name, value in step.changes.items():
                setattr(alert, name, value)
            alert.updated_at = now
            if step.refigures:
                alert.deviation, alert.explanation = trip.deviation, trip.explanation
                for name in ("inputs", "thresholds", "recommendation"):
                    setattr(alert, name, json.loads(shown[name]))  # as it reads back from the JSON column
                alert.fingerprint = fingerprint
                refigured.append(alert)
            if step.changes:  # new figures only leave the state columns unwritten
                changed.append(alert)
            timeline = events
        for kind, from_grade, to_grade, data in step.events:
            timeline.append(
                timeline_entry(
                    tenant_id=tenant.pk,
                    alert_id=alert_id,
                    kind=kind,
                    actor=actor,
                    at=now,
                    from_grade=from_grade,
                    to_grade=to_grade,
                    data=data,
                )
            )
            if kind == AlertEventKind.WOKEN:
                counts["woken"] += 1
    with connection.cursor() as cursor:
        copy_records(cursor, Alert, created)
        state_columns = [name for name in _STATE_FIELDS if name not in ("id", "tenant_id", "position_id", "rule")]
        state_columns.append("updated_at")
        Alert.objects.bulk_update(changed, state_columns, batch_size=500)
        Alert.objects.bulk_update(refigured, _VALUE_FIELDS, batch_size=500)
        _announce(cursor, tenant, timeline_write(events + opened))
    return counts


# Timeline kinds partners hear of, as webhook event types.
_WEBHOOK_TYPES = {
    AlertEventKind.OPENED: ALERT_OPENED,
    AlertEventKind.REOPENED: ALERT_OPENED,
    AlertEventKind.ESCALATED: ALERT_ESCALATED,
    AlertEventKind.DEESCALATED: ALERT_DEESCALATED,
    AlertEventKind.AUTO_RESOLVED: ALERT_RESOLVED,
}
_WEBHOOK_TYPE_SQL = (
    "CASE e.kind "
    + " ".join(f"WHEN '{kind}' THEN '{kind_type.name}'" for kind, kind_type in _WEBHOOK_TYPES.items())
    + " END"
)


# What an alert event carries, as SQL over the timeline row ``e``, the alert ``a`` and its codes.
_ALERT_EVENT_FIELDS = {
    "alert_id": "a.id::text",
    "rule": "a.rule",
    "grade": "COALESCE(NULLIF(e.to_grade, ''), a.grade)",
    "previous_grade": "NULLIF(e.from_grade, '')",
    "position_id": "a.position_id",
    "sku": "s.code",
    "warehouse": "w.code",
    "deviation": "a.deviation",
    "action": "a.recommendation ->> 'action'",
    "by": SYSTEM_ACTOR,  # the engine acts as the system: a value, worded by the registry like any actor
}


class _Sql(str):
    """A payload value that is SQL to run, not a value to pass."""


def _payload_sql(payload: dict, params: dict) -> str:
    """``jsonb_build_object`` of a payload whose values are ``_Sql`` or plain values (passed as parameters)."""
    parts = []
    for key, value in payload.items():
        if isinstance(value, _Sql):
            parts.append(f"'{key}', {value}")
        else:
            name = f"value_{len(params)}"
            params[name] = value
            parts.append(f"'{key}', %({name})s::text")
    return f"jsonb_build_object({', '.join(parts)})"


def _alert_event_payloads_sql(params: dict) -> tuple[str, str]:
    """(the tenant's payload, the partner kinds' payloads) of an engine alert event, as SQL.

    Each partner kind's payload is the one the access registry shapes from the same fields; every
    alert event type must shape alike, since the statement writes them all at once.
    """
    fields = {key: value if key == "by" else _Sql(value) for key, value in _ALERT_EVENT_FIELDS.items()}
    shaped = {event_type.name: event_payloads(event_type.name, fields) for event_type in set(_WEBHOOK_TYPES.values())}
    if len({json.dumps(payloads, sort_keys=True) for payloads in shaped.values()}) != 1:
        raise ImproperlyConfigured(f"The access registry shapes the engine's alert events differently: {shaped}")
    kinds = [f"'{kind}', {_payload_sql(payload, params)}" for kind, payload in shaped[ALERT_OPENED.name].items()]
    partner_sql = f"jsonb_build_object({', '.join(kinds)})" if kinds else "'{}'::jsonb"
    return _payload_sql(fields, params), partner_sql


def _announce(cursor, tenant: Tenant, event_ids: list[int]) -> None:  # noqa: ANN001
    """An outbox event for each of the chunk's timeline rows (``event_ids``, as written) partners
    hear of, in one statement.

    Built in SQL from the rows as written (after the writes: an escalation's event carries the new
    deviation and action, not the old); the timeline row gives the grades, the alert the rest. Each
    partner kind gets the payload the access registry shapes for it, from the same columns.
    """
    if not event_ids:
        return
    params = {
        "tenant": tenant.pk,
        "ids": bigint_array(event_ids),
        "kinds": [str(kind) for kind in _WEBHOOK_TYPES],
    }
    data_sql, partner_sql = _alert_event_payloads_sql(params)
    outbox_insert_select(
        cursor,
        select=f"""
        SELECT e.tenant_id, {_WEBHOOK_TYPE_SQL} AS type, {data_sql} AS data, {partner_sql} AS partner_payloads,
               a.sku_id, a.warehouse_id, NULL::uuid AS recipient_id, false AS staff_only, e.created_at
        FROM {AlertEvent._meta.db_table} e
        JOIN {Alert._meta.db_table} a ON a.id = e.alert_id
        JOIN {_SKUS} s ON s.id = a.sku_id
        JOIN {_WAREHOUSES} w ON w.id = a.warehouse_id
        WHERE e.tenant_id = %(tenant)s AND e.id = ANY(%(ids)s::bigint[]) AND e.kind = ANY(%(kinds)s)
        ORDER BY e.id
        """,  # noqa: S608 - column names and keys are constants; values go as parameters
        params=params,
        types=set(_WEBHOOK_TYPES.values()),
    )
