"""Warning-engine benchmark: full runs against one raw SQL scan and the naive ORM loop; incremental
latency from an ingestion push to the alert on the API, through gunicorn and a real Celery worker.

Setup (not measured): one tenant of N positions (SKUs x warehouses) with EVALUATION_DAYS days of
daily facts, lots, supplier offers and a few market signals, written set-based (INSERT ...
SELECT generate_series) straight into the tables. Sales vary by velocity class, warehouse size and
weekday; a share of the positions is built to trip rules (short cover, deep overstock, fading
sales, dead stock, flopping launches, short shelf lives).

Measured, in one process on the same data:
- the floor: one raw SQL scan reading the same daily facts the engine reads (its 90-day window),
  ``GROUP BY`` SKU and warehouse, every row fetched;
- the engine's full run (``evaluation_start`` + ``run_execute``, chunk by chunk), first (alerts
  created) and again over unchanged data, with the time inside ``chunk_evaluate`` split into
  the indicator SQL, Python assessment, reading writes, recommendations and the alert diff;
- the naive way on a sample (an ORM loop per position reading its facts and lots and computing a
  few indicators), extrapolated to all positions;
- incremental: sequential single-sale pushes over HTTP, each taking one position into stock-out
  risk; from the push's 201 (committed) until GET alerts/?sku=&warehouse= shows the new alert,
  and until the signed alert.opened reaches a local receiver (the tenant's endpoint);
- memory: a full run through a real worker process, its peak resident memory (VmHWM).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from bench.harness import (
    EVALUATION_DAYS,
    Case,
    celery_worker,
    gunicorn_server,
    http_get,
    http_post,
    percentile,
    progress,
)
from core.alerts import engine, runs
from core.alerts.indicators import FACT_DAYS, indicator_sql
from core.alerts.models import Alert, AlertEvent, EvaluationRun, EvaluationTrigger, IndicatorReading, RuleCode
from core.inventory.master_ingestion import SPECS, master_ingest, master_rows_parse
from core.inventory.models import DailyFact, Lot, Position
from core.supply.models import SupplierOffer
from core.webhooks.models import OutboxEvent
from core.webhooks.services import endpoint_create
from tenants import services
from tenants.models import PartnerKind
from tenants.principals import SYSTEM_ACTOR

RESULTS = Path(__file__).resolve().parent / "results"
PROFILES = ("fmcg", "electronics", "apparel", "general")
SHELF_LIFE_DAYS = (60, 90, 120, 180, 365)
LOAD_CHUNKS = 20
WARM_UP_PUSHES = 2  # the worker's first tasks (imports, connections) are not counted
PUSH_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.01


# --- Data ---------------------------------------------------------------------------------------


def _master(tenant, skus: int, warehouses: int, today: date) -> None:  # noqa: ANN001
    sku_rows = []
    for i in range(skus):
        profile = PROFILES[i % len(PROFILES)]
        h = i % 20
        velocity = "cash_cow" if h < 3 else "strategic_reserve" if h < 8 else "long_tail"
        cost = 2 + (i * 7919 % 1000) / 10
        row = {
            "code": f"E{i:05d}",
            "name": f"Bench item {i}",
            "category": profile,
            "velocity_class": velocity,
            "unit_cost": f"{cost:.2f}",
            "list_price": f"{cost * 1.6:.2f}",
        }
        if i % 37 == 5:  # a recent launch
            row["launch_date"] = (today - timedelta(days=20 + i % 30)).isoformat()
        if profile == "fmcg":
            row["shelf_life_days"] = SHELF_LIFE_DAYS[i % len(SHELF_LIFE_DAYS)]
        sku_rows.append(row)
    for name, rows in (
        ("categories", [{"code": p, "name": p.title(), "profile": p} for p in PROFILES]),
        (
            "warehouses",
            [
                {
                    "code": f"EW{j:03d}",
                    "name": f"Bench warehouse {j}",
                    "region": f"r{j % 6}",
                    "kind": "distribution_centre" if j % 10 == 0 else "third_party" if j % 10 == 1 else "store",
                }
                for j in range(warehouses)
            ],
        ),
        ("skus", sku_rows),
    ):
        columns, errors = master_rows_parse(SPECS[name], rows)
        assert not errors, errors.as_list() if hasattr(errors, "as_list") else errors
        master_ingest(tenant=tenant, spec=SPECS[name], columns=columns)


_OFFERS = SupplierOffer._meta.db_table
_OFFERS_SQL = f"""
INSERT INTO {_OFFERS} (id, created_at, updated_at, tenant_id, supplier_id, sku_id, rank,
                                       lead_time_days, unit_price, min_order_quantity, capacity_per_week,
                                       reliability, freight_per_unit, duty_rate)
