"""Transfer-plan benchmark: one system plan (``plan_run``) end to end against the greedy
nearest-source heuristic on the same data.

The issue's case: a plan over 20 warehouses x 10,000 SKUs with open alerts on a tenth of the
positions in at most 10 s on this machine (the reference it replaces took 3 minutes), with the
solver's share of that time and the plan's cost against the greedy heuristic.

Setup (not measured): one tenant of 20 warehouses at European cities (2 distribution centres with
contracted lanes out of them, 2 third-party, 16 stores) x N SKUs; every position with an indicator
reading. Two SKUs in five carry alerts on 5 of their 20 positions (so a tenth of all positions),
each SKU with 0 to 5 sources (overstock or slow-moving: slow sellers holding 90 to 290 days of
cover) and the rest sinks (stock-out risk: busy sellers holding 10 to 60 % of their lead time),
0 or 5 sources only for one SKU in ten, so most SKUs with alerts have both a source and a sink.
Everything is written set-based (INSERT ... SELECT) straight into the tables, as the warning
engine would have left it; a tenth of the alerts are acknowledged (still planned over).

Measured, in one process on the same data:
- the plan: ``plan_start`` then ``plan_run`` in-process (load, LP solve with HiGHS, the greedy
  baseline it reports beside, moves written), with its own split (``plan.summary``: load and
  solver seconds) and the wall time around the call;
- the greedy heuristic alone (``greedy_plan``) on the Problem ``problem_load`` builds from the same
  tables, best of three: the baseline the plan's time is set against;
- the plan's objective (transport + shortage penalty) against the greedy one.
Self-checks: the summary's units and moves match the TransferPlanMove rows, moved plus short
equals the demand, no source gives and no sink takes more than it has, the plan costs no more
than the greedy one, and the greedy figures the plan reports match the baseline's.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections import defaultdict
from datetime import date

from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone
from tqdm import tqdm

from bench.evaluation import _master
from bench.harness import Case
from core.alerts.models import Alert, IndicatorReading
from core.inventory.models import Position, Warehouse
from core.transfers.models import PlanStatus, TransferPlanMove
from core.transfers.planning import greedy_plan
from core.transfers.plans import plan_run, plan_start, problem_load
from tenants import services
from tenants.models import PartnerKind
from tenants.principals import Principal

# Warehouses x SKUs per scale (the case is 20 x 10,000; small keeps ``make bench`` quick).
SIZES = {"small": (20, 1_000), "medium": (20, 10_000), "large": (20, 10_000)}
GOAL_SECONDS = 10.0
REFERENCE_SECONDS = 180.0  # the reference plan (3 minutes), not measured here
ALERT_WAREHOUSES = 5  # positions with an alert per SKU that has any
ALERTED_SKUS_IN_FIVE = 2  # SKUs with alerts: 2 in 5, so 2/5 x 5/20 = a tenth of the positions
LANE_COST_PER_UNIT_KM = "0.0015"  # a contracted carrier out of the distribution centres
GREEDY_REPEATS = 3

# (city, latitude, longitude) in the order of the warehouse codes: evaluation's master data makes
# EW000 and EW010 distribution centres, EW001 and EW011 third-party, the rest stores.
CITIES = [
    ("Frankfurt", 50.1109, 8.6821),
    ("Rotterdam", 51.9244, 4.4777),
    ("Paris", 48.8566, 2.3522),
    ("Lyon", 45.7640, 4.8357),
    ("Barcelona", 41.3874, 2.1686),
    ("Lisbon", 38.7223, -9.1393),
    ("Milan", 45.4642, 9.1900),
    ("Rome", 41.9028, 12.4964),
    ("Vienna", 48.2082, 16.3738),
    ("Prague", 50.0755, 14.4378),
    ("Madrid", 40.4168, -3.7038),
    ("Poznan", 52.4064, 16.9252),
    ("Warsaw", 52.2297, 21.0122),
    ("Berlin", 52.5200, 13.4050),
    ("Hamburg", 53.5511, 9.9937),
    ("Copenhagen", 55.6761, 12.5683),
    ("Stockholm", 59.3293, 18.0686),
    ("Brussels", 50.8503, 4.3517),
    ("Munich", 48.1351, 11.5820),
    ("Budapest", 47.4979, 19.0402),
]

# One row per position: its role (source, sink or none), its daily rate, lead time and stock.
_PLAN_SQL = """
CREATE TEMP TABLE bench_transfer AS
WITH skus AS MATERIALIZED (
    SELECT s.id, s.code, s.unit_cost, row_number() OVER (ORDER BY s.code) - 1 AS i, random() AS u_sources
    FROM inventory_sku s WHERE s.tenant_id = %(tenant)s
), warehouses AS MATERIALIZED (
    SELECT w.id, w.code FROM inventory_warehouse w WHERE w.tenant_id = %(tenant)s
), pairs AS MATERIALIZED (
    SELECT s.id AS sku_id, w.id AS warehouse_id, s.code AS sku_code, w.code AS warehouse_code, s.unit_cost,
           s.i %% 5 < %(alerted_in_five)s AS alerted,
           CASE WHEN s.u_sources < 0.05 THEN 0 WHEN s.u_sources < 0.25 THEN 1 WHEN s.u_sources < 0.50 THEN 2
                WHEN s.u_sources < 0.75 THEN 3 WHEN s.u_sources < 0.95 THEN 4 ELSE 5 END AS sources,
           random() AS u_rank, random() AS u_ads, random() AS u_cover, random() AS u_lead, random() AS u_sigma,
           random() AS u_rule, random() AS u_reserved, random() AS u_transit
    FROM skus s CROSS JOIN warehouses w
), roles AS (
    SELECT pairs.*, CASE WHEN NOT alerted OR rank > %(alert_warehouses)s THEN NULL
                         WHEN rank <= sources THEN 'source' ELSE 'sink' END AS role
    FROM (SELECT pairs.*, row_number() OVER (PARTITION BY sku_id ORDER BY u_rank) AS rank FROM pairs) pairs
), rates AS (
    SELECT roles.*,
           round((CASE role WHEN 'source' THEN 0.2 + 1.8 * u_ads WHEN 'sink' THEN 1 + 7 * u_ads
                            ELSE 0.3 + 6 * u_ads END)::numeric, 2)::float8 AS ads,
           7 + floor(22 * u_lead)::int AS lead,
           CASE role WHEN 'source' THEN 90 + 200 * u_cover WHEN 'sink' THEN 0.1 + 0.5 * u_cover
                     ELSE 10 + 40 * u_cover END AS cover_factor
    FROM roles
), stock AS (
    SELECT rates.*,
           round(ads * CASE role WHEN 'sink' THEN lead * cover_factor WHEN 'source' THEN cover_factor
                                 ELSE lead + cover_factor END)::bigint AS on_hand,
           round((ads * (0.3 + 0.5 * u_sigma))::numeric, 3)::float8 AS sigma,
           lead + floor(7 * u_sigma)::int AS longest
    FROM rates
)
SELECT stock.*,
       floor(on_hand * 0.08 * u_reserved)::bigint AS reserved,
       CASE WHEN role = 'source' THEN 0
            WHEN u_transit < CASE WHEN role = 'sink' THEN 0.3 ELSE 0.2 END
            THEN round(ads * lead * CASE WHEN role = 'sink' THEN 0.3 ELSE 1 END)::bigint
            ELSE 0 END AS in_transit,
       round((1.645 * sigma * sqrt(lead))::numeric, 2)::float8 AS safety_service,
       round((ads * (longest + 3))::numeric, 2)::float8 AS safety_cover,
       CASE WHEN role = 'source' THEN CASE WHEN u_rule < 0.7 THEN 'overstock' ELSE 'slow_moving' END
            WHEN role = 'sink' THEN 'stock_out_risk' END AS rule
