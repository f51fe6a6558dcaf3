"""System transfer plans: the transportation LP and its greedy baseline solved by hand, then plans
computed from real alerts (bulk ingestion, the evaluation task, the plan task as the worker runs it)
and accepted move by move through the HTTP API.

The network of ``france`` (one SKU S; the stock-out rule's default service-level safety stock
z x sigma_28 x sqrt(lead time), z(0.95) = 1.644854, and its default 14-day lead time, S having no
supplier on file; the long-tail overstock standard of 180 turnover days):

| warehouse | where            | stock and sales                                    | on hand | ads_28 |
| LYO       | 45.7640, 4.8357  | 700 received 100 days ago; 280 sold 3 days ago     | 420     | 10     |
| FAR       | no coordinates   | 2000 received 100 days ago; 10 sold on days 0..27  | 1720    | 10     |
| MRS       | 43.2965, 5.3698  | 128 received 100 days ago; 1 sold on days 0..27    | 100     | 1      |
| PAR       | 48.8566, 2.3522  | 330 received 40 days ago; 10 sold on days 0..27    | 50      | 10     |

Sources (overstock: turnover days = average end-of-day stock x 90 / sold_90, the average rebuilt
from today's stock by the net changes in the 90-day window, each weighted by (89 - days ago) / 90):
  LYO  (420 + 280 x 86 / 90) x 90 / 280 = (37800 + 24080) / 280 = 221.0 days > 180 (deviation 0.23);
       one sale of 280 in 28 days: sigma = sqrt((280^2 - 280^2 / 28) / 27) = sqrt(2800) = 52.9150,
       safety stock = 1.644854 x 52.9150 x sqrt(14) = 325.66;
       gives min(floor(420 - 325.66), 420 - ceil(10 x 28)) = min(94, 140) = 94 (safety stock binds).
  FAR  sum over days 0..27 of (89 - d) = 2114: (1720 x 90 + 21140) / 280 = 628.36 days;
       constant sales, sigma 0, safety stock 0: gives min(1720, 1720 - 280) = 1440 (cover binds).
  MRS  (100 x 90 + 2114) / 28 = 396.93 days; safety 0: gives min(100, 100 - 28) = 72 (cover).
Sink (stock-out: 50 / 10 = 5 days of cover < 14 days of lead time; PAR's turnover is
(50 x 90 + 10 x 2114 - 330 x 49) / 280 = 33.82 days, no overstock):
  PAR  reorder point 10 x 14 + 0 = 140; needs ceil(140 + 10 x 14 - 50 - 0) = 230.

Great-circle distances (R = 6371 km): PAR-LYO 391.4989 km, PAR-MRS 660.4784 km; FAR has no
coordinates, so 1000 km. At the policy's default 0.002 per unit and km: 0.782998, 1.320957 and 2.0
per unit, all below the default shortage penalty of 5.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core.transfers.models import TransferPlan, TransferPlanMove, TransferRequest
from core.transfers.planning import (
    UNKNOWN_DISTANCE_KM,
    Node,
    Problem,
    distance_km,
    greedy_plan,
    optimal_plan,
    problem_build,
)
from tests.support.calls import error, ok, pushed, url
from tests.support.ingest import ts
from tests.support.transfers import position
from tests.support.world import key_client
from workers.tasks.evaluation import evaluation_incremental
from workers.tasks.transfers import transfers_plan

PARIS, LYON, MARSEILLE = (48.8566, 2.3522), (45.7640, 4.8357), (43.2965, 5.3698)
PAR_LYO_KM, PAR_MRS_KM = 391.4989316742569, 660.4783796736643
ONE_DEGREE_KM = 6371.0 * math.pi / 180  # 111.1949 km along the equator


# --- Pure solver ------------------------------------------------------------------------------------


def node(position_id: int, units: int, warehouse: str = "W", sku: str = "a") -> Node:
    return Node(position_id=position_id, sku_id=sku, warehouse_id=warehouse, units=units, alert_id=None)


def flows(solution) -> dict[tuple[int, int], int]:
    return {(move.source.position_id, move.sink.position_id): move.quantity for move in solution.moves}


def test_distance_km_on_known_coordinates_and_unknown_ends():
    # Paris-Lyon by road is about 465 km; as the crow flies about 392 km.
    assert distance_km(PARIS, LYON) == pytest.approx(392, rel=0.01)
    assert distance_km(PARIS, LYON) == pytest.approx(PAR_LYO_KM, abs=1e-6)
    assert distance_km(LYON, PARIS) == pytest.approx(distance_km(PARIS, LYON), abs=1e-9)
    # One degree of longitude on the equator is R x pi / 180 = 111.1949 km; a point to itself is 0.
    assert distance_km((0.0, 0.0), (0.0, 1.0)) == pytest.approx(ONE_DEGREE_KM, abs=1e-6)
    assert distance_km(PARIS, PARIS) == 0.0
    # Antipodes: half the circumference, pi x 6371 = 20015.09 km.
    assert distance_km((0.0, 0.0), (0.0, 180.0)) == pytest.approx(math.pi * 6371.0, abs=1e-6)
    # Any end without coordinates counts as 1000 km.
    assert UNKNOWN_DISTANCE_KM == 1000.0
    assert distance_km((None, None), PARIS) == 1000.0
    assert distance_km(PARIS, (48.0, None)) == 1000.0
    assert distance_km((None, 2.0), (None, None)) == 1000.0


def test_the_lp_beats_greedy_nearest_first_where_greedy_is_not_optimal():
    # Sources A (10 units) and B (10); sinks X (needs 10) and Y (needs 5); cost 1 per km:
    #        X   Y
    #   A    1   1
    #   B    2 100
    # Greedy serves the largest need first: X takes 10 from A (its nearest) = 10, then Y finds A
    # empty and takes 5 from B = 500: 510. The optimum sends Y's 5 from A (5), and X 5 from A (5)
    # and 5 from B (10): 20. (Every unit of Y not from A costs 99 more; A's 10 units cover Y's 5.)
    a, b, x, y = node(1, 10, "WA"), node(2, 10, "WB"), node(3, 10, "WX"), node(4, 5, "WY")
    problem = Problem(
        sources=[a, b],
        sinks=[x, y],
        arcs=[(0, 0, 1.0, 1.0), (0, 1, 1.0, 1.0), (1, 0, 2.0, 2.0), (1, 1, 100.0, 100.0)],
        shortage_penalty=1000.0,
    )
    greedy = greedy_plan(problem)
    assert flows(greedy) == {(1, 3): 10, (2, 4): 5}
    assert (greedy.transport_cost, greedy.units_short, greedy.objective) == (510.0, 0, 510.0)

    best = optimal_plan(problem)
    assert flows(best) == {(1, 3): 5, (1, 4): 5, (2, 3): 5}
    assert best.units_short == 0
    assert best.transport_cost == pytest.approx(20.0)
    assert best.objective == pytest.approx(20.0)
    assert greedy.objective > best.objective
    assert best.stats["variables"] == 4 + 2  # one per arc and one shortage per sink
    assert 0 < best.stats["solver_seconds"] <= best.seconds  # the solve is part of the plan's time


def test_supply_short_of_demand_is_counted_and_penalized():
    # A holds 3, X needs 5, 2 per unit to ship, 10 per unit left short: ship 3 (6) and leave 2
    # short (20) = 26; shipping nothing would cost 50.
    problem = Problem(
        sources=[node(1, 3, "WA")], sinks=[node(2, 5, "WX")], arcs=[(0, 0, 2.0, 2.0)], shortage_penalty=10.0
    )
    solution = optimal_plan(problem)
    assert flows(solution) == {(1, 2): 3}
    assert solution.units_short == 2
    assert solution.transport_cost == pytest.approx(6.0)
    assert solution.shortage_cost == pytest.approx(20.0)
    assert solution.objective == pytest.approx(26.0)
    greedy = greedy_plan(problem)
    assert (flows(greedy), greedy.units_short, greedy.objective) == ({(1, 2): 3}, 2, 26.0)


def test_a_penalty_below_the_transport_cost_leaves_demand_short_rather_than_ship():
    # Shipping costs 3 a unit, leaving a unit short costs 2: the LP ships nothing, 4 x 2 = 8.
    # Greedy ignores the penalty and ships all 4 at 3 = 12.
    problem = Problem(
        sources=[node(1, 10, "WA")], sinks=[node(2, 4, "WX")], arcs=[(0, 0, 3.0, 3.0)], shortage_penalty=2.0
    )
    solution = optimal_plan(problem)
    assert solution.moves == []
    assert (solution.units_short, solution.transport_cost) == (4, 0)
    assert solution.shortage_cost == pytest.approx(8.0)
    assert solution.objective == pytest.approx(8.0)
    greedy = greedy_plan(problem)
    assert (flows(greedy), greedy.units_short, greedy.objective) == ({(1, 2): 4}, 0, 12.0)
    # With the penalty above the cost (3.5 > 3) the LP ships all 4: 12 against 4 x 3.5 = 14.
    above = optimal_plan(Problem(problem.sources, problem.sinks, problem.arcs, shortage_penalty=3.5))
    assert (flows(above), above.units_short) == ({(1, 2): 4}, 0)
    assert above.objective == pytest.approx(12.0)


def test_flows_are_whole_units_and_balance_exactly():
    # Sources A 7, B 5, C 4; sinks X 6, Y 6, Z 3; cost per unit:
    #        X  Y  Z
    #   A    1  4  6
    #   B    3  1  5
    #   C    5  3  1
    # Each sink at its cheapest source would cost 6 + 6 + 3 = 15, but B holds only 5 of Y's 6; the
    # sixth unit of Y costs at least 3 (from C, which has 4 - 3 = 1 left after Z): 15 + 2 = 17.
    sources = [node(1, 7, "WA"), node(2, 5, "WB"), node(3, 4, "WC")]
    sinks = [node(4, 6, "WX"), node(5, 6, "WY"), node(6, 3, "WZ")]
    costs = [[1, 4, 6], [3, 1, 5], [5, 3, 1]]
    arcs = [(i, j, float(costs[i][j]), float(costs[i][j])) for i in range(3) for j in range(3)]
    solution = optimal_plan(Problem(sources, sinks, arcs, shortage_penalty=100.0))
    assert flows(solution) == {(1, 4): 6, (2, 5): 5, (3, 5): 1, (3, 6): 3}
    assert all(type(move.quantity) is int and move.quantity > 0 for move in solution.moves)
    assert solution.units_short == 0
    assert solution.objective == pytest.approx(17.0)
    for source in sources:
        assert sum(m.quantity for m in solution.moves if m.source is source) <= source.units
    for sink in sinks:
        assert sum(m.quantity for m in solution.moves if m.sink is sink) == sink.units


def test_problem_build_never_mixes_skus_and_skips_same_warehouse_pairs():
    # W1 (0, 0), W2 (0, 1), W3 (0, 2): one degree apart along the equator, 111.1949 km.
    coordinates = {"W1": (0.0, 0.0), "W2": (0.0, 1.0), "W3": (0.0, 2.0)}
    sources = [node(1, 10, "W1", sku="a"), node(2, 10, "W3", sku="b")]
    # b is short at W2 (W1 next door holds only a), a is short at W3 and at W1 (same warehouse as
    # the only source of a: no arc, and nothing to fill it from).
    sinks = [node(3, 5, "W2", sku="b"), node(4, 4, "W3", sku="a"), node(5, 2, "W1", sku="a")]
    problem = problem_build(
        sources=sources, sinks=sinks, coordinates=coordinates, cost_per_unit_km=1.0, lanes={}, shortage_penalty=1000.0
    )
    # a@W1 -> a@W3 (2 degrees) and b@W3 -> b@W2 (1 degree); nothing across SKUs, nothing W1 -> W1.
    assert [(i, j) for i, j, _, _ in problem.arcs] == [(0, 1), (1, 0)]
    assert problem.arcs[0][2] == pytest.approx(2 * ONE_DEGREE_KM, abs=1e-6)
    assert problem.arcs[1][2] == pytest.approx(ONE_DEGREE_KM, abs=1e-6)
    solution = optimal_plan(problem)
    assert flows(solution) == {(1, 4): 4, (2, 3): 5}
    assert all(move.source.sku_id == move.sink.sku_id for move in solution.moves)
    assert all(move.source.warehouse_id != move.sink.warehouse_id for move in solution.moves)
    # The W1 sink of a is left short by its 2 units although W1 holds 10 - 4 = 6 spare.
    assert solution.units_short == 2
    assert solution.transport_cost == pytest.approx(4 * 2 * ONE_DEGREE_KM + 5 * ONE_DEGREE_KM)


def test_a_lane_overrides_the_policy_rate_in_its_own_direction_only():
    coordinates = {"W1": (0.0, 0.0), "W2": (0.0, 1.0), "W3": (0.0, 2.0)}
    sources = [node(1, 10, "W1"), node(2, 10, "W3")]
    sinks = [node(3, 6, "W2")]
    # Policy 2 per unit and km; the lane W3 -> W2 costs 0.5; a lane W2 -> W1 (the other way round)
    # does not touch W1 -> W2. W1 -> W2: 111.1949 x 2 = 222.39 a unit; W3 -> W2: x 0.5 = 55.597.
    problem = problem_build(
        sources=sources,
        sinks=sinks,
        coordinates=coordinates,
        cost_per_unit_km=2.0,
        lanes={("W3", "W2"): 0.5, ("W2", "W1"): 0.0},
        shortage_penalty=1000.0,
    )
    assert [(i, j) for i, j, _, _ in problem.arcs] == [(0, 0), (1, 0)]
    assert problem.arcs[0][3] == pytest.approx(2.0 * ONE_DEGREE_KM)
    assert problem.arcs[1][3] == pytest.approx(0.5 * ONE_DEGREE_KM)
    # Both sources are one degree away, so the cheaper lane takes all 6: 6 x 55.597 = 333.58.
    solution = optimal_plan(problem)
    assert flows(solution) == {(2, 3): 6}
    assert solution.transport_cost == pytest.approx(6 * 0.5 * ONE_DEGREE_KM)


def test_edge_cases_without_sinks_or_without_sources():
    # No sinks: nothing to plan. No sources: every unit of demand is short.
    empty = optimal_plan(Problem(sources=[node(1, 5)], sinks=[], arcs=[], shortage_penalty=5.0))
    assert (empty.moves, empty.units_short, empty.objective) == ([], 0, 0.0)
    dry = optimal_plan(Problem(sources=[], sinks=[node(1, 3), node(2, 4)], arcs=[], shortage_penalty=5.0))
    assert (dry.moves, dry.units_short) == ([], 7)
    assert dry.objective == pytest.approx(35.0)
    # A source and a sink in the same warehouse only: no arc at all, the sink's 3 units are short.
    alone = problem_build(
        sources=[node(1, 9, "W1")],
        sinks=[node(2, 3, "W1")],
        coordinates={"W1": (0.0, 0.0)},
        cost_per_unit_km=1.0,
        lanes={},
        shortage_penalty=5.0,
    )
    assert alone.arcs == []
    stuck = optimal_plan(alone)
    assert (stuck.moves, stuck.units_short) == ([], 3)
    assert stuck.objective == pytest.approx(15.0)


# --- Through the API ----------------------------------------------------------------------------------


def movement(kind: str, warehouse: str, quantity: int, days_ago: int, ref: str) -> dict:
    return {
        "kind": kind,
        "sku": "S",
        "warehouse": warehouse,
        "quantity": quantity,
        "occurred_at": ts(days_ago, hour=0),
        "external_ref": ref,
    }


def stock(world, warehouse: str, received: int, received_days_ago: int, sales: list[tuple[int, int]]) -> None:
    """One batch per warehouse, so positions (and so sources and moves) are made in call order."""
    rows = [movement("receipt", warehouse, received, received_days_ago, f"{warehouse}-in")]
    rows += [movement("sale", warehouse, units, day, f"{warehouse}-sale-{day}") for day, units in sales]
    pushed(world, "movements", rows)


def evaluate(world) -> None:
    evaluation_incremental(str(world.tenant.pk))


def alert_id(world, rule: str, warehouse: str) -> str:
    found = ok(world.admin.client.get(url(world, "alerts/"), {"rule": rule, "warehouse": warehouse, "active": "true"}))
    assert len(found["results"]) == 1, found
    return found["results"][0]["id"]


def plan(world, caller=None) -> dict:
    """Start a plan over the API and run it as the worker would; the finished plan."""
    started = ok((caller or world.planner).client.post(url(world, "transfer-plans/")), 202)
    assert started["status"] == "queued"
    assert transfers_plan(started["id"]) == "succeeded"
    return ok(world.analyst.client.get(url(world, f"transfer-plans/{started['id']}/")))


def moves(world, plan_id: str) -> list[dict]:
    return ok(world.analyst.client.get(url(world, f"transfer-plans/{plan_id}/moves/")))["results"]


def shape(found: list[dict]) -> list[tuple]:
    return [(m["source"], m["destination"], m["sku"], m["quantity"], m["distance_km"]) for m in found]


def accept(world, plan_id: str, move_ids: list[int] | None = None, caller=None):
    body = {} if move_ids is None else {"move_ids": move_ids}
    return (caller or world.planner).client.post(url(world, f"transfer-plans/{plan_id}/accept/"), body, format="json")


@pytest.fixture
def france(world):
    pushed(world, "categories", [{"code": "C", "name": "C"}])
    pushed(world, "skus", [{"code": "S", "name": "S", "category": "C", "unit_cost": "1", "list_price": "2"}])
    pushed(
        world,
        "warehouses",
        [
            {
                "code": "PAR",
                "name": "Paris",
                "region": "n",
                "kind": "store",
                "latitude": "48.8566",
                "longitude": "2.3522",
            },
            {
                "code": "LYO",
                "name": "Lyon",
                "region": "s",
                "kind": "store",
                "latitude": "45.7640",
                "longitude": "4.8357",
            },
            {
                "code": "MRS",
                "name": "Mars.",
                "region": "s",
                "kind": "store",
                "latitude": "43.2965",
                "longitude": "5.3698",
            },
            {"code": "FAR", "name": "Far", "region": "x", "kind": "store"},
        ],
    )
    every_day = range(28)
    stock(world, "LYO", 700, 100, [(3, 280)])
    stock(world, "FAR", 2000, 100, [(day, 10) for day in every_day])
    stock(world, "MRS", 128, 100, [(day, 1) for day in every_day])
    stock(world, "PAR", 330, 40, [(day, 10) for day in every_day])
    evaluate(world)
    return world


def test_the_network_is_as_the_module_docstring_works_it_out(france):
    world = france
    readings = {
        r["warehouse"]: r
        for r in ok(world.analyst.client.get(url(world, "indicators/"), {"sku": "S"}))["results"]
        if r["warehouse"] in ("PAR", "LYO", "MRS", "FAR")
    }
    got = {
        code: (r["on_hand"], r["available"], r["ads_28"], r["safety_stock_service"], r["turnover_days"])
        for code, r in readings.items()
    }
    assert got == {
        "LYO": (420, 420, 10.0, 325.66, 221.0),
        "FAR": (1720, 1720, 10.0, 0.0, 628.36),
        "MRS": (100, 100, 1.0, 0.0, 396.93),
        "PAR": (50, 50, 10.0, 0.0, 33.82),
    }
    for code in ("LYO", "FAR", "MRS"):
        alert_id(world, "overstock", code)
    sink = ok(world.admin.client.get(url(world, f"alerts/{alert_id(world, 'stock_out_risk', 'PAR')}/")))
    assert {k: sink["inputs"][k] for k in ("available", "in_transit", "ads_28", "lead_time_days", "reorder_point")} == {
        "available": 50,
        "in_transit": 0,
        "ads_28": 10.0,
        "lead_time_days": 14,
        "reorder_point": 140.0,
    }


def test_a_plan_fills_the_short_warehouse_from_the_cheapest_sources_first(france):
    world = france
    done = plan(world)
    assert (done["status"], done["error"]) == ("succeeded", "")
    assert done["started_at"] is not None
    assert done["finished_at"] is not None
    assert done["requested_by"].startswith("user:acme-planner")
    # PAR needs 230: LYO's 94 at 0.783, MRS's 72 at 1.321, the other 64 from FAR at 2.0 (FAR could
    # give 1440 but is the dearest). Moves in source position order: LYO, FAR, MRS.
    found = moves(world, done["id"])
    assert shape(found) == [
        ("LYO", "PAR", "S", 94, 391.5),
        ("FAR", "PAR", "S", 64, 1000.0),
        ("MRS", "PAR", "S", 72, 660.5),
    ]
    # unit cost = km x 0.002; cost = quantity x unit cost (unrounded), both to 4 places:
    # 94 x 0.782998 = 73.6018; 64 x 2 = 128; 72 x 1.320957 = 95.1089.
    assert [(m["unit_cost"], m["cost"]) for m in found] == [
        ("0.7830", "73.6018"),
        ("2.0000", "128.0000"),
        ("1.3210", "95.1089"),
    ]
    assert all(m["status"] == "proposed" and m["transfer_id"] is None for m in found)
    assert {m["supply_alert_id"] for m in found} == {
        alert_id(world, "overstock", code) for code in ("LYO", "FAR", "MRS")
    }
    assert {m["demand_alert_id"] for m in found} == {alert_id(world, "stock_out_risk", "PAR")}

    summary = done["summary"]
    # 73.6018 + 128 + 95.1089 = 296.7107; nothing short. Greedy (nearest first) does the same here.
    assert {k: summary[k] for k in ("sources", "sinks", "arcs", "moves", "units", "demand_units", "units_short")} == {
        "sources": 3,
        "sinks": 1,
        "arcs": 3,
        "moves": 3,
        "units": 230,
        "demand_units": 230,
        "units_short": 0,
    }
    assert summary["transport_cost"] == pytest.approx(296.7107, abs=1e-4)
    assert summary["shortage_cost"] == 0
    assert summary["objective"] == pytest.approx(296.7107, abs=1e-4)
    assert summary["greedy_objective"] >= summary["objective"]
    assert summary["greedy_objective"] == pytest.approx(296.7107, abs=1e-4)
    assert summary["greedy_units_short"] == 0
    # The load and the solve are parts of the whole.
    assert summary["load_seconds"] + summary["solver_seconds"] <= summary["total_seconds"]


def test_no_source_gives_beyond_its_safety_stock_or_four_weeks_of_its_own_sales(france):
    world = france
    found = {m["source"]: m["quantity"] for m in moves(world, plan(world)["id"])}
    for code in ("LYO", "MRS"):
        reading = ok(world.analyst.client.get(url(world, f"indicators/{position(world, code).pk}/")))
        available, ads, safety = reading["available"], reading["ads_28"], reading["details"]["safety_stock"]
        assert reading["details"]["safety_stock_method"] == "service_level"
        assert found[code] <= available - safety
        assert found[code] <= available - 28 * ads  # four weeks of sales stay behind
        # The plan takes all a cheaper source can give, so the binding bound is met exactly:
        # LYO floor(420 - 325.66) = 94 (safety stock); MRS 100 - 28 x 1 = 72 (four weeks).
    assert (found["LYO"], found["MRS"]) == (94, 72)


def test_the_policy_rates_decide_what_is_worth_moving(france):
    world = france
    # 0.01 a unit and km: LYO 3.914989, MRS 6.604784, FAR 10 a unit; only LYO is below the penalty
    # of 5. 94 shipped (94 x 3.914989 = 368.009), 136 short (x 5 = 680): 1048.009.
    policy = ok(world.admin.client.patch(url(world, "transfer-policy/"), {"cost_per_unit_km": "0.01"}, format="json"))
    assert policy["cost_per_unit_km"] == "0.010000"
    dear = plan(world)
    assert shape(moves(world, dear["id"])) == [("LYO", "PAR", "S", 94, 391.5)]
    assert (dear["summary"]["units"], dear["summary"]["units_short"]) == (94, 136)
    assert dear["summary"]["transport_cost"] == pytest.approx(368.009, abs=1e-3)
    assert dear["summary"]["shortage_cost"] == pytest.approx(680.0)
    assert dear["summary"]["objective"] == pytest.approx(1048.009, abs=1e-3)
    # Greedy ships everything nearest first whatever the penalty: 368.009 + 72 x 6.604784 (475.544)
    # + 64 x 10 (640) = 1483.553, all of it transport.
    assert dear["summary"]["greedy_objective"] == pytest.approx(1483.553, abs=1e-3)
    assert dear["summary"]["greedy_objective"] > dear["summary"]["objective"]

    # A penalty of 100 a unit makes every unit worth shipping again: 368.009 + 475.544 + 640.
    ok(world.admin.client.patch(url(world, "transfer-policy/"), {"shortage_penalty_per_unit": "100"}, format="json"))
    cheap = plan(world)
    assert [(m["source"], m["quantity"], m["unit_cost"]) for m in moves(world, cheap["id"])] == [
        ("LYO", 94, "3.9150"),
        ("FAR", 64, "10.0000"),
        ("MRS", 72, "6.6048"),
    ]
    assert cheap["summary"]["units_short"] == 0
    assert cheap["summary"]["objective"] == pytest.approx(1483.553, abs=1e-3)
    # Only admins set the policy.
    assert error(
        world.planner.client.patch(url(world, "transfer-policy/"), {"cost_per_unit_km": "0"}, format="json"), 403
    )


def test_a_lane_rate_replaces_the_policy_rate_for_its_direction(france):
    world = france
    # FAR -> PAR at 0.0001 a unit and km: 1000 x 0.0001 = 0.1 a unit, the cheapest by far: all 230
    # from FAR for 23.0. Greedy still goes nearest first: 73.6018 + 95.1089 + 64 x 0.1 = 175.1107.
    lane = ok(
        world.planner.client.post(
            url(world, "transfer-lanes/"),
            {"source": "FAR", "destination": "PAR", "cost_per_unit_km": "0.0001"},
            format="json",
        )
    )
    assert (lane["source"], lane["destination"], lane["cost_per_unit_km"]) == ("FAR", "PAR", "0.000100")
    # A lane the other way round changes nothing for this plan.
    ok(
        world.planner.client.post(
            url(world, "transfer-lanes/"),
            {"source": "PAR", "destination": "LYO", "cost_per_unit_km": "0"},
            format="json",
        )
    )
    done = plan(world)
    found = moves(world, done["id"])
    assert shape(found) == [("FAR", "PAR", "S", 230, 1000.0)]
    assert (found[0]["unit_cost"], found[0]["cost"]) == ("0.1000", "23.0000")
    assert done["summary"]["transport_cost"] == pytest.approx(23.0)
    assert done["summary"]["greedy_objective"] == pytest.approx(175.1107, abs=1e-4)


def test_accepting_moves_makes_approved_transfers_all_or_nothing(france):
    world = france
    started = ok(world.planner.client.post(url(world, "transfer-plans/")), 202)
    # Not yet computed: nothing to accept.
    assert "queued" in error(accept(world, started["id"]), 409)["message"]
    transfers_plan(started["id"])
    lyo, far, mrs = moves(world, started["id"])
    assert (lyo["source"], far["source"], mrs["source"]) == ("LYO", "FAR", "MRS")

    created = ok(accept(world, started["id"], [lyo["id"]]))
    assert [(t["status"], t["approval"], t["sku"], t["source"], t["destination"], t["quantity"]) for t in created] == [
        ("approved", "plan", "S", "LYO", "PAR", 94)
    ]
    assert f"Move {lyo['id']} of transfer plan {started['id']}" == created[0]["note"]
    # LYO's reservation went from 0 to 94: available 420 - 94 = 326, just above its safety stock.
    assert (position(world, "LYO").on_hand, position(world, "LYO").reserved) == (420, 94)
    after = {m["id"]: (m["status"], m["transfer_id"]) for m in moves(world, started["id"])}
    assert after == {
        lyo["id"]: ("accepted", created[0]["id"]),
        far["id"]: ("proposed", None),
        mrs["id"]: ("proposed", None),
    }

    # Twice is refused, and so is a move that is not in the plan.
    assert "accepted already" in error(accept(world, started["id"], [lyo["id"]]), 409)["message"]
    assert (
        str(mrs["id"] + 10_000) in error(accept(world, started["id"], [far["id"], mrs["id"] + 10_000]), 409)["message"]
    )

    # MRS sells 40 of its 100: it can spare 60 now, not the 72 of its move. Accepting FAR's move
    # (fine on its own, and processed first) with MRS's refuses both and names MRS's move.
    pushed(world, "movements", [movement("sale", "MRS", 40, 0, "MRS-late-sale")])
    assert position(world, "MRS").on_hand == 60
    refused = error(accept(world, started["id"], [far["id"], mrs["id"]]), 409)
    assert f"Move {mrs['id']} (72 x S from MRS)" in refused["message"]
    assert "MRS can spare 60 units" in refused["message"]
    assert position(world, "FAR").reserved == 0
    assert position(world, "MRS").reserved == 0
    assert TransferRequest.objects.filter(tenant=world.tenant).count() == 1
    assert {m["id"]: m["status"] for m in moves(world, started["id"])}[far["id"]] == "proposed"

    # FAR's move alone still goes through.
    (far_transfer,) = ok(accept(world, started["id"], [far["id"]]))
    assert (far_transfer["source"], far_transfer["quantity"], far_transfer["approval"]) == ("FAR", 64, "plan")
    assert position(world, "FAR").reserved == 64


def test_accepting_without_move_ids_takes_every_move_of_a_fresh_plan(france):
    world = france
    done = plan(world)
    created = ok(accept(world, done["id"]))
    assert [(t["source"], t["destination"], t["quantity"], t["status"], t["approval"]) for t in created] == [
        ("LYO", "PAR", 94, "approved", "plan"),
        ("FAR", "PAR", 64, "approved", "plan"),
        ("MRS", "PAR", 72, "approved", "plan"),
    ]
    assert [position(world, code).reserved for code in ("LYO", "FAR", "MRS", "PAR")] == [94, 64, 72, 0]
    assert {m["status"] for m in moves(world, done["id"])} == {"accepted"}


def test_a_tenant_without_alerts_gets_an_empty_plan_and_sees_no_other_tenants_plan(france, other_world):
    world = france
    # globex has no stock-out alert: no sink, nothing to move, nothing short.
    theirs = plan(other_world)
    assert {k: theirs["summary"][k] for k in ("sources", "sinks", "arcs", "moves", "units", "units_short")} == {
        "sources": 0,
        "sinks": 0,
        "arcs": 0,
        "moves": 0,
        "units": 0,
        "units_short": 0,
    }
    assert theirs["summary"]["objective"] == 0
    assert moves(other_world, theirs["id"]) == []
    # Its id under acme's URL is not found, for reading and for accepting alike.
    assert error(world.admin.client.get(url(world, f"transfer-plans/{theirs['id']}/")), 404)
    assert error(world.admin.client.get(url(world, f"transfer-plans/{theirs['id']}/moves/")), 404)
    assert error(accept(world, theirs["id"], caller=world.admin), 404)


def test_who_may_start_and_accept_plans(france):
    world = france
    for caller in (world.analyst, world.distributor, world.supplier):
        assert error(caller.client.post(url(world, "transfer-plans/")), 403)["code"] == "permission_denied"
    assert TransferPlan.objects.filter(tenant=world.tenant).count() == 0
    done = plan(world, caller=world.admin)
    first = moves(world, done["id"])[0]
    for caller in (world.analyst, world.distributor):
        assert error(accept(world, done["id"], [first["id"]], caller=caller), 403)["code"] == "permission_denied"
    assert TransferRequest.objects.filter(tenant=world.tenant).count() == 0
    # Staff read plans; partners do not.
    listed = ok(world.analyst.client.get(url(world, "transfer-plans/")))["results"]
    assert [p["id"] for p in listed] == [done["id"]]
    assert error(world.distributor.client.get(url(world, f"transfer-plans/{done['id']}/")), 403)


def test_a_retried_plan_task_does_nothing_the_second_time(france):
    world = france
    started = ok(world.planner.client.post(url(world, "transfer-plans/")), 202)
    assert transfers_plan(started["id"]) == "succeeded"
    first = TransferPlan.objects.get(pk=started["id"])
    assert transfers_plan(started["id"]) is None
    again = TransferPlan.objects.get(pk=started["id"])
    assert (again.status, again.summary, again.finished_at) == ("succeeded", first.summary, first.finished_at)
    assert TransferPlanMove.objects.filter(plan_id=started["id"]).count() == 3


def test_accepting_without_move_ids_accepts_the_proposed_moves_left(france):
    world = france
    done = plan(world)
    lyo, far, mrs = moves(world, done["id"])
    ok(accept(world, done["id"], [lyo["id"]]))
    # AcceptInput.move_ids: "The moves to accept; all proposed moves when left out."
    created = ok(accept(world, done["id"]))
    assert sorted((t["source"], t["quantity"]) for t in created) == [("FAR", 64), ("MRS", 72)]
    after = {m["id"]: m["status"] for m in moves(world, done["id"])}
    assert (after[far["id"]], after[mrs["id"]]) == ("accepted", "accepted")


def test_a_second_plan_counts_the_approved_transfers_on_their_way(france):
    world = france
    first = plan(world)
    lyo, _, _ = moves(world, first["id"])
    ok(accept(world, first["id"], [lyo["id"]]))  # 94 units approved for PAR, not shipped yet
    second = plan(world)
    # PAR needed 230; 94 are on their way, so the new plan asks only for the other 136 (LYO has
    # nothing left to spare above its safety stock, MRS and FAR give theirs).
    assert second["summary"]["demand_units"] == 230 - 94
    assert sum(m["quantity"] for m in moves(world, second["id"])) == 136


# --- One plan at a time per tenant --------------------------------------------------------------------


def test_a_second_plan_is_refused_while_one_is_queued(world, other_world):
    queued = ok(world.planner.client.post(url(world, "transfer-plans/")), 202)
    for caller in (world.planner, world.admin):
        refused = error(caller.client.post(url(world, "transfer-plans/")), 409)
        assert refused["code"] == "conflict"
        assert f"already queued ({queued['id']})" in refused["message"]
    assert TransferPlan.objects.filter(tenant=world.tenant).count() == 1
    # Another tenant plans at the same time; once the plan is done, the tenant starts the next one.
    ok(other_world.planner.client.post(url(other_world, "transfer-plans/")), 202)
    assert transfers_plan(queued["id"]) == "succeeded"
    ok(world.planner.client.post(url(world, "transfer-plans/")), 202)


@pytest.mark.usefixtures("transactional_db")
def test_plans_started_at_once_leave_one_queued_and_refuse_the_rest(world):
    barrier = threading.Barrier(4)

    def start() -> int:
        client = key_client(world.planner.raw_key)
        try:
            barrier.wait()
            return client.post(url(world, "transfer-plans/")).status_code
        finally:
            connection.close()  # each thread's own connection

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = sorted(pool.map(lambda _: start(), range(4)))
    assert answers == [202, 409, 409, 409]
    assert TransferPlan.objects.filter(tenant=world.tenant).count() == 1


@pytest.mark.parametrize("died", ["queued", "running"])
def test_a_plan_whose_worker_died_stops_blocking_after_the_stale_limit(world, settings, died):
    settings.TRANSFER_PLAN_STALE_SECONDS = 60
    dead = ok(world.planner.client.post(url(world, "transfer-plans/")), 202)
    # The worker took the plan and was killed, or its message was lost: the plan stays as it was.
    if died == "running":
        TransferPlan.objects.filter(pk=dead["id"]).update(status="running", started_at=timezone.now())
    error(world.planner.client.post(url(world, "transfer-plans/")), 409)
    past = timezone.now() - timedelta(seconds=61)
    TransferPlan.objects.filter(pk=dead["id"]).update(created_at=past, started_at=past if died == "running" else None)
    fresh = ok(world.planner.client.post(url(world, "transfer-plans/")), 202)
    gone = ok(world.analyst.client.get(url(world, f"transfer-plans/{dead['id']}/")))
    assert (gone["status"], gone["error"]) == ("failed", "No worker finished it within 60 s; start a new plan.")
    # The lost message of the dead plan, delivered late, does nothing; the new plan runs.
    assert transfers_plan(dead["id"]) is None
    assert transfers_plan(fresh["id"]) == "succeeded"


def test_a_promotion_shortfall_is_a_sink_for_its_shortfall(france):
    world = france
    starts = timezone.now().date() + timedelta(days=20)
    body = {
        "sku": "S",
        "warehouses": ["PAR"],
        "starts_on": str(starts),
        "ends_on": str(starts + timedelta(days=6)),
        "discount_percent": "25",
        "expected_uplift": "3",
    }
    ok(world.planner.client.post(url(world, "promotions/"), body, format="json"), 201)
    call_command("evaluate", tenant=world.tenant.slug, stdout=StringIO())
    shortfall = ok(world.admin.client.get(url(world, f"alerts/{alert_id(world, 'promotion_shortfall', 'PAR')}/")))
    # No forecast fitted here: 10 a day (ads_28), the stated uplift applied by the rule. Days 20 .. 40
    # (the promotion and the 14-day default lead time): 21 x 10 + 7 x 10 x (3 - 1) = 350; PAR's 50
    # run out before the start, so all 350 are short.
    assert (shortfall["inputs"]["promoted_demand"], shortfall["inputs"]["shortfall"]) == (350.0, 350.0)
    done = plan(world)
    # PAR is one sink: the larger need of its two alerts, the shortfall's 350 over the stock-out's 230.
    assert (done["summary"]["sinks"], done["summary"]["demand_units"], done["summary"]["units_short"]) == (1, 350, 0)
    found = moves(world, done["id"])
    assert {m["demand_alert_id"] for m in found} == {shortfall["id"]}
    assert sum(m["quantity"] for m in found) == 350
