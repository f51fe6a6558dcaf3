"""API under load: list endpoints through gunicorn as deployed, on a tenant of 1,000,000 positions.

The issue's case: gunicorn with the worker count for 2 cores (``harness.gunicorn_workers()``,
production settings, not runserver) and a load generator on loopback on ``stock/`` pages of 100,
``alerts/`` filtered, and a distributor's shared view over its 5,000 granted positions: requests
per second and p50 / p95 / p99, and the queries each request makes. Goals (issue 20): ``stock/`` >=
600 requests per second, every measured list >= 400 with p95 <= 25 ms, on the same load generator
(its CPU share is reported); the distributor's view filtered by its grants in one query.

Setup (not measured): one tenant of 200 warehouses x 5,000 SKUs (medium and large; 20 x 5,000 =
100,000 positions at small), written set-based (INSERT ... SELECT) straight into the tables: every
position with an indicator reading (the shared view's band reads its days of cover: about 5 % of
positions are out of stock, 17 % hold under 14 days), alerts on about 5 % of the positions (stock-out
risk on short cover, overstock and slow-moving on deep cover, the other rules elsewhere; yellow,
orange and red; open, acknowledged, dismissed and resolved), opened by hourly runs over 30 days with
one timestamp per 5,000-position chunk as the engine writes them. A distributor partner is granted
one warehouse (5,000 positions, exact quantities); an admin's API key and the distributor's key.
ANALYZE after loading.

Measured, in one run on the same data:
- the floor: each page as one hand-written SQL statement over psycopg (same rows, keyset on the
  last row of the page before, planned per execution as Django's are), serially on one connection;
- the ORM's own list statement (captured from a request) executed raw, and EXPLAIN (ANALYZE,
  BUFFERS) of it, first page and a deep one (``bench/results/api_load_plans.txt``);
- in-process: django.test.Client requests (no HTTP, no gunicorn), their SQL time, and the mean split
  of a request between authentication, the page query with its model instances, the serializer and
  JSON rendering (those methods wrapped with a wall clock while measured); the queries of one
  request counted with CaptureQueriesContext (CONN_HEALTH_CHECKS' SELECT 1 bypasses it), and a
  cProfile of a request loop (``bench/results/api_load_profile.txt``);
- diagnostic: where the ORM's list statement is a SELECT DISTINCT (django-filter's
  MultipleChoiceFilter adds it), the same statement without DISTINCT, timed and explained;
- through gunicorn as gunicorn.conf.py deploys it (gthread workers, keep-alive): one connection
  (serial latency), then LOAD_PROCESSES processes x gunicorn_workers() threads, each thread one
  http.client connection kept alive across its requests (http.client opens a new one only when the
  server closed it: the connections opened are counted), for WARM_UP_SECONDS then
  MEASURE_SECONDS per endpoint. A client visit is a start page (the first page or a cursor deep in
  the list) and the ``next`` links after it, PAGES_PER_VISIT pages in all. Requests per second and
  latency percentiles count the requests completed inside the measured window; the CPU of the two
  cores over that window is split between gunicorn, PostgreSQL and the load generator (/proc), and
  gunicorn's and PostgreSQL's CPU per request derived from it (less sensitive to a busy machine than
  the rate).
Self-checks: every start's pages through the API list the same rows as the raw SQL, the shared
view shows only the granted warehouse with the bands the readings give, the serial and loaded runs
answer only 200s, and each endpoint's list query is one statement.
"""

from __future__ import annotations

import base64
import cProfile
import http.client
import io
import multiprocessing
import os
import pstats
import re
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from rest_framework.generics import GenericAPIView
from rest_framework.serializers import ListSerializer
from tqdm import tqdm

from api.renderers import JSONRenderer
from api.tenant_scope import TenantScopedView
from bench.evaluation import _master
from bench.harness import Case, gunicorn_server, gunicorn_workers, percentile
from core.access.scope import warehouse_grant
from core.alerts.models import Alert, IndicatorReading
from core.inventory.models import Position, Warehouse
from core.transfers.services import policy_for
from tenants import services
from tenants.models import PartnerKind, Role

RESULTS = Path(__file__).resolve().parent / "results"
# Warehouses x SKUs per scale: the tenant is 1,000,000 positions; small keeps `make bench` quick.
SIZES = {"small": (20, 5_000), "medium": (200, 5_000), "large": (200, 5_000)}
GRANTED_WAREHOUSE = "EW007"  # a store; 5,000 positions, granted to the distributor with exact quantities
PAGE_SIZE = 100
PAGE_QUERY = re.compile(rf"\bLIMIT\s+{PAGE_SIZE + 1}\b")  # a list page's statement: the cursor reads one row more
PAGES_PER_VISIT = 5  # a client's start page and the next links it follows after it
DEEP_STARTS = 9  # cursors at the deciles of a list, besides its first page
LOAD_PROCESSES = 2  # the GIL: one process would not keep three workers busy on its own
WARM_UP_SECONDS = 3.0
MEASURE_SECONDS = 15.0
SERIAL_SECONDS = 4.0  # one connection, after a second of warm-up
RAW_ROUNDS = 8  # the raw baseline walks every start this many times (after one warm round)
INPROCESS_REQUESTS = 150
PROFILE_REQUESTS = 100
GOAL_P95_MS = 25.0
GOAL_RPS = 400.0  # every measured list
GOAL_STOCK_RPS = 600.0  # stock/
GOAL_PERMISSION_QUERIES = 1
# Tables whose presence in a statement makes it a permission query (guardian's and Django's).
PERMISSION_TABLES = ("objectpermission", "guardian_", "auth_permission")
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
LAST_UUID = "ffffffff-ffff-ffff-ffff-ffffffffffff"


# --- Data ---------------------------------------------------------------------------------------