FROM stock
"""

_POSITIONS_SQL = """
INSERT INTO inventory_position (tenant_id, sku_id, warehouse_id, on_hand, reserved, in_transit, created_at,
                                updated_at)
SELECT %(tenant)s, sku_id, warehouse_id, on_hand, reserved, in_transit, now(), now()
FROM bench_transfer ORDER BY sku_code, warehouse_code
"""

# The reading the warning engine would have written: the planner reads ads_28 and both safety stocks.
_READINGS_SQL = """
INSERT INTO alerts_indicatorreading (
    position_id, tenant_id, sku_id, warehouse_id, as_of, on_hand, available, in_transit, unit_cost,
    ads_7, ads_28, ads_90, units_sold_90, days_of_cover, average_on_hand_90, turnover_days, turnover_rate,
    sell_through_28, wow_change, weekly_declines, age_0_30, age_31_60, age_61_90, age_91_180, age_over_180,
    weighted_age_days, expiry_at_risk, days_to_expiry, lead_time_days, longest_lead_time_days,
    lead_time_volatility_days, demand_sigma_28, safety_stock_cover, safety_stock_service, reorder_point_cover,
    reorder_point_service, stockout_risk, overstock, health_index, changed_at)
SELECT position_id, %(tenant)s, sku_id, warehouse_id, %(today)s, on_hand, on_hand - reserved, in_transit, unit_cost,
       ads, ads, ads, round(ads * 90)::bigint, round(((on_hand - reserved) / ads)::numeric, 1)::float8,
       on_hand, round((on_hand / ads)::numeric, 1)::float8, round((365 * ads / greatest(on_hand, 1))::numeric, 3),
       round((ads * 28 / (ads * 28 + on_hand))::numeric, 3)::float8,
       CASE WHEN rule = 'slow_moving' THEN -0.5 ELSE 0 END, 0,
       CASE WHEN role = 'source' THEN 0 ELSE on_hand END, 0, 0,
       CASE WHEN role = 'source' THEN on_hand ELSE 0 END, 0,
       CASE WHEN role = 'source' THEN 120 ELSE 15 END, 0, NULL, lead, longest, 1.5, sigma,
       safety_cover, safety_service, round((ads * lead + safety_cover)::numeric, 2)::float8,
       round((ads * lead + safety_service)::numeric, 2)::float8,
       role IS NOT DISTINCT FROM 'sink', role IS NOT DISTINCT FROM 'source',
       CASE role WHEN 'sink' THEN 25 WHEN 'source' THEN 40 ELSE 80 END, now()