SELECT gen_random_uuid(), now(), now(), %(tenant)s, %(supplier)s, s.id, %(rank)s,
       5 + (abs(hashtext(s.code)) %% 26) + %(extra)s, s.unit_cost, 10, NULL, 0.9, 0, 0
FROM inventory_sku s
WHERE s.tenant_id = %(tenant)s AND abs(hashtext(s.code || 'offer')) %% 100 < %(share)s
"""

# One row per position: its daily rate, its story, the days of cover it holds, its receipt cycle.
_PLAN_SQL = f"""
CREATE TEMP TABLE bench_plan AS
WITH pairs AS (
    SELECT s.id AS sku_id, w.id AS warehouse_id, s.code AS sku_code, s.velocity_class, s.shelf_life_days,
           s.launch_date, s.list_price,
           COALESCE(o.lead_time_days, 14) AS lead,
           CASE WHEN w.kind = 'distribution_centre' THEN 1.8 WHEN w.kind = 'third_party' THEN 1.0
                ELSE 0.6 + random() * 0.6 END AS size,
           random() AS u_rate, random() AS u_kind, random() AS u_cover
    FROM inventory_sku s
    CROSS JOIN inventory_warehouse w
    LEFT JOIN {_OFFERS} o ON o.sku_id = s.id AND o.rank = 1 AND o.tenant_id = %(tenant)s
    WHERE s.tenant_id = %(tenant)s AND w.tenant_id = %(tenant)s
), planned AS (
    SELECT row_number() OVER (ORDER BY sku_code, warehouse_id) AS n, pairs.*,
           size * CASE velocity_class WHEN 'cash_cow' THEN 6 + 12 * u_rate
                                      WHEN 'strategic_reserve' THEN 1.2 + 2.8 * u_rate
                                      ELSE 0.08 + 0.72 * u_rate END AS rate,
           CASE WHEN u_kind < 0.05 THEN 'stockout' WHEN u_kind < 0.10 THEN 'overstock'
                WHEN u_kind < 0.14 THEN 'fading' WHEN u_kind < 0.16 THEN 'dead' ELSE 'normal' END AS kind
    FROM pairs
)
SELECT planned.*,
       7 + (n %% 21)::int AS cycle,
       CASE kind WHEN 'stockout' THEN lead * (0.1 + 0.5 * u_cover)
                 WHEN 'overstock' THEN 250 + 250 * u_cover
                 ELSE lead + 10 + 40 * u_cover END AS cover
FROM planned
"""

_POSITIONS_SQL = """
INSERT INTO inventory_position (tenant_id, sku_id, warehouse_id, on_hand, reserved, in_transit, created_at,
                                updated_at)
SELECT %(tenant)s, sku_id, warehouse_id,
       CASE WHEN kind = 'dead' THEN 20 + floor(u_cover * 280) ELSE round(rate * cover) END::bigint, 0, 0,
       now(), now()
FROM bench_plan ORDER BY n
"""

# Sales drawn per day; receipts replenish them: the receipt opening each cycle brings exactly what
# that cycle sells, so every past end-of-day stock is on hand now plus unsold cycle stock, never
# below zero (the ledger's own invariant), and the facts reconcile with the positions.
_FACTS_SQL = """
INSERT INTO inventory_dailyfact (tenant_id, position_id, day, units_sold, revenue, units_returned,
                                 units_received, units_flagged, net_change, receipts_promised,
                                 receipt_delay_days, receipt_delay_days_sq)
SELECT %(tenant)s, position_id, day, sold, sold * list_price, 0, received, 0, received - sold,
       promised, promised * delay, promised * delay * delay
