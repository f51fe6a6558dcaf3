"""Forecast benchmark: a full refit of every position against the raw read of the facts it reads and a
28-day moving average in one SQL statement; the same refit on a real worker with its peak memory; the
read of the stored forecasts against a full evaluation on the same data.

Setup (not measured): one tenant of N positions (SKUs x warehouses) with FORECAST_DAYS days of daily
facts ending yesterday, written set-based (INSERT ... SELECT generate_series) straight into the
tables. Each position gets a demand story, so every model of the refit is exercised in a realistic
mix: smooth demand with a weekly pattern, erratic (heavy-tailed daily sizes), intermittent (a few
units on a share of days), lumpy (rare, widely varying sizes), short histories (launched 2-8 weeks
ago: the fallback), a current stock-out (censored days at the end), and a level break (trend
change). Receipts replenish each cycle's sales, so past stock never goes below zero.

Measured, in one process on the same data:
- the floor: the refit's own facts statement over every chunk, every row fetched (the read alone),
  and the 28-day moving average of every position in one SQL statement (what the engine computes);
- the full refit (``forecasts_refresh``, no stored forecast to skip) in one process, its time split
  into fitting per model, the forecast writes and the rest (the facts read, dense arrays,
  fingerprints); then again with the default fitting processes, whose stored forecasts must equal
  the one-process refit's;
- a second refresh over unchanged data (every fingerprint equal: nothing refit);
- the full refit again on a real worker (``celery -A workers worker -Q forecasting``, prefork, one
  child) after the stored forecasts are deleted, with the child's peak resident memory (VmHWM);
- the forecast pass in an evaluation: the engine's full evaluation (``evaluation_start`` +
  ``run_execute``) before any forecast is stored (the moving-average path) and again with every
  position's fresh forecast stored (the engine reads them); and reading every stored forecast in
  the engine's chunks alone.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from tqdm import tqdm

from bench.evaluation import _master, _pool_child, _status_kib
from bench.harness import Case, celery_worker
from core.alerts import runs
from core.bulk_copy import bigint_array
from core.forecasting import services
from core.forecasting.models import Forecast
from core.inventory.models import Position
from tenants import services as tenant_services
from tenants.principals import SYSTEM_ACTOR

FORECAST_DAYS = 180
LOAD_CHUNKS = 20
GOAL_SECONDS = 180  # the goal for 100,000 positions x 180 days on this 2-core machine
GOAL_SHARE_OF_EVALUATION = 0.20

# One row per position: its story, daily rate, weekday pattern, and the days that shape its history.
_PLAN_SQL = """
CREATE TEMP TABLE fbench_plan AS
WITH pairs AS (
    SELECT s.id AS sku_id, w.id AS warehouse_id, s.code AS sku_code, s.list_price,
           CASE WHEN w.kind = 'distribution_centre' THEN 1.8 WHEN w.kind = 'third_party' THEN 1.0
                ELSE 0.6 + random() * 0.6 END AS size,
           random() AS u_kind, random() AS u_rate, random() AS u_shape, random() AS u_day
    FROM inventory_sku s
    CROSS JOIN inventory_warehouse w
    WHERE s.tenant_id = %(tenant)s AND w.tenant_id = %(tenant)s
), planned AS (
    SELECT row_number() OVER (ORDER BY sku_code, warehouse_id) AS n, pairs.*,
           CASE WHEN u_kind < 0.33 THEN 'smooth' WHEN u_kind < 0.43 THEN 'erratic'
                WHEN u_kind < 0.71 THEN 'intermittent' WHEN u_kind < 0.85 THEN 'lumpy'
                WHEN u_kind < 0.91 THEN 'short' WHEN u_kind < 0.96 THEN 'stockout' ELSE 'break' END AS kind
    FROM pairs
)
SELECT planned.*,
       7 + (n %% 21)::int AS cycle,
       CASE WHEN kind IN ('intermittent', 'lumpy') THEN 1.0 ELSE size * (2 + 20 * u_rate * u_rate) END AS rate,
       -- intermittent: chance of a sale on a day; lumpy: rarer
       CASE kind WHEN 'intermittent' THEN 0.08 + 0.5 * u_shape WHEN 'lumpy' THEN 0.04 + 0.35 * u_shape ELSE 1 END
           AS p,
       -- the first day of history (days back from yesterday): a launch for the short ones
       CASE WHEN kind = 'short' THEN 14 + floor(u_day * 42)::int ELSE %(days)s - 1 END AS start_d,
       -- the stock-out's length (days at the end without stock), or the day of the level break
       CASE WHEN kind = 'stockout' THEN 2 + floor(u_day * 11)::int
            WHEN kind = 'break' THEN 20 + floor(u_day * 100)::int ELSE 0 END AS mark_d,
       CASE WHEN u_shape < 0.5 THEN 0.45 ELSE 1.9 END AS break_factor