FROM bench_transfer
"""

# The alerts, with the inputs the rules write (the planner reads a stock-out alert's ads_28,
# lead_time_days and reorder_point; the service-level method is the policy default).
_ALERTS_SQL = """
INSERT INTO alerts_alert (
    id, created_at, updated_at, tenant_id, position_id, sku_id, warehouse_id, rule, direction, grade, peak_grade,
    status, active, deviation, explanation, inputs, thresholds, recommendation, fingerprint, opened_at,
    acknowledged_at, resolved_at, dismissed_reason, snoozed_until)
SELECT gen_random_uuid(), now(), now(), %(tenant)s, position_id, sku_id, warehouse_id, rule,
       CASE WHEN role = 'sink' THEN 'stock_out' ELSE 'overstock' END, grade, grade,
       CASE WHEN u_reserved < 0.1 THEN 'acknowledged' ELSE 'open' END, true, deviation,
       'Bench: ' || rule || ' on ' || sku_code || ' at ' || warehouse_code || '.',
       CASE WHEN role = 'sink' THEN jsonb_build_object(
                'available', on_hand - reserved, 'in_transit', in_transit, 'ads_28', ads,
                'days_of_cover', round(((on_hand - reserved) / ads)::numeric, 1), 'safety_stock', safety_service,
                'safety_stock_method', 'service_level', 'lead_time_days', lead,
                'reorder_point', round((ads * lead + safety_service)::numeric, 2))
            WHEN rule = 'overstock' THEN jsonb_build_object(
                'turnover_days', round((on_hand / ads)::numeric, 1), 'on_hand', on_hand, 'ads_90', ads,
                'standard', 90)
            ELSE jsonb_build_object('wow_change', -0.5, 'weighted_age_days', 120,
                                    'weekly_sales', jsonb_build_array(round(ads * 3.5), round(ads * 7))) END,
       '{}'::jsonb, '{}'::jsonb, '', now() - interval '2 days',
       CASE WHEN u_reserved < 0.1 THEN now() - interval '1 day' END, NULL, '', NULL