FROM (
    SELECT g.position_id, g.list_price, g.day, g.sold, g.received, g.delay,
           CASE WHEN g.received > 0 AND g.u < 0.7 THEN 1 ELSE 0 END AS promised
    FROM (
        SELECT s.*, CASE WHEN s.d = max(s.d) OVER w THEN sum(s.sold) OVER w ELSE 0 END AS received
        FROM (
            SELECT p.position_id, p.list_price, x.d, x.day, (x.d + p.n %% p.cycle) / p.cycle AS segment,
                   floor(
                       p.rate
                       * (ARRAY[0.85, 0.87, 0.90, 0.95, 1.08, 1.25, 1.10])[extract(isodow FROM x.day)::int]
                       * CASE p.kind WHEN 'fading' THEN CASE WHEN x.d < 28 THEN 0.15 + 0.85 * x.d / 28.0 ELSE 1 END
                                     WHEN 'dead' THEN CASE WHEN x.d < 100 THEN 0 ELSE 1 END
                                     ELSE 1 END
                       * CASE WHEN p.launch_date IS NULL THEN 1 WHEN x.day < p.launch_date THEN 0 ELSE 0.3 END
                       * (0.4 + 1.2 * random()) + random()
                   )::bigint AS sold,
                   random() AS u, floor(random() * 5)::bigint AS delay
            FROM bench_plan p
            CROSS JOIN LATERAL (
                SELECT d, %(today)s::date - d AS day FROM generate_series(0, %(days)s - 1) AS d
            ) x
            WHERE p.n > %(low)s AND p.n <= %(high)s
        ) s
        WINDOW w AS (PARTITION BY s.position_id, s.segment)
    ) g
) f
WHERE sold > 0 OR received > 0
"""

_LOTS_SQL = """
INSERT INTO inventory_lot (tenant_id, position_id, lot_code, quantity, received_on, expires_on, created_at)
SELECT %(tenant)s, position_id, '', quantity, received_on, received_on + shelf_life_days, now()
FROM (
    SELECT p.position_id, p.shelf_life_days,
           CASE k WHEN 1 THEN pos.on_hand / 2 ELSE pos.on_hand - pos.on_hand / 2 END AS quantity,
           %(today)s::date - CASE p.kind WHEN 'dead' THEN 120 + floor(random() * 200)
                                         WHEN 'overstock' THEN 30 + floor(random() * 200)
                                         ELSE 1 + floor(random() * LEAST(p.cover, 80)) END::int AS received_on
    FROM bench_plan p
    JOIN inventory_position pos ON pos.id = p.position_id
    CROSS JOIN generate_series(1, 2) AS k
) l
WHERE quantity > 0
"""

_SIGNALS_SQL = """
INSERT INTO alerts_signal (tenant_id, sku_id, day, competitor_price, social_volume, supplier_lead_time_index,
                           updated_at)
SELECT %(tenant)s, s.id, %(today)s::date - d,
       round(s.list_price * (0.8 + 0.3 * random())::numeric, 2),
       (100 + 400 * random())::bigint * CASE WHEN d < 7 AND abs(hashtext(s.code)) %% 3 = 0 THEN 0.5 ELSE 1 END,
       round((0.9 + 0.5 * random())::numeric, 2), now()
FROM inventory_sku s CROSS JOIN generate_series(0, 34) AS d
WHERE s.tenant_id = %(tenant)s AND abs(hashtext(s.code || 'signal')) %% 10 = 0
"""


def _load(tenant, case: Case, today: date, days: int = EVALUATION_DAYS) -> dict:  # noqa: ANN001
    """The case's tenant data, with ``days`` days of daily facts ending today (the warnings backtest
    loads more: its replay reads 90 days of history before each day it replays)."""
    scale = case.scale
    warehouses = scale.evaluation_warehouses
    skus = scale.evaluation_positions // warehouses
    params = {"tenant": tenant.pk, "today": today, "days": days}
    bar = tqdm(total=LOAD_CHUNKS + 2, desc="evaluation: loading (setup)", unit="step", file=sys.stderr)
    _master(tenant, skus, warehouses, today)
    suppliers = [
        services.partner_create(tenant=tenant, kind=PartnerKind.SUPPLIER, name=f"Bench supplier {k}") for k in (1, 2)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")  # one seeded random() stream
        cursor.execute("SELECT setseed(0.4242)")
        cursor.execute(_OFFERS_SQL, {**params, "supplier": suppliers[0].pk, "rank": 1, "extra": 0, "share": 85})
        cursor.execute(_OFFERS_SQL, {**params, "supplier": suppliers[1].pk, "rank": 2, "extra": 7, "share": 30})
        cursor.execute("DROP TABLE IF EXISTS bench_plan")
        cursor.execute(_PLAN_SQL, params)
        cursor.execute(_POSITIONS_SQL, params)
        cursor.execute("ALTER TABLE bench_plan ADD COLUMN position_id bigint")
        cursor.execute(
            "UPDATE bench_plan p SET position_id = pos.id FROM inventory_position pos "
            "WHERE pos.tenant_id = %(tenant)s AND pos.sku_id = p.sku_id AND pos.warehouse_id = p.warehouse_id",
            params,
        )
        cursor.execute("ANALYZE bench_plan")
        bar.update(1)
        total = scale.evaluation_positions
        bounds = [round(total * k / LOAD_CHUNKS) for k in range(LOAD_CHUNKS + 1)]
        for low, high in itertools.pairwise(bounds):
            cursor.execute(_FACTS_SQL, {**params, "low": low, "high": high})
            bar.update(1)
        cursor.execute(_LOTS_SQL, params)
        cursor.execute(_SIGNALS_SQL, params)
        cursor.execute("SELECT kind, count(*) FROM bench_plan GROUP BY kind ORDER BY kind")
        kinds = dict(cursor.fetchall())
        cursor.execute("DROP TABLE bench_plan")
        cursor.execute("RESET max_parallel_workers_per_gather")
        # The steady state of a live database: autovacuum has seen the tables.
        for table in (
            "inventory_position",
            "inventory_dailyfact",
            "inventory_lot",
            _OFFERS,
            "alerts_signal",
            "inventory_sku",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        bar.update(1)
        bar.close()
        cursor.execute("SELECT count(*) FROM inventory_dailyfact WHERE tenant_id = %s", [tenant.pk])
        facts = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM inventory_lot WHERE tenant_id = %s", [tenant.pk])
        lots = cursor.fetchone()[0]
    return {"skus": skus, "warehouses": warehouses, "daily_facts": facts, "lots": lots, "kinds": kinds}


# --- The floor: one raw SQL scan ----------------------------------------------------------------

_RAW_SCAN_SQL = """
SELECT p.sku_id, p.warehouse_id,
       sum(f.units_sold) AS sold_90,
       sum(f.units_sold) FILTER (WHERE f.day > %(today)s::date - 28) AS sold_28,
       sum(f.units_sold) FILTER (WHERE f.day > %(today)s::date - 7) AS sold_7,
       sum(f.net_change) AS net,
       sum(f.receipts_promised) AS promised