FROM planned
"""

_POSITIONS_SQL = """
INSERT INTO inventory_position (tenant_id, sku_id, warehouse_id, on_hand, reserved, in_transit, created_at,
                                updated_at)
SELECT %(tenant)s, sku_id, warehouse_id,
       CASE WHEN kind = 'stockout' THEN 0
            WHEN kind IN ('intermittent', 'lumpy') THEN 2 + floor(u_rate * 20)
            ELSE round(rate * (10 + 30 * u_rate)) END::bigint,
       0, 0, now(), now()
FROM fbench_plan ORDER BY n
"""

# Day d is d days before yesterday. Sales by story and weekday; the receipt opening each cycle
# brings what the cycle sells, and the first day of history brings the stock on hand now, so every
# past day's closing stock is on hand now plus the cycle's unsold rest (never below zero) and the
# days before the history's start close at zero (the refit cuts them off).
_FACTS_SQL = """
INSERT INTO inventory_dailyfact (tenant_id, position_id, day, units_sold, revenue, units_returned,
                                 units_received, units_flagged, net_change, receipts_promised,
                                 receipt_delay_days, receipt_delay_days_sq)
SELECT %(tenant)s, position_id, day, sold, sold * list_price, 0, received, 0, received - sold, 0, 0, 0
FROM (
    SELECT s.position_id, s.list_price, s.day, s.sold,
           CASE WHEN s.d = max(s.d) OVER w THEN sum(s.sold) OVER w ELSE 0 END
           + CASE WHEN s.d = s.start_d THEN s.on_hand ELSE 0 END AS received
    FROM (
        SELECT p.position_id, p.list_price, p.start_d, pos.on_hand, x.d, x.day,
               (x.d + p.n %% p.cycle) / p.cycle AS segment,
               CASE
                   WHEN p.kind = 'stockout' AND x.d < p.mark_d THEN 0
                   WHEN p.kind = 'intermittent' THEN
                       CASE WHEN random() < p.p * x.wk THEN 1 + floor(3 * random()) ELSE 0 END
                   WHEN p.kind = 'lumpy' THEN
                       CASE WHEN random() < p.p THEN 1 + floor(exp(3.5 * random())) ELSE 0 END
                   WHEN p.kind = 'erratic' THEN floor(p.rate * x.wk * -ln(1 - random()) + random())
                   ELSE floor(
                       p.rate * x.wk
                       * CASE WHEN p.kind = 'break' AND x.d >= p.mark_d THEN p.break_factor ELSE 1 END
                       * (0.7 + 0.6 * random()) + random()
                   )
               END::bigint AS sold
        FROM fbench_plan p
        JOIN inventory_position pos ON pos.id = p.position_id
        CROSS JOIN LATERAL (
            SELECT d, day, (ARRAY[0.85, 0.87, 0.90, 0.95, 1.08, 1.25, 1.10])[extract(isodow FROM day)::int] AS wk
            FROM (SELECT d, %(yesterday)s::date - d AS day FROM generate_series(0, p.start_d) AS d) g
        ) x
        WHERE p.n > %(low)s AND p.n <= %(high)s
    ) s
    WINDOW w AS (PARTITION BY s.position_id, s.segment)
) f
WHERE sold > 0 OR received > 0
"""


def _load(tenant, positions: int, warehouses: int, today: date) -> dict:  # noqa: ANN001
    skus = positions // warehouses
    params = {"tenant": tenant.pk, "yesterday": today - timedelta(days=1), "days": FORECAST_DAYS}
    bar = tqdm(total=LOAD_CHUNKS + 2, desc="forecast: loading (setup)", unit="step", file=sys.stderr)
    _master(tenant, skus, warehouses, today)
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")  # one seeded random() stream
        cursor.execute("SELECT setseed(0.1717)")
        cursor.execute("DROP TABLE IF EXISTS fbench_plan")
        cursor.execute(_PLAN_SQL, params)
        cursor.execute(_POSITIONS_SQL, params)
        cursor.execute("ALTER TABLE fbench_plan ADD COLUMN position_id bigint")
        cursor.execute(
            "UPDATE fbench_plan p SET position_id = pos.id FROM inventory_position pos "
            "WHERE pos.tenant_id = %(tenant)s AND pos.sku_id = p.sku_id AND pos.warehouse_id = p.warehouse_id",
            params,
        )
        cursor.execute("CREATE INDEX ON fbench_plan (n)")
        cursor.execute("ANALYZE fbench_plan")
        bar.update(1)
        total = skus * warehouses
        bounds = [round(total * k / LOAD_CHUNKS) for k in range(LOAD_CHUNKS + 1)]
        for low, high in itertools.pairwise(bounds):
            cursor.execute(_FACTS_SQL, {**params, "low": low, "high": high})
            bar.update(1)
        cursor.execute("SELECT kind, count(*) FROM fbench_plan GROUP BY kind ORDER BY kind")
        kinds = dict(cursor.fetchall())
        cursor.execute("DROP TABLE fbench_plan")
        cursor.execute("RESET max_parallel_workers_per_gather")
        for table in ("inventory_position", "inventory_dailyfact", "inventory_sku"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        bar.update(1)
        bar.close()
        cursor.execute("SELECT count(*) FROM inventory_dailyfact WHERE tenant_id = %s", [tenant.pk])
        facts = cursor.fetchone()[0]
    return {"skus": skus, "warehouses": warehouses, "daily_facts": facts, "kinds": kinds}


# --- Baselines ----------------------------------------------------------------------------------


def _raw_read(tenant, today: date) -> float:  # noqa: ANN001
    """The refit's facts statement over every chunk of positions, every row fetched, nothing fitted."""
    ids = list(Position.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True))
    first = today - timedelta(days=services.HISTORY_DAYS)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for offset in range(0, len(ids), services.CHUNK_POSITIONS):
            chunk = ids[offset : offset + services.CHUNK_POSITIONS]
            cursor.execute(
                services._FACTS_SQL,  # the very statement the refit runs
                {"tenant": tenant.pk, "ids": bigint_array(chunk), "first": first, "today": today},
            )
            cursor.fetchall()
    return time.perf_counter() - started