FROM (
    SELECT bench_transfer.*,
           round((CASE WHEN role = 'sink' THEN 1 - cover_factor ELSE u_cover END)::numeric, 4)::float8 AS deviation,
           CASE WHEN role = 'sink' AND cover_factor < 0.3 THEN 'red' WHEN u_cover < 0.5 THEN 'yellow'
                ELSE 'orange' END AS grade
    FROM bench_transfer WHERE role IS NOT NULL
) alerted
"""


def _load(tenant, warehouses: int, skus: int, today: date) -> dict:  # noqa: ANN001
    bar = tqdm(total=6, desc="transfer_plan: loading (setup)", unit="step", file=sys.stderr)
    _master(tenant, skus, warehouses, today)
    coordinates = {f"EW{j:03d}": CITIES[j % len(CITIES)] for j in range(warehouses)}
    rows = list(Warehouse.objects.filter(tenant=tenant).order_by("code"))
    for warehouse in rows:
        city, warehouse.latitude, warehouse.longitude = coordinates[warehouse.code]
        warehouse.name = f"Bench {city}"
    Warehouse.objects.bulk_update(rows, ["latitude", "longitude", "name"])
    bar.update(1)
    params = {
        "tenant": tenant.pk,
        "today": today,
        "alerted_in_five": ALERTED_SKUS_IN_FIVE,
        "alert_warehouses": ALERT_WAREHOUSES,
    }
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")  # one seeded random() stream
        cursor.execute("SELECT setseed(0.2718)")
        cursor.execute("DROP TABLE IF EXISTS bench_transfer")
        cursor.execute(_PLAN_SQL, params)
        bar.update(1)
        cursor.execute(_POSITIONS_SQL, params)
        cursor.execute("ALTER TABLE bench_transfer ADD COLUMN position_id bigint")
        cursor.execute(
            "UPDATE bench_transfer p SET position_id = pos.id FROM inventory_position pos "
            "WHERE pos.tenant_id = %(tenant)s AND pos.sku_id = p.sku_id AND pos.warehouse_id = p.warehouse_id",
            params,
        )
        bar.update(1)
        cursor.execute(_READINGS_SQL, params)
        bar.update(1)
        cursor.execute(_ALERTS_SQL, params)
        # Contracted lanes out of the distribution centres: cheaper per km than the policy's rate.
        cursor.execute(
            """
            INSERT INTO transfers_transferlane (id, created_at, updated_at, tenant_id, source_id, destination_id,
                                                cost_per_unit_km)
            SELECT gen_random_uuid(), now(), now(), %(tenant)s, s.id, d.id, %(lane)s
            FROM inventory_warehouse s JOIN inventory_warehouse d ON d.tenant_id = s.tenant_id AND d.id <> s.id
            WHERE s.tenant_id = %(tenant)s AND s.kind = 'distribution_centre'
            """,
            {**params, "lane": LANE_COST_PER_UNIT_KM},
        )
        cursor.execute(
            "SELECT count(DISTINCT sku_id) FILTER (WHERE role IS NOT NULL), "
            "count(*) FILTER (WHERE role = 'source'), count(*) FILTER (WHERE role = 'sink') FROM bench_transfer"
        )
        alerted_skus, source_alerts, sink_alerts = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM (SELECT sku_id FROM bench_transfer WHERE role IS NOT NULL GROUP BY sku_id "
            "HAVING bool_or(role = 'source') AND bool_or(role = 'sink')) both_ends"
        )
        both = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_transfer")
        cursor.execute("RESET max_parallel_workers_per_gather")
        bar.update(1)
        # The steady state of a live database: autovacuum has seen the tables.
        for table in (
            "inventory_position",
            "alerts_indicatorreading",
            "alerts_alert",
            "inventory_sku",
            "inventory_warehouse",
            "transfers_transferlane",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        bar.update(1)
    bar.close()
    return {
        "alerted_skus": alerted_skus,
        "source_alerts": source_alerts,
        "sink_alerts": sink_alerts,
        "skus_with_both": both,
    }


def _check(plan, problem, greedy) -> None:  # noqa: ANN001
    """The plan's own figures against its rows, the problem's bounds and the greedy baseline."""
    summary = plan.summary
    rows = TransferPlanMove.objects.filter(plan=plan).aggregate(moves=Count("id"), units=Sum("quantity"))
    failures = []
    if summary["moves"] != rows["moves"]:
        failures.append(f"summary moves {summary['moves']} != {rows['moves']} TransferPlanMove rows")
    if summary["units"] != (rows["units"] or 0):
        failures.append(f"summary units {summary['units']} != {rows['units']} in the TransferPlanMove rows")
    if summary["units"] + summary["units_short"] != summary["demand_units"]:
        failures.append(f"moved {summary['units']} + short {summary['units_short']} != {summary['demand_units']}")
    if summary["objective"] > summary["greedy_objective"] + 1e-6:
        failures.append(f"objective {summary['objective']} > greedy {summary['greedy_objective']}")
    for name, count in (("sources", problem.sources), ("sinks", problem.sinks), ("arcs", problem.arcs)):
        if summary[name] != len(count):
            failures.append(f"summary {name} {summary[name]} != {len(count)} in problem_load's Problem")
    if abs(summary["greedy_objective"] - round(greedy.objective, 4)) > 1e-3:
        failures.append(f"summary greedy_objective {summary['greedy_objective']} != baseline {greedy.objective}")
    given, taken = defaultdict(int), defaultdict(int)
    for supply, demand, quantity in TransferPlanMove.objects.filter(plan=plan).values_list(
        "supply_alert_id", "demand_alert_id", "quantity"
    ):
        given[supply] += quantity
        taken[demand] += quantity
    supplies = {node.alert_id: node.units for node in problem.sources}
    demands = {node.alert_id: node.units for node in problem.sinks}
    over = [alert for alert, units in given.items() if units > supplies.get(alert, 0)]
    over += [alert for alert, units in taken.items() if units > demands.get(alert, 0)]
    if over:
        failures.append(f"{len(over)} sources or sinks moved beyond their units, e.g. {over[:3]}")
    if failures:
        raise RuntimeError("transfer_plan self-check failed: " + "; ".join(failures))


def run(case: Case) -> dict:
    warehouses, skus = SIZES[case.scale.name]
    today = timezone.now().date()
    tenant = services.tenant_create(slug=f"bench-plan-{uuid.uuid4().hex[:8]}", name="Bench transfer plan")
    erp = services.partner_create(tenant=tenant, kind=PartnerKind.ERP, name="Bench ERP")
    actor = Principal(tenant=tenant, partner=erp)

    started = time.perf_counter()
    data = _load(tenant, warehouses, skus, today)
    load_seconds = time.perf_counter() - started
    positions = Position.objects.filter(tenant=tenant).count()
    readings = IndicatorReading.objects.filter(tenant=tenant).count()
    alerts = Alert.objects.filter(tenant=tenant, active=True).count()
    print(
        f"transfer_plan: {positions:,} positions ({warehouses} warehouses x {skus:,} SKUs), {readings:,} readings, "
        f"{alerts:,} active alerts ({data['source_alerts']:,} source, {data['sink_alerts']:,} sink) on "
        f"{data['alerted_skus']:,} SKUs, {data['skus_with_both']:,} of them with both; loaded in {load_seconds:.1f}s",
        flush=True,
        file=sys.stderr,
    )

    bar = tqdm(total=2 + GREEDY_REPEATS, desc="transfer_plan: measuring", unit="step", file=sys.stderr)
    plan = plan_start(tenant=tenant, actor=actor)
    started = time.perf_counter()
    plan = plan_run(plan_id=plan.pk)
    wall_seconds = time.perf_counter() - started
    bar.update(1)
    if plan is None or plan.status != PlanStatus.SUCCEEDED:
        raise RuntimeError(f"the plan did not succeed: {plan and plan.error}")
    summary = plan.summary

    started = time.perf_counter()
    problem = problem_load(tenant)
    problem_load_seconds = time.perf_counter() - started
    bar.update(1)
    greedy_seconds, greedy = float("inf"), None
    for _ in range(GREEDY_REPEATS):
        started = time.perf_counter()
        greedy = greedy_plan(problem)
        greedy_seconds = min(greedy_seconds, time.perf_counter() - started)
        bar.update(1)
    bar.close()
    _check(plan, problem, greedy)

    total, solver = summary["total_seconds"], summary["solver_seconds"]
    objective, greedy_objective = summary["objective"], summary["greedy_objective"]
    return {
        "positions": positions,
        "skus": skus,
        "warehouses": warehouses,
        "active_alerts": alerts,
        "alerts_share_of_positions": round(alerts / positions, 3),
        "alerted_skus": data["alerted_skus"],
        "alerted_skus_with_source_and_sink": data["skus_with_both"],
        "load_seconds_setup": round(load_seconds, 1),
        "sources": summary["sources"],
        "sinks": summary["sinks"],
        "arcs": summary["arcs"],
        "moves": summary["moves"],
        "units": summary["units"],
        "supply_units": sum(source.units for source in problem.sources),
        "demand_units": summary["demand_units"],
        "units_short": summary["units_short"],
        "plan_total_seconds": total,
        "plan_wall_seconds": round(wall_seconds, 3),
        "goal_plan_seconds": GOAL_SECONDS,
        "goal": "met" if total <= GOAL_SECONDS else "not met",
        "reference_plan_seconds_not_measured": REFERENCE_SECONDS,
        "ratio_reference_to_plan": round(REFERENCE_SECONDS / total, 1),
        "plan_load_seconds": summary["load_seconds"],
        "plan_solver_seconds": solver,
        "plan_other_seconds": round(total - summary["load_seconds"] - solver, 3),
        "solver_share_of_plan": round(solver / total, 3),
        "load_share_of_plan": round(summary["load_seconds"] / total, 3),
        "problem_load_alone_seconds": round(problem_load_seconds, 3),
        "greedy_alone_seconds": round(greedy_seconds, 4),
        "ratio_plan_to_greedy_alone": round(total / greedy_seconds, 1),
        "ratio_solver_to_greedy_alone": round(solver / greedy_seconds, 1),
        "objective": objective,
        "transport_cost": summary["transport_cost"],
        "shortage_cost": summary["shortage_cost"],
        "greedy_objective": greedy_objective,
        "greedy_transport_cost": summary["greedy_transport_cost"],
        "greedy_units_short": summary["greedy_units_short"],
        "ratio_greedy_to_optimal_objective": round(greedy_objective / objective, 4) if objective else None,
        "optimal_saving_vs_greedy_percent": round(100 * (greedy_objective - objective) / greedy_objective, 2)
        if greedy_objective
        else None,
    }