FROM inventory_dailyfact f
JOIN inventory_position p ON p.id = f.position_id
WHERE f.tenant_id = %(tenant)s AND f.day > %(today)s::date - %(days)s AND f.day <= %(today)s::date
GROUP BY p.sku_id, p.warehouse_id
"""


def _raw_scan(tenant, today: date) -> tuple[float, int]:  # noqa: ANN001
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(_RAW_SCAN_SQL, {"tenant": tenant.pk, "today": today, "days": FACT_DAYS})
        rows = cursor.fetchall()
        return time.perf_counter() - started, len(rows)


# --- The engine, instrumented -------------------------------------------------------------------

_PARTS = {
    "indicator_rows": "sql",  # the indicator statement, fetch and row dicts
    "_assess": "assess",  # Python: policies, readings_derive, rules
    "_readings_write": "readings_write",  # COPY + upsert of the readings
    "_recommend": "recommend",  # context queries + recommendations
    "_alerts_diff": "alerts_diff",  # read active alerts, diff, bulk writes
}


@contextlib.contextmanager
def _instrumented(bar: tqdm | None) -> Iterator[dict[str, float]]:
    """Time the parts of ``chunk_evaluate`` (module attributes wrapped in place; restored after)."""
    spent: dict[str, float] = defaultdict(float)
    originals = {name: getattr(engine, name) for name in _PARTS}
    original_chunk = runs.chunk_evaluate

    def timed(name: str, function):  # noqa: ANN001, ANN202
        def wrapper(*args, **kwargs):  # noqa: ANN202
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[_PARTS[name]] += time.perf_counter() - started

        return wrapper

    def chunk(*args, **kwargs):  # noqa: ANN202
        started = time.perf_counter()
        counts = original_chunk(*args, **kwargs)
        spent["chunks"] += time.perf_counter() - started
        if bar is not None:
            bar.update(len(kwargs["position_ids"]))
        return counts

    for name, function in originals.items():
        setattr(engine, name, timed(name, function))
    runs.chunk_evaluate = chunk
    try:
        yield spent
    finally:
        for name, function in originals.items():
            setattr(engine, name, function)
        runs.chunk_evaluate = original_chunk


@contextlib.contextmanager
def _session_jit_off() -> Iterator[None]:
    """Diagnostic only: this process's database session without JIT compilation."""
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def _full_run(tenant, today: date, positions: int, label: str, *, jit: bool = True) -> dict:  # noqa: ANN001
    bar = tqdm(total=positions, desc=f"evaluation: {label}", unit="pos", file=sys.stderr, dynamic_ncols=True)
    with _instrumented(bar) as spent, contextlib.nullcontext() if jit else _session_jit_off():
        started = time.perf_counter()
        run = runs.evaluation_start(tenant=tenant, actor=SYSTEM_ACTOR, as_of=today)
        done = runs.run_execute(run_id=run.pk)
        seconds = time.perf_counter() - started
    bar.close()
    if done is None or done.status != "succeeded":
        raise RuntimeError(f"the {label} did not succeed: {done and done.error}")
    return {"seconds": seconds, "counts": done.counts, "spent": dict(spent), "positions": done.positions_done}