_MOVING_AVERAGE_SQL = """
SELECT p.id, coalesce(sum(f.units_sold), 0) / 28.0 AS ads_28
FROM inventory_position p
LEFT JOIN inventory_dailyfact f
  ON f.tenant_id = p.tenant_id AND f.position_id = p.id AND f.day > %(today)s::date - 29 AND f.day < %(today)s::date
WHERE p.tenant_id = %(tenant)s
GROUP BY p.id
"""


def _moving_average(tenant, today: date) -> tuple[float, int]:  # noqa: ANN001
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(_MOVING_AVERAGE_SQL, {"tenant": tenant.pk, "today": today})
        rows = cursor.fetchall()
        return time.perf_counter() - started, len(rows)


# --- The refit, instrumented --------------------------------------------------------------------


@contextlib.contextmanager
def _writes_timed() -> Iterator[dict[str, float]]:
    """Time the forecast writes inside ``forecasts_refresh`` (wrapped in place; restored after)."""
    spent: dict[str, float] = defaultdict(float)
    write = services._forecasts_write

    def timed_write(*args, **kwargs):  # noqa: ANN202
        started = time.perf_counter()
        try:
            return write(*args, **kwargs)
        finally:
            spent["write"] += time.perf_counter() - started

    services._forecasts_write = timed_write
    try:
        yield spent
    finally:
        services._forecasts_write = write


def _refit(tenant, today: date, positions: int, label: str, *, processes: int | None = None) -> dict:  # noqa: ANN001
    bar = tqdm(total=positions, desc=f"forecast: {label}", unit="pos", file=sys.stderr, dynamic_ncols=True)
    chosen = override_settings(FORECAST_FIT_PROCESSES=processes) if processes else contextlib.nullcontext()
    with _writes_timed() as spent, chosen:
        started = time.perf_counter()
        summary = services.forecasts_refresh(tenant=tenant, today=today, progress=bar.update)
        seconds = time.perf_counter() - started
    bar.close()
    return {"seconds": seconds, "summary": summary, "write": spent["write"]}