# One row per position: its daily rate, its band and cover, its alert if any.
_PLAN_SQL = """
CREATE TEMP TABLE bench_api AS
SELECT q.*, floor(q.on_hand * 0.05 * q.u_reserved)::bigint AS reserved,
       CASE WHEN q.u_transit < 0.1 THEN round(q.ads * 7)::bigint ELSE 0 END AS in_transit
FROM (
    SELECT r.*,
           CASE WHEN r.u_band < 0.05 THEN 0
                WHEN r.u_band < 0.22 THEN greatest(1, round(r.ads * (1 + 12 * r.u_cover)))
                ELSE round(r.ads * (14 + 150 * r.u_cover)) END::bigint AS on_hand
    FROM (
        SELECT row_number() OVER (ORDER BY s.code, w.code) AS n, s.id AS sku_id, w.id AS warehouse_id,
               s.code AS sku_code, w.code AS warehouse_code, s.unit_cost,
               round((0.2 + 12 * power(random(), 2))::numeric, 2)::float8 AS ads,
               random() AS u_band, random() AS u_cover, random() AS u_reserved, random() AS u_transit,
               random() AS u_alert, random() AS u_rule, random() AS u_status, random() AS u_open
        FROM inventory_sku s CROSS JOIN inventory_warehouse w
        WHERE s.tenant_id = %(tenant)s AND w.tenant_id = %(tenant)s
    ) r
) q
"""

_POSITIONS_SQL = """
INSERT INTO inventory_position (tenant_id, sku_id, warehouse_id, on_hand, reserved, in_transit, created_at,
                                updated_at)
SELECT %(tenant)s, sku_id, warehouse_id, on_hand, reserved, in_transit, now(), now()
FROM bench_api ORDER BY n
"""

# The reading the warning engine would have written; the shared view reads days_of_cover for its band.
_READINGS_SQL = """
INSERT INTO alerts_indicatorreading (
    position_id, tenant_id, sku_id, warehouse_id, as_of, on_hand, available, in_transit, unit_cost,
    ads_7, ads_28, ads_90, units_sold_90, days_of_cover, average_on_hand_90, turnover_days, turnover_rate,
    sell_through_28, wow_change, weekly_declines, age_0_30, age_31_60, age_61_90, age_91_180, age_over_180,
    weighted_age_days, expiry_at_risk, days_to_expiry, lead_time_days, longest_lead_time_days,
    lead_time_volatility_days, demand_sigma_28, safety_stock_cover, safety_stock_service, reorder_point_cover,
    reorder_point_service, stockout_risk, overstock, health_index, changed_at)
SELECT p.id, %(tenant)s, b.sku_id, b.warehouse_id, %(today)s, b.on_hand, b.on_hand - b.reserved, b.in_transit,
       b.unit_cost, b.ads, b.ads, b.ads, round(b.ads * 90)::bigint,
       round(((b.on_hand - b.reserved) / b.ads)::numeric, 1)::float8, b.on_hand,
       round((b.on_hand / b.ads)::numeric, 1)::float8, round((365 * b.ads / greatest(b.on_hand, 1))::numeric, 3),
       round((b.ads * 28 / (b.ads * 28 + b.on_hand))::numeric, 3)::float8, 0, 0,
       b.on_hand, 0, 0, 0, 0, 15, 0, NULL, 14, 17, 1.5, round((b.ads * 0.4)::numeric, 3)::float8,
       round((b.ads * 17)::numeric, 2)::float8, round((1.645 * b.ads * 0.4 * sqrt(14))::numeric, 2)::float8,
       round((b.ads * 31)::numeric, 2)::float8, round((b.ads * (14 + 1.645 * 0.4 * sqrt(14)))::numeric, 2)::float8,
       (b.on_hand - b.reserved) < b.ads * 14, b.on_hand > b.ads * 120,
       CASE WHEN b.on_hand - b.reserved <= 0 THEN 10 WHEN (b.on_hand - b.reserved) < b.ads * 14 THEN 35
            WHEN b.on_hand > b.ads * 120 THEN 55 ELSE 85 END, now()
FROM bench_api b
JOIN inventory_position p ON p.tenant_id = %(tenant)s AND p.sku_id = b.sku_id AND p.warehouse_id = b.warehouse_id
"""

# Alerts on about 5 % of the positions: short cover alerts more often (12 %) than the rest (3.5 %).
# Opened by hourly runs over the last 30 days, one created_at per 5,000-position chunk (as the engine).
_ALERTS_SQL = """
INSERT INTO alerts_alert (
    id, created_at, updated_at, tenant_id, position_id, sku_id, warehouse_id, rule, direction, grade, peak_grade,
    status, active, deviation, explanation, inputs, thresholds, recommendation, fingerprint, opened_at,
    acknowledged_at, resolved_at, dismissed_reason, dismissed_note, snoozed_until)
SELECT gen_random_uuid(), opened, opened, %(tenant)s, position_id, sku_id, warehouse_id, rule,
       CASE rule WHEN 'stock_out_risk' THEN 'stock_out' WHEN 'overstock' THEN 'overstock'
                 WHEN 'slow_moving' THEN 'overstock' WHEN 'launch_check' THEN 'launch' ELSE 'decline' END,
       grade, grade, status, status <> 'resolved', round(u_cover::numeric, 4)::float8,
       'Bench: ' || rule || ' on ' || sku_code || ' at ' || warehouse_code || ', '
           || round((available / ads)::numeric, 1) || ' days of cover.',
       '{}'::jsonb, '{}'::jsonb,
       jsonb_build_object('action', CASE WHEN rule = 'stock_out_risk' THEN 'transfer_in' ELSE 'transfer_out' END,
                          'quantity', greatest(1, round(ads * 14))::bigint),
       '', opened,
       CASE WHEN status = 'acknowledged' THEN opened + interval '2 hours' END,
       CASE WHEN status = 'resolved' THEN opened + interval '1 day' END,
       CASE WHEN status = 'dismissed' THEN 'false_alarm' ELSE '' END,
       CASE WHEN status = 'dismissed' THEN 'Bench: no action needed.' ELSE '' END, NULL
FROM (
    SELECT b.*, p.id AS position_id, b.on_hand - b.reserved AS available,
           CASE WHEN b.on_hand - b.reserved < b.ads * 14 THEN 'stock_out_risk'
                WHEN b.on_hand > b.ads * 120 THEN CASE WHEN b.u_rule < 0.6 THEN 'overstock' ELSE 'slow_moving' END
                WHEN b.u_rule < 0.4 THEN 'declining_product' WHEN b.u_rule < 0.7 THEN 'expiry_risk'
                ELSE 'launch_check' END AS rule,
           CASE WHEN b.on_hand - b.reserved < b.ads * 5 THEN 'red'
                WHEN b.on_hand - b.reserved < b.ads * 14 THEN 'orange'
                WHEN b.u_rule * 10 - floor(b.u_rule * 10) < 0.25 THEN 'red'
                WHEN b.u_rule * 10 - floor(b.u_rule * 10) < 0.6 THEN 'orange' ELSE 'yellow' END AS grade,
           CASE WHEN b.u_status < 0.80 THEN 'open' WHEN b.u_status < 0.88 THEN 'acknowledged'
                WHEN b.u_status < 0.93 THEN 'dismissed' ELSE 'resolved' END AS status,
           date_trunc('hour', now() - interval '30 days' * b.u_open) + ((b.n - 1) / 5000) * interval '1 second'
               AS opened
    FROM bench_api b
    JOIN inventory_position p ON p.tenant_id = %(tenant)s AND p.sku_id = b.sku_id AND p.warehouse_id = b.warehouse_id
    WHERE b.u_alert < CASE WHEN b.on_hand - b.reserved < b.ads * 14 THEN 0.12 ELSE 0.035 END
) a
"""