def _explain_chunk(tenant, today: date) -> tuple[str, float, float]:  # noqa: ANN001
    ids = list(
        Position.objects.filter(tenant=tenant)
        .order_by("id")
        .values_list("id", flat=True)[: settings.EVALUATION_CHUNK_POSITIONS]
    )
    statement, parameters = indicator_sql(), {"tenant": tenant.pk, "ids": ids, "today": today}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        # The statement alone, without EXPLAIN's per-node timing overhead, rows fetched.
        started = time.perf_counter()
        cursor.execute(statement, parameters)
        cursor.fetchall()
        plain = time.perf_counter() - started
    with _session_jit_off(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(statement, parameters)
        cursor.fetchall()
        no_jit = time.perf_counter() - started
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan_no_jit = "\n".join(row[0] for row in cursor.fetchall())
    text = (
        f"-- The indicator statement, one chunk of {len(ids)} positions, as of {today}, server settings as they "
        f"are\n{plan}\n\n"
        f"-- The same with SET jit = off (diagnostic)\n{plan_no_jit}\n"
    )
    return text, plain, no_jit


# --- The naive way -------------------------------------------------------------------------------


def _naive(tenant, today: date, sample: int, total: int) -> tuple[float, int, int]:  # noqa: ANN001
    """Per position: the position, its facts and its lots by the ORM, a few indicators in Python."""
    step = max(1, total // sample)
    ids = list(Position.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True))[::step][:sample]
    since = today - timedelta(days=FACT_DAYS)
    flagged = 0
    started = time.perf_counter()
    for position_id in progress(ids, "evaluation: naive ORM loop (sample)"):
        position = Position.objects.select_related("sku").get(tenant=tenant, pk=position_id)
        facts = list(DailyFact.objects.filter(tenant=tenant, position=position, day__gt=since, day__lte=today))
        lots = list(Lot.objects.filter(tenant=tenant, position=position, quantity__gt=0))
        sold_7 = sum(f.units_sold for f in facts if f.day > today - timedelta(days=7))
        last_28 = [f.units_sold for f in facts if f.day > today - timedelta(days=28)]
        sold_28, sold_90 = sum(last_28), sum(f.units_sold for f in facts)
        ads_28 = sold_28 / 28
        available = position.on_hand - position.reserved
        cover = available / ads_28 if ads_28 > 0 else None
        mean = sold_28 / 28
        sigma = (sum((v - mean) ** 2 for v in last_28 + [0] * (28 - len(last_28))) / 27) ** 0.5
        safety = 1.645 * sigma * 14**0.5
        net_weighted = sum(f.net_change * (f.day - (today - timedelta(days=FACT_DAYS - 1))).days for f in facts)
        average_on_hand = max(0.0, position.on_hand - net_weighted / FACT_DAYS)
        turnover_days = average_on_hand * FACT_DAYS / sold_90 if sold_90 else None
        quantity = sum(lot.quantity for lot in lots)
        age = sum(lot.quantity * max((today - lot.received_on).days, 0) for lot in lots) / quantity if quantity else 0
        stockout = ads_28 > 0 and (available < safety or (cover is not None and cover < 14))
        overstock = position.on_hand > 0 and ((turnover_days or 0) > 90 or (turnover_days is None and age > 90))
        flagged += int(stockout or overstock or sold_7 < 0)
    return time.perf_counter() - started, len(ids), flagged


# --- Incremental --------------------------------------------------------------------------------


def _targets(tenant, count: int) -> list[dict]:  # noqa: ANN001
    """Selling positions with cover enough and no stock-out alert, and the sale that ends that."""
    alerted = Alert.objects.filter(tenant=tenant, active=True, rule=RuleCode.STOCK_OUT_RISK).values("position_id")
    readings = (
        IndicatorReading.objects.filter(tenant=tenant, stockout_risk=False, ads_28__gte=1, available__gte=20)
        .exclude(position_id__in=alerted)
        .select_related("sku", "warehouse")
        .order_by("position_id")
    )
    targets, skus = [], set()
    for reading in readings.iterator(chunk_size=500):
        if reading.sku_id in skus:  # spread over SKUs
            continue
        keep = int(0.3 * reading.ads_28 * reading.lead_time_days)  # 30 % of the lead time's cover: red
        if reading.available - keep < 1:
            continue
        targets.append(
            {
                "position_id": reading.position_id,
                "sku": reading.sku.code,
                "warehouse": reading.warehouse.code,
                "quantity": reading.available - keep,
                "unit_price": str(reading.sku.list_price),
            }
        )
        skus.add(reading.sku_id)
        if len(targets) >= count:
            break
    if len(targets) < count:
        raise RuntimeError(f"only {len(targets)} positions fit an incremental push; wanted {count}")
    return targets


def _incremental(tenant, key: str, pushes: int) -> dict:  # noqa: ANN001
    import redis

    from bench.webhooks import RECEIVER_PATH, _receiver

    targets = _targets(tenant, pushes + WARM_UP_PUSHES)
    # Our Redis database only (the runner points REDIS_URL at the bench's number): the queued
    # messages of the full runs above (already done in-process) and any stale key go.
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    ingest = f"/api/v1/tenants/{tenant.slug}/ingest/movements/"
    latencies, posts, polls, hooks = [], [], [], []
    since = timezone.now()
    with (
        _receiver() as receiver,
        gunicorn_server() as base_url,
        celery_worker(queues="evaluation,webhooks,outbox,procurement,default") as worker,
    ):
        # The tenant's own system listens for alert.opened at a local receiver: the last leg of
        # the latency, commit -> alert readable -> webhook received, as a partner sees it.
        # The full runs above left their events in the outbox unrelayed (no worker ran): they are
        # not this measurement's, and would otherwise reach the new endpoint first.
        OutboxEvent.objects.filter(tenant=tenant, relayed_at__isnull=True).update(relayed_at=timezone.now())
        _, secret = endpoint_create(tenant=tenant, actor=SYSTEM_ACTOR, url=receiver.url(), event_types=["alert.opened"])
        receiver.expect({RECEIVER_PATH: secret}, len(targets))
        for index, target in enumerate(progress(targets, "evaluation: incremental pushes")):
            tag = uuid.uuid4().hex[:12]
            line = {
                "kind": "sale",
                "sku": target["sku"],
                "warehouse": target["warehouse"],
                "quantity": target["quantity"],
                "occurred_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "external_ref": f"bench-inc-{tag}",
                "order_ref": f"bench-inc-o-{tag}",
                "unit_price": target["unit_price"],
            }
            query = urlencode({"sku": target["sku"], "warehouse": target["warehouse"], "rule": RuleCode.STOCK_OUT_RISK})
            alerts_url = f"{base_url}/api/v1/tenants/{tenant.slug}/alerts/?{query}&active=true"
            started = time.monotonic()  # the receiver stamps arrivals with the same system-wide clock
            status, answer = http_post(
                base_url + ingest, json.dumps([line]).encode(), {**headers, "Idempotency-Key": str(uuid.uuid4())}
            )
            committed = time.monotonic()
            if status != 201:
                raise RuntimeError(f"push answered {status}: {answer[:500]!r}")
            deadline = committed + (120 if index < WARM_UP_PUSHES else PUSH_TIMEOUT_SECONDS)
            count = 0
            while True:
                status, answer = http_get(alerts_url, {"Authorization": headers["Authorization"]})
                count += 1
                if status != 200:
                    raise RuntimeError(f"alerts answered {status}: {answer[:500]!r}")
                body = json.loads(answer)
                if body.get("results", body) if isinstance(body, dict) else body:
                    break
                if worker.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited with {worker.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no stock-out alert for {target} within the deadline")
                time.sleep(POLL_SECONDS)
            seen = time.monotonic()
            # Then the signed alert.opened at the receiver (one per push: only this position is dirty).
            while receiver.arrived(wait=POLL_SECONDS) < index + 1:
                if worker.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited with {worker.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no alert.opened webhook for {target} within the deadline")
            arrived, _, _, _, verified = receiver.records()[index]
            if not verified:
                raise RuntimeError("a webhook arrived whose signature did not verify")
            if index >= WARM_UP_PUSHES:
                latencies.append(seen - committed)
                posts.append(committed - started)
                polls.append(count)
                hooks.append(arrived - committed)
    incremental = list(
        EvaluationRun.objects.filter(
            tenant=tenant, trigger=EvaluationTrigger.INCREMENTAL, created_at__gte=since, status="succeeded"
        ).order_by("created_at")
    )[WARM_UP_PUSHES:]
    run_seconds = [(r.finished_at - r.started_at).total_seconds() for r in incremental if r.finished_at]
    return {
        "latencies": latencies,
        "webhooks": hooks,
        "posts": posts,
        "polls": polls,
        "runs": len(incremental),
        "run_seconds": run_seconds,
        "positions_per_run": [r.positions_done for r in incremental],
    }


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def _pool_child(worker_pid: int, timeout: float = 60) -> int:
    """The prefork pool's one child: the process that runs the tasks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("the Celery worker started no pool process")


def _worker_memory(tenant, positions: int) -> dict:  # noqa: ANN001
    """A full run through a real worker (prefork, one child), with the child's resident memory
    before and its high-water mark after (VmHWM: the kernel's own peak, nothing sampled)."""
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # queued messages of the in-process runs above
    with celery_worker(queues="evaluation") as worker:
        time.sleep(2)  # imports done, connections not yet open: the idle figure
        # Read the child after the start-up: one bench run found the first child gone 2 s later
        # (/proc/<pid>/status missing), the pool having started another in its place.
        child = _pool_child(worker.pid)
        idle = _status_kib(child, "VmRSS")
        run = runs.evaluation_start(tenant=tenant, actor=SYSTEM_ACTOR)
        started = time.monotonic()
        with tqdm(total=positions, desc="evaluation: full run on the worker", unit="pos", file=sys.stderr) as bar:
            while True:
                run.refresh_from_db()
                bar.update(run.positions_done - bar.n)
                if run.status in ("succeeded", "failed"):
                    break
                if worker.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited with {worker.returncode}")
                if time.monotonic() - started > 1800:
                    raise RuntimeError("the full run on the worker did not finish in 30 minutes")
                time.sleep(0.2)
        if run.status != "succeeded":
            raise RuntimeError(f"the full run on the worker failed: {run.error[:500]}")
        peak = _status_kib(child, "VmHWM")
    return {
        "worker_full_run_seconds": round(time.monotonic() - started, 2),
        "worker_idle_rss_mib": round(idle / 1024, 1),
        "worker_peak_rss_mib": round(peak / 1024, 1),
        "worker_peak_rss_growth_mib": round((peak - idle) / 1024, 1),
    }


# --- The case -----------------------------------------------------------------------------------


def _breakdown(prefix: str, run: dict) -> dict:
    spent = run["spent"]
    parts = {name: spent.get(name, 0.0) for name in _PARTS.values()}
    inside = spent.get("chunks", 0.0)
    figures = {f"{prefix}_{name}_seconds": round(value, 2) for name, value in parts.items()}
    figures[f"{prefix}_chunk_other_seconds"] = round(inside - sum(parts.values()), 2)  # lock, dirty, commit
    figures[f"{prefix}_outside_chunks_seconds"] = round(run["seconds"] - inside, 2)  # run bookkeeping, ids
    return figures


def run(case: Case) -> dict:
    scale = case.scale
    today = timezone.now().date()
    tenant = services.tenant_create(slug=f"bench-eval-{uuid.uuid4().hex[:8]}", name="Bench evaluation")
    erp = services.partner_create(tenant=tenant, kind=PartnerKind.ERP, name="Bench ERP")
    _, key = services.api_key_create(tenant=tenant, partner=erp, name="bench")

    started = time.perf_counter()
    data = _load(tenant, case, today)
    load_seconds = time.perf_counter() - started
    positions = Position.objects.filter(tenant=tenant).count()
    print(
        f"evaluation: {positions:,} positions, {data['daily_facts']:,} daily facts over {EVALUATION_DAYS} days, "
        f"{data['lots']:,} lots, loaded in {load_seconds:.1f}s; stories {data['kinds']}",
        flush=True,
        file=sys.stderr,
    )

    raw_seconds = min(_raw_scan(tenant, today)[0] for _ in range(2))  # warm, as the engine's reads are
    first = _full_run(tenant, today, positions, "full run (first: alerts created)")
    alerts = Alert.objects.filter(tenant=tenant, active=True).count()
    by_rule = Counter(Alert.objects.filter(tenant=tenant, active=True).values_list("rule", flat=True))
    events = AlertEvent.objects.filter(tenant_id=tenant.pk).count()
    rerun = _full_run(tenant, today, positions, "full run (again, unchanged data)")
    raw_after, raw_groups = _raw_scan(tenant, today)
    raw_seconds = min(raw_seconds, raw_after)
    diagnostic = _full_run(tenant, today, positions, "full run (again, JIT off: diagnostic)", jit=False)
    plan, chunk_sql_seconds, chunk_sql_no_jit = _explain_chunk(tenant, today)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "evaluation_indicator_plan.txt").write_text(plan)
    execution = next((line for line in plan.splitlines() if "Execution Time" in line), "")
    jit_line = next((line for line in plan.splitlines() if "Timing: Generation" in line), "JIT not used")

    naive_seconds, naive_sample, naive_flagged = _naive(tenant, today, scale.evaluation_naive_positions, positions)
    naive_extrapolated = naive_seconds / naive_sample * positions

    memory = _worker_memory(tenant, positions)
    incremental = _incremental(tenant, key, scale.evaluation_pushes)
    latencies = incremental["latencies"]

    return {
        "positions": positions,
        "skus": data["skus"],
        "warehouses": data["warehouses"],
        "history_days": EVALUATION_DAYS,
        "daily_facts": data["daily_facts"],
        "lots": data["lots"],
        "load_seconds_setup": round(load_seconds, 1),
        "chunk_positions": settings.EVALUATION_CHUNK_POSITIONS,
        "raw_scan_seconds": round(raw_seconds, 3),
        "raw_scan_groups": raw_groups,
        "full_first_seconds": round(first["seconds"], 2),
        "full_first_positions_per_second": round(positions / first["seconds"]),
        "full_first_counts": ", ".join(f"{k} {v}" for k, v in sorted(first["counts"].items())),
        "active_alerts": alerts,
        "active_alerts_by_rule": ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items())),
        "alert_events": events,
        "ratio_full_first_to_raw_scan": round(first["seconds"] / raw_seconds, 1),
        "full_rerun_seconds": round(rerun["seconds"], 2),
        "full_rerun_positions_per_second": round(positions / rerun["seconds"]),
        "full_rerun_counts": ", ".join(f"{k} {v}" for k, v in sorted(rerun["counts"].items())),
        "ratio_full_rerun_to_raw_scan": round(rerun["seconds"] / raw_seconds, 1),
        "goal_ratio_to_raw_scan": 5,
        **_breakdown("first", first),
        **_breakdown("rerun", rerun),
        "indicator_sql_one_chunk_seconds": round(chunk_sql_seconds, 3),
        "indicator_sql_one_chunk_explain": execution.strip(),
        "indicator_sql_one_chunk_jit": jit_line.strip(),
        "indicator_sql_one_chunk_seconds_jit_off": round(chunk_sql_no_jit, 3),
        "diagnostic_rerun_jit_off_seconds": round(diagnostic["seconds"], 2),
        "diagnostic_rerun_jit_off_sql_seconds": round(diagnostic["spent"].get("sql", 0.0), 2),
        "diagnostic_ratio_rerun_jit_off_to_raw_scan": round(diagnostic["seconds"] / raw_seconds, 1),
        "naive_sample_positions": naive_sample,
        "naive_sample_seconds": round(naive_seconds, 2),
        "naive_positions_per_second": round(naive_sample / naive_seconds),
        "naive_sample_flagged": naive_flagged,
        "naive_extrapolated_seconds": round(naive_extrapolated, 1),
        "ratio_naive_extrapolated_to_full_first": round(naive_extrapolated / first["seconds"], 1),
        "incremental_pushes": len(latencies),
        "incremental_debounce_seconds": settings.EVALUATION_DEBOUNCE_SECONDS,
        "incremental_p50_seconds": round(statistics.median(latencies), 3),
        "incremental_p95_seconds": round(percentile(latencies, 0.95), 3),
        "incremental_max_seconds": round(max(latencies), 3),
        "incremental_goal_p95_seconds": 1.0,
        "incremental_push_http_p50_seconds": round(statistics.median(incremental["posts"]), 3),
        "incremental_runs": incremental["runs"],
        "incremental_run_p50_seconds": round(statistics.median(incremental["run_seconds"]), 3)
        if incremental["run_seconds"]
        else None,
        "incremental_positions_per_run_max": max(incremental["positions_per_run"], default=0),
        "incremental_to_webhook_p50_seconds": round(statistics.median(incremental["webhooks"]), 3),
        "incremental_to_webhook_p95_seconds": round(percentile(incremental["webhooks"], 0.95), 3),
        "incremental_to_webhook_p99_seconds": round(percentile(incremental["webhooks"], 0.99), 3),
        "incremental_to_webhook_goal_p95_seconds": 2.0,
        "incremental_p99_seconds": round(percentile(latencies, 0.99), 3),
        **memory,
    }