def _stored_digest(tenant) -> str:  # noqa: ANN001
    """A digest of every stored forecast's model, class and series: equal digests, equal forecasts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(string_agg(concat_ws('|', position_id, origin, model, demand_class, mean, p50, quantile,"
            " cumulative_quantile), ',' ORDER BY position_id)) FROM forecasting_forecast WHERE tenant_id = %s",
            [tenant.pk],
        )
        return cursor.fetchone()[0]


def _fitting_processes_peak(parent: int, peaks: dict[int, int]) -> None:
    """Record the high-water mark of each process ``parent`` has started (the fitting processes)."""
    try:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except OSError:
        return
    for pid in map(int, children):
        with contextlib.suppress(OSError, RuntimeError):
            peaks[pid] = max(peaks.get(pid, 0), _status_kib(pid, "VmHWM"))


def _worker_refit(tenant, positions: int) -> dict:  # noqa: ANN001
    """The full refit as the beat asks for it: the refresh task on a real worker (prefork, one child),
    every stored forecast deleted first; the child's resident memory idle and its high-water mark."""
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    Forecast.objects.filter(tenant=tenant).delete()
    with celery_worker(queues="forecasting") as worker:
        time.sleep(2)  # imports done: the idle figure
        child = _pool_child(worker.pid)
        idle = _status_kib(child, "VmRSS")
        since = timezone.now()
        services.task_request(services.REFRESH_TASK, args=[str(tenant.pk)])
        started = time.monotonic()
        fitting: dict[int, int] = {}
        with tqdm(total=positions, desc="forecast: full refit on the worker", unit="pos", file=sys.stderr) as bar:
            child_peak = 0
            while True:
                _fitting_processes_peak(child, fitting)
                with contextlib.suppress(OSError, RuntimeError):
                    child_peak = max(child_peak, _status_kib(child, "VmHWM"))
                done = Forecast.objects.filter(tenant=tenant, fitted_at__gte=since).count()
                bar.update(done - bar.n)
                if done >= positions:
                    break
                if worker.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited with {worker.returncode}")
                if time.monotonic() - started > 1800:
                    raise RuntimeError("the refit on the worker did not finish in 30 minutes")
                time.sleep(0.5)
        seconds = time.monotonic() - started
        # The pool child's own high-water mark at the end; if the pool replaced it meanwhile (seen
        # once, unexplained), the last sampled one, said so.
        try:
            peak, replaced = _status_kib(child, "VmHWM"), False
        except (OSError, RuntimeError):
            peak, replaced = child_peak, True
    return {
        "worker_full_refit_seconds": round(seconds, 1),
        "worker_positions_per_second": round(positions / seconds),
        "worker_idle_rss_mib": round(idle / 1024, 1),
        "worker_peak_rss_mib": round(peak / 1024, 1),
        "worker_peak_rss_growth_mib": round((peak - idle) / 1024, 1),
        "worker_child_gone_at_end": replaced,
        "worker_fitting_processes": len(fitting),
        # Sampled every 0.5 s while they ran (they end with the refresh): each one's high-water mark.
        "worker_fitting_process_peak_rss_mib": round(max(fitting.values(), default=0) / 1024, 1),
        "worker_peak_rss_all_processes_mib": round((peak + sum(fitting.values())) / 1024, 1),
    }


# --- The forecast pass in an evaluation ---------------------------------------------------------


def _forecast_read(tenant) -> float:  # noqa: ANN001
    """Every stored forecast, in the engine's chunks, with the series a forward-looking indicator needs."""
    ids = list(Position.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True))
    size = settings.EVALUATION_CHUNK_POSITIONS
    started = time.perf_counter()
    for offset in range(0, len(ids), size):
        chunk = ids[offset : offset + size]
        list(
            Forecast.objects.filter(tenant=tenant, position_id__in=chunk).values_list(
                "position_id", "origin", "model", "mean", "cumulative_quantile"
            )
        )
    return time.perf_counter() - started


def _evaluation(tenant, today: date) -> float:  # noqa: ANN001
    started = time.perf_counter()
    run = runs.evaluation_start(tenant=tenant, actor=SYSTEM_ACTOR, as_of=today - timedelta(days=1))
    done = runs.run_execute(run_id=run.pk)
    if done is None or done.status != "succeeded":
        raise RuntimeError(f"the full evaluation did not succeed: {done and done.error}")
    return time.perf_counter() - started


# --- The case -----------------------------------------------------------------------------------