def _load(tenant, warehouses: int, skus: int, partner) -> dict:  # noqa: ANN001
    bar = tqdm(total=7, desc="api_load: loading (setup)", unit="step", file=sys.stderr)
    today = timezone.now().date()
    _master(tenant, skus, warehouses, today)
    bar.update(1)
    params = {"tenant": tenant.pk, "today": today}
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")  # one seeded random() stream
        cursor.execute("SELECT setseed(0.3141)")
        cursor.execute("DROP TABLE IF EXISTS bench_api")
        cursor.execute(_PLAN_SQL, params)
        cursor.execute("ANALYZE bench_api")
        bar.update(1)
        cursor.execute(_POSITIONS_SQL, params)
        bar.update(1)
        cursor.execute(_READINGS_SQL, params)
        bar.update(1)
        cursor.execute(_ALERTS_SQL, params)
        cursor.execute("DROP TABLE bench_api")
        cursor.execute("RESET max_parallel_workers_per_gather")
        bar.update(1)
    warehouse_grant(partner=partner, warehouses=[Warehouse.objects.get(tenant=tenant, code=GRANTED_WAREHOUSE)])
    policy_for(tenant)  # the transfer policy row exists, as it does once anyone has read it
    bar.update(1)
    with connection.cursor() as cursor:
        # The steady state of a live database: autovacuum has seen the tables.
        for table in (
            "inventory_position",
            "alerts_indicatorreading",
            "alerts_alert",
            "inventory_sku",
            "inventory_warehouse",
            "inventory_category",
            "inventory_warehousegroupobjectpermission",
            "auth_permission",
            "transfers_transferpolicy",
            "tenants_apikey",
            "tenants_membership",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        bar.update(1)
    bar.close()
    alerts = Alert.objects.filter(tenant=tenant)
    return {
        "positions": Position.objects.filter(tenant=tenant).count(),
        "readings": IndicatorReading.objects.filter(tenant=tenant).count(),
        "alerts": alerts.count(),
        "active_alerts": alerts.filter(active=True).count(),
        "granted_positions": Position.objects.filter(tenant=tenant, warehouse__code=GRANTED_WAREHOUSE).count(),
    }


# --- The raw floor: each page as one hand-written statement -------------------------------------

_STOCK_SQL = """
SELECT p.id, p.on_hand, p.reserved, p.on_hand - p.reserved AS available, p.in_transit, p.updated_at,
       s.id, s.code, s.name, w.id, w.code, w.name, w.region
FROM inventory_position p
JOIN inventory_sku s ON s.id = p.sku_id
JOIN inventory_warehouse w ON w.id = p.warehouse_id
WHERE p.tenant_id = %(tenant)s AND p.id > %(after)s
ORDER BY p.id
LIMIT %(limit)s
"""

_ALERTS_SQL_HEAD = """
SELECT a.id, a.rule, a.direction, a.grade, a.peak_grade, a.status, a.active, a.snoozed_until, a.position_id,
       s.code, w.code, w.region, c.code, a.deviation, a.explanation, a.recommendation, a.opened_at,
       a.acknowledged_at, a.resolved_at, a.dismissed_reason, a.created_at, a.updated_at
FROM alerts_alert a
JOIN inventory_sku s ON s.id = a.sku_id
LEFT JOIN inventory_category c ON c.id = s.category_id
JOIN inventory_warehouse w ON w.id = a.warehouse_id
WHERE a.tenant_id = %(tenant)s AND (a.created_at, a.id) > (%(after_at)s::timestamptz, %(after_id)s::uuid)
"""

_SHARED_SQL_HEAD = """
WITH granted AS (
    SELECT g.content_object_id AS warehouse_id, bool_or(ap.codename = 'view_warehouse_quantities') AS exact
    FROM inventory_warehousegroupobjectpermission g
    JOIN auth_permission ap ON ap.id = g.permission_id
    WHERE g.group_id = %(group)s AND ap.codename IN ('view_warehouse', 'view_warehouse_quantities')
    GROUP BY g.content_object_id
    HAVING bool_or(ap.codename = 'view_warehouse')
)
SELECT p.id, s.code, s.name, w.code, w.region, p.on_hand - p.reserved AS available, p.in_transit, gr.exact,
       b.band
FROM granted gr
JOIN inventory_position p ON p.tenant_id = %(tenant)s AND p.warehouse_id = gr.warehouse_id
JOIN inventory_sku s ON s.id = p.sku_id
JOIN inventory_warehouse w ON w.id = p.warehouse_id
LEFT JOIN alerts_indicatorreading r ON r.position_id = p.id
CROSS JOIN LATERAL (
    SELECT CASE WHEN p.on_hand - p.reserved <= 0 THEN 'out' WHEN r.days_of_cover < %(low)s THEN 'low'
                ELSE 'available' END AS band
) b
WHERE p.id > %(after)s
"""


def _stock_raw(start: dict) -> tuple[str, Callable[[tuple], dict]]:
    return _STOCK_SQL, lambda row: {"after": row[0]}


def _alerts_raw(start: dict) -> tuple[str, Callable[[tuple], dict]]:
    sql = _ALERTS_SQL_HEAD
    if "grade" in start:
        sql += " AND a.grade = %(grade)s"
    if "warehouse" in start:
        sql += " AND w.code = %(warehouse)s"
    if "rule" in start:
        sql += " AND a.rule = %(rule)s"
    if start.get("active"):
        sql += " AND a.active"
    sql += "\nORDER BY a.created_at, a.id\nLIMIT %(limit)s"
    return sql, lambda row: {"after_at": row[20], "after_id": str(row[0])}


def _shared_raw(start: dict) -> tuple[str, Callable[[tuple], dict]]:
    sql = _SHARED_SQL_HEAD
    if "bands" in start:
        sql += " AND b.band = ANY(%(bands)s)"
    if "region" in start:
        sql += " AND w.region = %(region)s"
    sql += "\nORDER BY p.id\nLIMIT %(limit)s"
    return sql, lambda row: {"after": row[0]}


# --- Endpoints ----------------------------------------------------------------------------------


@dataclass
class Start:
    query: str  # the endpoint's query string (page_size and filters, a cursor for a deep start)
    raw: dict  # the raw statement's filters and the keyset its first page starts after


@dataclass
class Endpoint:
    name: str
    path: str  # under /api/v1/tenants/<slug>/
    key: str
    starts: list[Start]
    raw: Callable[[dict], tuple[str, Callable[[tuple], dict]]]
    # What the self-check compares of each row, from the API's JSON and from the raw statement's row.
    api_ident: Callable[[dict], str] = lambda row: str(row["id"])
    raw_ident: Callable[[tuple], str] = lambda row: str(row[0])
    page_ids: dict[str, list[list[str]]] = field(default_factory=dict)  # start query -> ids of each page
    page_paths: list[str] = field(default_factory=list)  # every page the in-process walk visited

    def url(self, prefix: str, query: str) -> str:
        return f"{prefix}{self.path}?{query}"


def _cursor(position: object) -> str:
    """DRF's cursor for "after this position" (offset 0, forward): what its next links hold."""
    return quote(base64.b64encode(f"p={quote(str(position), safe='')}".encode()).decode(), safe="")


def _deciles(values: list) -> list:
    return [values[len(values) * k // (DEEP_STARTS + 1)] for k in range(1, DEEP_STARTS + 1)]


def _endpoints(tenant, admin_key: str, distributor_key: str, group_id: int) -> list[Endpoint]:  # noqa: ANN001
    low = policy_for(tenant).low_cover_days
    size = f"page_size={PAGE_SIZE}"
    ids = list(Position.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True))
    stock = [Start(size, {"after": 0})]
    stock += [Start(f"{size}&cursor={_cursor(i)}", {"after": i}) for i in _deciles(ids)]

    red = []
    for code in sorted(Warehouse.objects.filter(tenant=tenant).values_list("code", flat=True))[:20]:
        raw = {"grade": "red", "warehouse": code, "after_at": "-infinity", "after_id": ZERO_UUID}
        red.append(Start(f"grade=red&warehouse={code}&{size}", raw))

    filters = "rule=stock_out_risk&active=true"
    base = {"rule": "stock_out_risk", "active": True}
    stamps = list(
        Alert.objects.filter(tenant=tenant, rule="stock_out_risk", active=True)
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
    )
    stockout = [Start(f"{filters}&{size}", {**base, "after_at": "-infinity", "after_id": ZERO_UUID})]
    stockout += [
        Start(f"{filters}&{size}&cursor={_cursor(at)}", {**base, "after_at": at, "after_id": LAST_UUID})
        for at in _deciles(stamps)
    ]

    granted = list(
        Position.objects.filter(tenant=tenant, warehouse__code=GRANTED_WAREHOUSE)
        .order_by("id")
        .values_list("id", flat=True)
    )
    region = Warehouse.objects.get(tenant=tenant, code=GRANTED_WAREHOUSE).region
    shared = [
        Start(f"band=low&{size}", {"bands": ["low"], "after": 0}),
        Start(f"band=low&band=out&{size}", {"bands": ["low", "out"], "after": 0}),
        Start(f"region={region}&{size}", {"region": region, "after": 0}),
        Start(size, {"after": 0}),
    ]
    shared += [Start(f"{size}&cursor={_cursor(i)}", {"after": i}) for i in _deciles(granted)[::2]]
    shared += [
        Start(f"band=low&{size}&cursor={_cursor(i)}", {"bands": ["low"], "after": i}) for i in _deciles(granted)[1::3]
    ]

    common = {"tenant": tenant.pk, "limit": PAGE_SIZE + 1, "group": group_id, "low": low}
    endpoints = [
        Endpoint(
            "stock",
            "stock/",
            admin_key,
            stock,
            _stock_raw,
            lambda row: f"{row['id']}:{row['available']}:{row['sku']['code']}:{row['warehouse']['code']}",
            lambda row: f"{row[0]}:{row[3]}:{row[7]}:{row[10]}",
        ),
        Endpoint("alerts_red_by_warehouse", "alerts/", admin_key, red, _alerts_raw),
        Endpoint("alerts_stockout_active", "alerts/", admin_key, stockout, _alerts_raw),
        Endpoint(
            "shared_stock",
            "shared-stock/",
            distributor_key,
            shared,
            _shared_raw,
            lambda row: f"{row['id']}:{row['band']}:{row['available']}:{row['warehouse']}",
            lambda row: f"{row[0]}:{row[8]}:{row[5]}:{row[3]}",
        ),
    ]
    for endpoint in endpoints:
        for start in endpoint.starts:
            start.raw = {**common, **start.raw}
    return endpoints


# --- In-process: the walk, queries per request, time without HTTP, a profile --------------------


def _client(key: str) -> Client:
    return Client(headers={"authorization": f"Bearer {key}"}, HTTP_HOST="127.0.0.1")


def _relative(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _walk(endpoint: Endpoint, prefix: str) -> None:
    """Every start's pages through the API, in-process: their ids and paths, checked as it goes."""
    client = _client(endpoint.key)
    for start in endpoint.starts:
        path, pages = endpoint.url(prefix, start.query), []
        while path and len(pages) < PAGES_PER_VISIT:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(
                    f"{endpoint.name}: {path} answered {response.status_code}: {response.content[:300]!r}"
                )
            body = response.json()
            if list(body) != ["next", "previous", "results"] or len(body["results"]) > PAGE_SIZE:
                raise RuntimeError(f"{endpoint.name}: unexpected page shape at {path}: {list(body)}")
            pages.append([endpoint.api_ident(row) for row in body["results"]])
            endpoint.page_paths.append(path)
            _check_rows(endpoint, start, body["results"])
            path = _relative(body["next"]) if body["next"] else None
        endpoint.page_ids[start.query] = pages


_STOCK_KEYS = {"id", "sku", "warehouse", "on_hand", "reserved", "available", "in_transit", "updated_at"}
_SHARED_KEYS = {"id", "sku", "sku_name", "warehouse", "region", "band", "exact", "available", "in_transit"}


def _check_rows(endpoint: Endpoint, start: Start, rows: list[dict]) -> None:
    failures = []
    for row in rows:
        if endpoint.name == "stock" and (
            set(row) != _STOCK_KEYS or row["available"] != row["on_hand"] - row["reserved"]
        ):
            failures.append(f"stock row {row}")
        elif endpoint.name.startswith("alerts"):
            wanted = {name: start.raw[name] for name in ("grade", "warehouse", "rule", "active") if name in start.raw}
            if any(row[name] != value for name, value in wanted.items()):
                failures.append(f"alert outside the filter {wanted}: {row['id']}")
        elif endpoint.name == "shared_stock":
            if set(row) != _SHARED_KEYS or row["warehouse"] != GRANTED_WAREHOUSE or not row["exact"]:
                failures.append(f"shared row outside the grant: {row}")
            elif "bands" in start.raw and row["band"] not in start.raw["bands"]:
                failures.append(f"shared row outside the band filter: {row}")
    if failures:
        raise RuntimeError(f"api_load self-check failed on {endpoint.name}: " + "; ".join(failures[:3]))


def _is_permission_query(sql: str) -> bool:
    return any(table in sql.lower() for table in PERMISSION_TABLES)


def _queries(endpoint: Endpoint) -> dict:
    """The statements of one request (after one warm request): count, tables, the list statement."""
    client, path = _client(endpoint.key), endpoint.page_paths[min(1, len(endpoint.page_paths) - 1)]
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{endpoint.name}: {path} answered {response.status_code}")
    statements = [query["sql"] for query in captured.captured_queries]
    tables = [re.search(r'FROM\s+"?(\w+)"?', sql, re.IGNORECASE) for sql in statements]
    listing = [sql for sql in statements if PAGE_QUERY.search(sql)]
    if len(listing) != 1:
        raise RuntimeError(
            f"{endpoint.name}: expected one list statement (LIMIT {PAGE_SIZE + 1}), found {len(listing)}"
        )
    return {
        "count": len(statements),
        "tables": ", ".join(
            match.group(1) if match else sql[:30] for match, sql in zip(tables, statements, strict=True)
        ),
        "permission_queries": sum(_is_permission_query(sql) for sql in statements),
        "list_sql": listing[0],
        "path": path,
    }


@contextmanager
def _sql_timer() -> Iterator[list[float]]:
    spent = [0.0]

    def timed(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - started

    with connection.execute_wrapper(timed):
        yield spent


# Where a request's time goes, in-process: these methods are wrapped with a wall clock while measured.
_SECTIONS = {
    "auth": (TenantScopedView, "initial"),  # authentication (API key), principal, access check
    "page": (GenericAPIView, "paginate_queryset"),  # the list statement, model instances, the cursor
    "serialize": (ListSerializer, "to_representation"),
    "render": (JSONRenderer, "render"),
}


@contextmanager
def _sections(sql: list[float]) -> Iterator[dict[str, list[float]]]:
    """Wall time and SQL time (from ``sql``, the running total of _sql_timer) spent in each section."""
    spent = {name: [0.0, 0.0] for name in _SECTIONS}
    originals = {name: owner.__dict__[method] for name, (owner, method) in _SECTIONS.items()}

    def wrap(name: str, original: Callable) -> Callable:
        def timed(*args: object, **kwargs: object) -> object:
            wall, sql_before = time.perf_counter(), sql[0]
            try:
                return original(*args, **kwargs)
            finally:
                spent[name][0] += time.perf_counter() - wall
                spent[name][1] += sql[0] - sql_before

        return timed

    for name, (owner, method) in _SECTIONS.items():
        setattr(owner, method, wrap(name, originals[name]))
    try:
        yield spent
    finally:
        for name, (owner, method) in _SECTIONS.items():
            setattr(owner, method, originals[name])


def _inprocess(endpoint: Endpoint) -> dict:
    """Requests through Django in this process (no HTTP, no gunicorn): total and SQL time each, and
    the mean split between authentication, the page query, the serializer and JSON rendering."""
    client = _client(endpoint.key)
    totals, sqls = [], []
    with _sql_timer() as sql, _sections(sql) as spent:
        for index in range(INPROCESS_REQUESTS):
            path = endpoint.page_paths[index % len(endpoint.page_paths)]
            started, sql_before = time.perf_counter(), sql[0]
            response = client.get(path)
            totals.append(time.perf_counter() - started)
            sqls.append(sql[0] - sql_before)
            if response.status_code != 200:
                raise RuntimeError(f"{endpoint.name}: {path} answered {response.status_code}")
    mean = {
        name: (wall / INPROCESS_REQUESTS * 1000, inner / INPROCESS_REQUESTS * 1000)
        for name, (wall, inner) in spent.items()
    }
    rest = sum(totals) / INPROCESS_REQUESTS * 1000 - sum(wall for wall, _ in mean.values())
    rest_sql = sum(sqls) / INPROCESS_REQUESTS * 1000 - sum(inner for _, inner in mean.values())
    split = (
        f"auth+tenant {mean['auth'][0]:.1f} (SQL {mean['auth'][1]:.1f}), "
        f"page query+models {mean['page'][0]:.1f} (SQL {mean['page'][1]:.1f}), "
        f"serializer {mean['serialize'][0]:.1f}, JSON {mean['render'][0]:.1f}, "
        f"rest {rest:.1f} (SQL {rest_sql:.1f}) ms"
    )
    return {"p50": statistics.median(totals), "sql_p50": statistics.median(sqls), "split": split}


def _profile(endpoint: Endpoint) -> str:
    client = _client(endpoint.key)
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(PROFILE_REQUESTS):
        client.get(endpoint.page_paths[index % len(endpoint.page_paths)])
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


# --- The raw baseline and the ORM's statement, timed over psycopg --------------------------------


def _raw_connection() -> psycopg.Connection:
    # prepare_threshold=None: planned on every execution, as Django's statements are.
    return psycopg.connect(settings.DATABASE_URL, autocommit=True, prepare_threshold=None)


def _raw(endpoint: Endpoint) -> dict:
    """Each start's pages as hand-written statements, serially; the first round's ids for the check."""
    latencies, ids = [], {}
    with _raw_connection() as conn, conn.cursor() as cursor:
        for round_ in range(RAW_ROUNDS + 1):
            for start in endpoint.starts:
                sql, after = endpoint.raw(start.raw)
                params, pages = dict(start.raw), []
                while len(pages) < PAGES_PER_VISIT:
                    began = time.perf_counter()
                    cursor.execute(sql, params)
                    rows = cursor.fetchall()
                    if round_:
                        latencies.append(time.perf_counter() - began)
                    pages.append([endpoint.raw_ident(row) for row in rows[:PAGE_SIZE]])
                    if len(rows) <= PAGE_SIZE:
                        break
                    params.update(after(rows[PAGE_SIZE - 1]))
                ids[start.query] = pages
        first = endpoint.starts[0]
        sql, _ = endpoint.raw(first.raw)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, first.raw)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    text = f"-- {endpoint.name}: the raw floor's statement, first page of {first.query}\n{sql}\n\n{plan}\n"
    return {"latencies": latencies, "ids": ids, "plan": text}


def _orm_statement(sql: str) -> tuple[float, str]:
    """The ORM's list statement run raw (median of 30), and its EXPLAIN (ANALYZE, BUFFERS)."""
    with _raw_connection() as conn, conn.cursor() as cursor:
        times = []
        for _ in range(31):
            began = time.perf_counter()
            cursor.execute(sql.encode())
            cursor.fetchall()
            times.append(time.perf_counter() - began)
        cursor.execute(b"EXPLAIN (ANALYZE, BUFFERS) " + sql.encode())
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return statistics.median(times[1:]), plan


def _diagnose(endpoint: Endpoint, prefix: str) -> dict:
    """Everything measured without gunicorn: the walk and its checks, queries, in-process time, the
    profile, the raw floor, the ORM's list statement run raw and its plans."""
    _walk(endpoint, prefix)
    queries = _queries(endpoint)
    inprocess = _inprocess(endpoint)
    profile = _profile(endpoint)
    raw = _raw(endpoint)
    first_sql = queries["list_sql"]
    orm_p50, first_plan = _orm_statement(first_sql)
    deep = endpoint.page_paths[len(endpoint.page_paths) // 2]
    with CaptureQueriesContext(connection) as captured:
        _client(endpoint.key).get(deep)
    deep_sql = next(q["sql"] for q in captured.captured_queries if PAGE_QUERY.search(q["sql"]))
    _, deep_plan = _orm_statement(deep_sql)
    plan = (
        f"-- {endpoint.name}: the list statement of {queries['path']}\n{first_sql}\n\n{first_plan}\n\n"
        f"-- {endpoint.name}: the list statement of {deep}\n{deep_sql}\n\n{deep_plan}\n\n{raw['plan']}"
    )
    without_distinct = None
    if re.match(r"\s*SELECT\s+DISTINCT\s", first_sql):
        # Diagnostic: the same statement without the DISTINCT that django-filter's MultipleChoiceFilter adds.
        without_distinct, plain_plan = _orm_statement(re.sub(r"^\s*SELECT\s+DISTINCT\s", "SELECT ", first_sql))
        plan += f"\n-- {endpoint.name} (diagnostic): the first list statement without DISTINCT\n{plain_plan}\n"
    return {
        "queries": queries,
        "inprocess": inprocess,
        "profile": profile,
        "raw": raw,
        "orm_p50": orm_p50,
        "without_distinct_p50": without_distinct,
        "plan": plan,
    }


# --- Load through gunicorn -----------------------------------------------------------------------

_NEXT = re.compile(rb'\{"next":(?:null|"([^"]+)")')


@dataclass(frozen=True)
class LoadSpec:
    host: str
    port: int
    headers: dict
    starts: tuple[str, ...]  # paths with their query
    threads: int
    first: int  # this process's first client number: clients start at different pages
    warm_until: float  # time.monotonic() values: the clock is the machine's, shared by processes
    stop_at: float


def _visit_loop(spec: LoadSpec, number: int, out: list) -> None:
    """One client: visits (a start page and the next links after it) until the window closes."""
    latencies, errors, samples, size, opened = [], 0, [], 0, 0
    conn = http.client.HTTPConnection(spec.host, spec.port, timeout=60)
    visit = number
    try:
        while time.monotonic() < spec.stop_at:
            path = spec.starts[visit % len(spec.starts)]
            visit += 1
            for _ in range(PAGES_PER_VISIT):
                began = time.monotonic()
                if began >= spec.stop_at:
                    break
                status, body, failure = 0, b"", ""
                fresh = conn.sock is None  # http.client connects in request(): a new connection
                try:
                    conn.request("GET", path, headers=spec.headers)
                    response = conn.getresponse()
                    body, status = response.read(), response.status
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    failure = f"{type(exc).__name__}: {exc}"
                ended = time.monotonic()
                if spec.warm_until <= ended < spec.stop_at:
                    latencies.append(ended - began)
                    size += len(body)
                    opened += fresh
                match = _NEXT.match(body) if status == 200 else None
                if match is None:
                    errors += 1
                    if len(samples) < 5:
                        samples.append(failure or f"{status} on {path}: {body[:200]!r}")
                    break
                if match.group(1) is None:
                    break
                path = _relative(match.group(1).decode())
    finally:
        conn.close()
    out.append((latencies, errors, samples, size, opened))


def _load_process(spec: LoadSpec, queue: multiprocessing.Queue) -> None:
    out: list = []
    threads = [threading.Thread(target=_visit_loop, args=(spec, spec.first + t, out)) for t in range(spec.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(
        {
            "latencies": [value for item in out for value in item[0]],
            "errors": sum(item[1] for item in out),
            "samples": [sample for item in out for sample in item[2]][:5],
            "bytes": sum(item[3] for item in out),
            "opened": sum(item[4] for item in out),
        }
    )


def _proc_ticks(port: int, loaders: set[int]) -> dict[str, int]:
    """CPU ticks so far: the machine's (all, idle) and gunicorn's, PostgreSQL's, the load generator's.

    A process counts its own ticks and those of its children it has reaped (cutime, cstime), so a
    PostgreSQL backend or parallel worker that ends inside the window is still counted, by the
    postmaster; the difference of two snapshots is then the group's CPU over the window."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:9]]
    ticks = {"total": sum(values), "idle": values[3] + values[4], "gunicorn": 0, "postgres": 0, "load": 0}
    marker = f"127.0.0.1:{port}".encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                text = stat.read()
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                command = cmdline.read()
        except OSError:
            continue
        comm, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        used = sum(int(value) for value in rest[11:15])  # utime, stime, cutime, cstime
        if int(name) in loaders:
            ticks["load"] += used
        elif b"gunicorn" in command and marker in command:
            ticks["gunicorn"] += used
        elif comm.startswith("postgres"):
            ticks["postgres"] += used
    return ticks


def _cores(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Cores each group used over the window (of os.cpu_count())."""
    return {name: (after[name] - before[name]) / os.sysconf("SC_CLK_TCK") / seconds for name in before}


def _cpu_split(cores: dict[str, float]) -> str:
    """The cores of each group; 'other' is the rest of the busy time."""
    other = cores["total"] - cores["idle"] - cores["gunicorn"] - cores["postgres"] - cores["load"]
    return (
        f"gunicorn {cores['gunicorn']:.2f}, postgres {cores['postgres']:.2f}, load generator {cores['load']:.2f}, "
        f"other {max(other, 0):.2f}, idle {cores['idle']:.2f} (cores of {os.cpu_count()})"
    )


def _hammer(
    base: str, endpoint: Endpoint, prefix: str, processes: int, threads: int, warm: float, measure: float
) -> dict:
    """processes x threads clients for warm + measure seconds; figures over the measured window."""
    parts = urlsplit(base)
    connections.close_all()  # no inherited database socket in the forked clients
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    warm_until = time.monotonic() + 0.3 + warm
    stop_at = warm_until + measure
    starts = tuple(endpoint.url(prefix, start.query) for start in endpoint.starts)
    headers = {"Authorization": f"Bearer {endpoint.key}", "Accept": "application/json"}
    workers = [
        context.Process(
            target=_load_process,
            args=(
                LoadSpec(parts.hostname, parts.port, headers, starts, threads, p * threads, warm_until, stop_at),
                queue,
            ),
        )
        for p in range(processes)
    ]
    label = f"api_load: {endpoint.name}, {processes * threads} connection{'s' if processes * threads > 1 else ''}"
    began = time.monotonic()
    bar = tqdm(total=round(stop_at - began), desc=label, unit="s", file=sys.stderr)
    for worker in workers:
        worker.start()
    loaders = {worker.pid for worker in workers}
    _sleep_until(warm_until, bar, began)
    before = _proc_ticks(parts.port, loaders)
    _sleep_until(stop_at, bar, began)
    after = _proc_ticks(parts.port, loaders)
    bar.close()
    results = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    latencies = sorted(value for result in results for value in result["latencies"])
    errors = sum(result["errors"] for result in results)
    if not latencies:
        raise RuntimeError(f"{endpoint.name}: no request completed in the window; errors {errors}")
    cores = _cores(before, after, measure)
    per_request = measure / len(latencies) * 1000  # ms of one core per request, for each core used
    return {
        "requests": len(latencies),
        "rps": len(latencies) / measure,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "max": latencies[-1],
        "errors": errors,
        "samples": [sample for result in results for sample in result["samples"]][:5],
        "kib_per_response": sum(result["bytes"] for result in results) / len(latencies) / 1024,
        "cpu": _cpu_split(cores),
        "load_generator_share": cores["load"] / (os.cpu_count() or 1),
        "gunicorn_cpu_ms": cores["gunicorn"] * per_request,
        "postgres_cpu_ms": cores["postgres"] * per_request,
        "connections_opened": sum(result["opened"] for result in results),
    }


def _sleep_until(moment: float, bar: tqdm, began: float) -> None:
    """Sleep, the bar counting whole seconds since ``began``."""
    while (left := moment - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        bar.update(min(bar.total, int(time.monotonic() - began)) - bar.n)


# --- The case -----------------------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def run(case: Case) -> dict:
    case_started = time.perf_counter()
    warehouses, skus = SIZES[case.scale.name]
    suffix = uuid.uuid4().hex[:8]
    tenant = services.tenant_create(slug=f"bench-api-{suffix}", name="Bench API load")
    admin = get_user_model().objects.create_user(username=f"bench-api-admin-{suffix}")
    services.membership_set(tenant=tenant, user=admin, role=Role.ADMIN)
    _, admin_key = services.api_key_create(tenant=tenant, user=admin, name="bench admin")
    distributor = services.partner_create(tenant=tenant, kind=PartnerKind.DISTRIBUTOR, name="Bench distributor")
    _, distributor_key = services.api_key_create(tenant=tenant, partner=distributor, name="bench distributor")

    started = time.perf_counter()
    data = _load(tenant, warehouses, skus, distributor)
    load_seconds = time.perf_counter() - started
    print(
        f"api_load: {data['positions']:,} positions ({warehouses} warehouses x {skus:,} SKUs), "
        f"{data['readings']:,} readings, {data['alerts']:,} alerts ({data['active_alerts']:,} active), "
        f"{data['granted_positions']:,} positions granted to the distributor; loaded in {load_seconds:.1f}s",
        flush=True,
        file=sys.stderr,
    )

    endpoints = _endpoints(tenant, admin_key, distributor_key, distributor.group_id)
    prefix = f"/api/v1/tenants/{tenant.slug}/"
    bar = tqdm(total=len(endpoints), desc="api_load: in-process, raw SQL, plans", unit="endpoint", file=sys.stderr)
    with override_settings(ALLOWED_HOSTS=["127.0.0.1"]):
        diagnosed = {}
        for endpoint in endpoints:
            diagnosed[endpoint.name] = _diagnose(endpoint, prefix)
            bar.update(1)
    bar.close()
    _check_same_rows(endpoints, {name: found["raw"] for name, found in diagnosed.items()})

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api_load_plans.txt").write_text("\n\n".join(found["plan"] for found in diagnosed.values()))
    (RESULTS / "api_load_profile.txt").write_text(
        "\n\n".join(
            f"==== {name}: {PROFILE_REQUESTS} in-process requests\n{found['profile']}"
            for name, found in diagnosed.items()
        )
    )

    workers = gunicorn_workers()
    serial, loaded = {}, {}
    with gunicorn_server() as base_url:
        for endpoint in endpoints:
            serial[endpoint.name] = _hammer(base_url, endpoint, prefix, 1, 1, 1.0, SERIAL_SECONDS)
            loaded[endpoint.name] = _hammer(
                base_url, endpoint, prefix, LOAD_PROCESSES, workers, WARM_UP_SECONDS, MEASURE_SECONDS
            )
    failures = [
        f"{name} ({kind}): {result['errors']} errors, e.g. {result['samples'][:2]}"
        for kind, results in (("serial", serial), ("load", loaded))
        for name, result in results.items()
        if result["errors"]
    ]
    if failures:
        raise RuntimeError("api_load self-check failed: " + "; ".join(failures))

    figures = {
        "positions": data["positions"],
        "warehouses": warehouses,
        "skus": skus,
        "readings": data["readings"],
        "alerts": data["alerts"],
        "active_alerts": data["active_alerts"],
        "distributor_granted_positions": data["granted_positions"],
        "load_seconds_setup": round(load_seconds, 1),
        "gunicorn_workers": workers,
        "gunicorn_worker_class": "gthread (gunicorn.conf.py)",
        "gunicorn_threads": int(os.environ.get("GUNICORN_THREADS", "4")),
        "load_connections": LOAD_PROCESSES * workers,
        "load_generator": f"{LOAD_PROCESSES} processes x {workers} threads, http.client keep-alive, loopback",
        "pages_per_visit": PAGES_PER_VISIT,
        "warm_up_seconds": WARM_UP_SECONDS,
        "measure_seconds_per_endpoint": MEASURE_SECONDS,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_requests_per_second": GOAL_RPS,
        "goal_stock_requests_per_second": GOAL_STOCK_RPS,
    }
    goals = []
    for endpoint in endpoints:
        name, load, one = endpoint.name, loaded[endpoint.name], serial[endpoint.name]
        found = diagnosed[name]
        inner, query, raw = found["inprocess"], found["queries"], sorted(found["raw"]["latencies"])
        raw_p50 = statistics.median(raw)
        met = load["p95"] * 1000 <= GOAL_P95_MS and load["rps"] >= (GOAL_STOCK_RPS if name == "stock" else GOAL_RPS)
        goals.append(met)
        figures.update(
            {
                f"{name}_requests": load["requests"],
                f"{name}_requests_per_second": round(load["rps"], 1),
                f"{name}_p50_ms": _ms(load["p50"]),
                f"{name}_p95_ms": _ms(load["p95"]),
                f"{name}_p99_ms": _ms(load["p99"]),
                f"{name}_max_ms": _ms(load["max"]),
                f"{name}_errors": load["errors"],
                f"{name}_kib_per_response": round(load["kib_per_response"], 1),
                f"{name}_cpu_under_load": load["cpu"],
                f"{name}_load_generator_cpu_share": f"{load['load_generator_share']:.0%}",
                f"{name}_gunicorn_cpu_ms_per_request": round(load["gunicorn_cpu_ms"], 2),
                f"{name}_postgres_cpu_ms_per_request": round(load["postgres_cpu_ms"], 2),
                f"{name}_connections_opened": load["connections_opened"],
                f"{name}_goal": "met" if met else "not met",
                f"{name}_serial_requests_per_second": round(one["rps"], 1),
                f"{name}_serial_p50_ms": _ms(one["p50"]),
                f"{name}_serial_p95_ms": _ms(one["p95"]),
                f"{name}_inprocess_p50_ms": _ms(inner["p50"]),
                f"{name}_inprocess_sql_p50_ms": _ms(inner["sql_p50"]),
                f"{name}_inprocess_split_mean": inner["split"],
                f"{name}_orm_list_statement_p50_ms": _ms(found["orm_p50"]),
                **(
                    {f"{name}_orm_list_statement_without_distinct_p50_ms": _ms(found["without_distinct_p50"])}
                    if found["without_distinct_p50"] is not None
                    else {}
                ),
                f"{name}_raw_sql_p50_ms": _ms(raw_p50),
                f"{name}_raw_sql_p95_ms": _ms(percentile(raw, 0.95)),
                f"{name}_ratio_http_p50_to_raw_p50": round(load["p50"] / raw_p50, 1),
                f"{name}_ratio_serial_p50_to_raw_p50": round(one["p50"] / raw_p50, 1),
                f"{name}_queries_per_request": query["count"],
                f"{name}_queries": query["tables"],
                f"{name}_list_statement_distinct": "yes"
                if re.match(r"\s*SELECT\s+DISTINCT", query["list_sql"])
                else "no",
            }
        )
    # Not in the counts above: CONN_HEALTH_CHECKS sends a SELECT 1 on the raw connection each request.
    figures["conn_health_check_per_request"] = "yes" if connection.settings_dict["CONN_HEALTH_CHECKS"] else "no"
    shared = diagnosed["shared_stock"]["queries"]
    permission = shared["permission_queries"]
    in_list = "inventory_warehousegroupobjectpermission" in shared["list_sql"]
    figures["shared_view_permission_queries"] = permission
    figures["shared_view_grant_join_in_list_query"] = "yes" if in_list else "no"
    figures["goal_permission_queries"] = GOAL_PERMISSION_QUERIES
    figures["goal_list_pages"] = "met" if all(goals) else f"not met ({goals.count(False)} of {len(goals)} endpoints)"
    figures["goal_shared_view_one_permission_query"] = (
        "met" if permission == GOAL_PERMISSION_QUERIES and in_list else "not met"
    )
    figures["case_seconds"] = round(time.perf_counter() - case_started, 1)
    return figures


def _check_same_rows(endpoints: list[Endpoint], raws: dict) -> None:
    """Every start's pages through the API list the same rows, in order, as the raw statements."""
    failures = []
    for endpoint in endpoints:
        for start in endpoint.starts:
            api, raw = endpoint.page_ids[start.query], raws[endpoint.name]["ids"][start.query]
            if api != raw:
                failures.append(
                    f"{endpoint.name} {start.query}: API pages {[len(p) for p in api]} != raw {[len(p) for p in raw]}"
                    f" (first ids {api[0][:2] if api and api[0] else None} vs {raw[0][:2] if raw and raw[0] else None})"
                )
            if not api or not api[0]:
                failures.append(f"{endpoint.name} {start.query}: an empty first page")
    if failures:
        raise RuntimeError("api_load self-check failed: " + "; ".join(failures[:5]))