def run(case: Case) -> dict:
    scale = case.scale
    today = timezone.now().date()
    tenant = tenant_services.tenant_create(slug=f"bench-fc-{uuid.uuid4().hex[:8]}", name="Bench forecast")
    started = time.perf_counter()
    data = _load(tenant, scale.forecast_positions, scale.forecast_warehouses, today)
    load_seconds = time.perf_counter() - started
    positions = Position.objects.filter(tenant=tenant).count()
    print(
        f"forecast: {positions:,} positions, {data['daily_facts']:,} daily facts over {FORECAST_DAYS} days, "
        f"loaded in {load_seconds:.1f}s; stories {data['kinds']}",
        flush=True,
        file=sys.stderr,
    )

    # The engine reads fresh stored forecasts where there are any: first a full evaluation without
    # (its moving-average path; run twice, the first opens the alerts, the second is the re-run
    # compared), then again after the refit (below), on the same data.
    _evaluation(tenant, today)
    evaluation_without = _evaluation(tenant, today)
    raw_seconds = min(_raw_read(tenant, today) for _ in range(2))  # warm, as the refit's reads are
    average_seconds, average_rows = min(_moving_average(tenant, today) for _ in range(2))
    serial = _refit(tenant, today, positions, "full refit, one process (in-process)", processes=1)
    serial_digest = _stored_digest(tenant)
    Forecast.objects.filter(tenant=tenant).delete()
    first = _refit(tenant, today, positions, "full refit (in-process)")
    if _stored_digest(tenant) != serial_digest:
        raise RuntimeError("the parallel refit stored other forecasts than the one-process refit")
    rerun = _refit(tenant, today, positions, "refresh again (unchanged data)")
    raw_seconds = min(raw_seconds, _raw_read(tenant, today))

    read_seconds = min(_forecast_read(tenant) for _ in range(2))
    evaluation_seconds = _evaluation(tenant, today)
    memory = _worker_refit(tenant, positions)

    summary = first["summary"]
    fit_seconds = summary["fit_seconds"]
    per_model = {
        f"fit_{m}": f"{count:,} series, {fit_seconds[m]:.1f} s, {1000 * fit_seconds[m] / count:.2f} ms each"
        for m, count in summary["models"].items()
    }
    seconds = first["seconds"]
    return {
        "positions": positions,
        "skus": data["skus"],
        "warehouses": data["warehouses"],
        "history_days": FORECAST_DAYS,
        "daily_facts": data["daily_facts"],
        "stories": ", ".join(f"{k} {v}" for k, v in sorted(data["kinds"].items())),
        "load_seconds_setup": round(load_seconds, 1),
        "chunk_positions": services.CHUNK_POSITIONS,
        "raw_read_seconds": round(raw_seconds, 2),
        "moving_average_sql_seconds": round(average_seconds, 2),
        "moving_average_sql_rows": average_rows,
        "full_refit_one_process_seconds": round(serial["seconds"], 1),
        "full_refit_one_process_positions_per_second": round(positions / serial["seconds"]),
        "fit_processes": settings.FORECAST_FIT_PROCESSES,
        "full_refit_seconds": round(seconds, 1),
        "full_refit_positions_per_second": round(positions / seconds),
        "full_refit_goal_seconds": GOAL_SECONDS if positions >= 100_000 else None,
        "full_refit_models": ", ".join(f"{k} {v}" for k, v in summary["models"].items()),
        "full_refit_fallback": summary["fallback"],
        "full_refit_equal_to_one_process": True,  # checked above: the same stored forecasts
        # CPU seconds in the fits, summed over the fitting processes (they overlap the reads).
        "full_refit_fit_cpu_seconds": round(sum(fit_seconds.values()), 1),
        **per_model,
        "full_refit_write_seconds": round(first["write"], 1),
        "one_process_fit_seconds": round(sum(serial["summary"]["fit_seconds"].values()), 1),
        "one_process_write_seconds": round(serial["write"], 1),
        "one_process_read_and_rest_seconds": round(
            serial["seconds"] - sum(serial["summary"]["fit_seconds"].values()) - serial["write"], 1
        ),
        "ratio_full_refit_to_raw_read": round(seconds / raw_seconds, 1),
        "ratio_full_refit_to_moving_average_sql": round(seconds / average_seconds, 1),
        "unchanged_refresh_seconds": round(rerun["seconds"], 1),
        "unchanged_refresh_refit": rerun["summary"]["fitted"],
        "ratio_unchanged_refresh_to_raw_read": round(rerun["seconds"] / raw_seconds, 1),
        **memory,
        "forecast_read_seconds": round(read_seconds, 2),
        "evaluation_without_forecasts_seconds": round(evaluation_without, 1),
        "evaluation_full_seconds": round(evaluation_seconds, 1),
        "ratio_evaluation_with_forecasts_to_without": round(evaluation_seconds / evaluation_without, 3),
        "ratio_forecast_read_to_evaluation": round(read_seconds / evaluation_seconds, 3),
        "goal_ratio_forecast_pass_to_evaluation": GOAL_SHARE_OF_EVALUATION,
        "ratio_full_refit_to_evaluation": round(seconds / evaluation_seconds, 1),
    }
