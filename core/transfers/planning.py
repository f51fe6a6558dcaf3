"""The transfer plan as a transportation problem, solved with HiGHS through SciPy's ``linprog``.

Sources are positions with an active overstock or slow-moving alert; each gives what it holds
beyond both its safety stock and 28 days of its own sales (so no source is taken below its safety
stock). Sinks are positions with an active stock-out alert; each needs what the replenishment rule
orders (reorder point + ads_28 x lead time - available - in transit). Arcs join a source and a sink
of the same SKU; a unit on an arc costs the distance between the two warehouses (great circle, km)
times the lane's cost per unit and km (the policy's where no lane sets one). A unit of demand left
short costs the policy's shortage penalty. The plan minimizes transport cost plus penalty:

    min  sum_a c_a x_a + P sum_j s_j
    s.t. sum_{a out of i} x_a <= supply_i        for every source i
         sum_{a into j} x_a + s_j = demand_j     for every sink j
         x, s >= 0

With whole-unit supplies and demands its constraint matrix is totally unimodular, so the dual
simplex's vertex solution is in whole units. ``greedy_plan`` is the baseline docs/performance.md compares
against: each sink, most short first, takes from the nearest source with stock left.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

EARTH_RADIUS_KM = 6371.0
UNKNOWN_DISTANCE_KM = 1000.0  # a warehouse without coordinates: far, but not out of reach


@dataclass(frozen=True)
class Node:
    """A source or a sink: one position of one SKU, with the alert that makes it one."""

    position_id: int
    sku_id: object
    warehouse_id: object
    units: int
    alert_id: object


@dataclass
class Problem:
    sources: list[Node]
    sinks: list[Node]
    # (source index, sink index, distance km, cost per unit) for every pair of the same SKU.
    arcs: list[tuple[int, int, float, float]]
    shortage_penalty: float


@dataclass
class Move:
    source: Node
    sink: Node
    quantity: int
    distance_km: float
    unit_cost: float

    @property
    def cost(self) -> float:
        return self.quantity * self.unit_cost


@dataclass
class Solution:
    moves: list[Move]
    units_short: int
    transport_cost: float
    shortage_cost: float
    seconds: float
    stats: dict = field(default_factory=dict)

    @property
    def objective(self) -> float:
        return self.transport_cost + self.shortage_cost


def distance_km(a: tuple[float | None, float | None], b: tuple[float | None, float | None]) -> float:
    """Great-circle distance between two (latitude, longitude) points; unknown ends count as far."""
    if None in a or None in b:
        return UNKNOWN_DISTANCE_KM
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def problem_build(
    *,
    sources: list[Node],
    sinks: list[Node],
    coordinates: dict[object, tuple[float | None, float | None]],
    cost_per_unit_km: float,
    lanes: dict[tuple[object, object], float],
    shortage_penalty: float,
) -> Problem:
    """Arcs between every source and sink of the same SKU in different warehouses, with their cost."""
    sinks_by_sku: dict[object, list[int]] = defaultdict(list)
    for index, sink in enumerate(sinks):
        sinks_by_sku[sink.sku_id].append(index)
    arcs = []
    lane_costs: dict[tuple[object, object], tuple[float, float]] = {}  # a few hundred warehouse pairs
    for i, source in enumerate(sources):
        for j in sinks_by_sku.get(source.sku_id, ()):
            sink = sinks[j]
            pair = (source.warehouse_id, sink.warehouse_id)
            if pair[0] == pair[1]:
                continue
            if pair not in lane_costs:
                km = distance_km(coordinates[pair[0]], coordinates[pair[1]])
                lane_costs[pair] = (km, km * lanes.get(pair, cost_per_unit_km))
            arcs.append((i, j, *lane_costs[pair]))
    return Problem(sources=sources, sinks=sinks, arcs=arcs, shortage_penalty=shortage_penalty)


def optimal_plan(problem: Problem) -> Solution:
    """The least-cost plan: one sparse LP for all SKUs, HiGHS dual simplex."""
    started = time.perf_counter()
    n_arcs, n_sinks = len(problem.arcs), len(problem.sinks)
    if n_sinks == 0:
        return Solution([], 0, 0.0, 0.0, time.perf_counter() - started, {"variables": 0})
    arc_source = np.fromiter((a[0] for a in problem.arcs), dtype=np.int64, count=n_arcs)
    arc_sink = np.fromiter((a[1] for a in problem.arcs), dtype=np.int64, count=n_arcs)
    arc_cost = np.fromiter((a[3] for a in problem.arcs), dtype=np.float64, count=n_arcs)
    costs = np.concatenate([arc_cost, np.full(n_sinks, problem.shortage_penalty)])
    columns = np.arange(n_arcs)
    # Supply rows: the arcs leaving each source. Demand rows: the arcs into each sink plus its shortage.
    a_ub = csr_matrix((np.ones(n_arcs), (arc_source, columns)), shape=(len(problem.sources), n_arcs + n_sinks))
    a_eq = csr_matrix(
        (
            np.ones(n_arcs + n_sinks),
            (np.concatenate([arc_sink, np.arange(n_sinks)]), np.concatenate([columns, n_arcs + np.arange(n_sinks)])),
        ),
        shape=(n_sinks, n_arcs + n_sinks),
    )
    supply = np.fromiter((s.units for s in problem.sources), dtype=np.float64, count=len(problem.sources))
    demand = np.fromiter((s.units for s in problem.sinks), dtype=np.float64, count=n_sinks)
    built = time.perf_counter()
    result = linprog(
        costs,
        A_ub=a_ub if len(problem.sources) else None,
        b_ub=supply if len(problem.sources) else None,
        A_eq=a_eq,
        b_eq=demand,
        bounds=(0, None),
        method="highs-ds",
    )
    solved = time.perf_counter()
    if result.status != 0:
        raise RuntimeError(f"The transfer plan's LP did not solve: {result.message}")
    flows = np.rint(result.x[:n_arcs]).astype(np.int64)
    moves = [
        Move(problem.sources[arc[0]], problem.sinks[arc[1]], int(flows[k]), arc[2], arc[3])
        for k, arc in enumerate(problem.arcs)
        if flows[k] > 0
    ]
    moved_in = defaultdict(int)
    for move in moves:
        moved_in[id(move.sink)] += move.quantity
    short = sum(max(0, sink.units - moved_in[id(sink)]) for sink in problem.sinks)
    transport = sum(move.cost for move in moves)
    return Solution(
        moves,
        short,
        transport,
        short * problem.shortage_penalty,
        time.perf_counter() - started,
        {"variables": n_arcs + n_sinks, "build_seconds": built - started, "solver_seconds": solved - built},
    )


def greedy_plan(problem: Problem) -> Solution:
    """The baseline: each sink, largest need first, takes from its nearest source with stock left."""
    started = time.perf_counter()
    left = [source.units for source in problem.sources]
    arcs_into: dict[int, list[tuple[int, int, float, float]]] = defaultdict(list)
    for arc in problem.arcs:
        arcs_into[arc[1]].append(arc)
    moves, short = [], 0
    for j in sorted(range(len(problem.sinks)), key=lambda j: -problem.sinks[j].units):
        need = problem.sinks[j].units
        for i, _, km, unit_cost in sorted(arcs_into[j], key=lambda arc: arc[2]):
            if need == 0:
                break
            take = min(need, left[i])
            if take > 0:
                left[i] -= take
                need -= take
                moves.append(Move(problem.sources[i], problem.sinks[j], take, km, unit_cost))
        short += need
    transport = sum(move.cost for move in moves)
    return Solution(moves, short, transport, short * problem.shortage_penalty, time.perf_counter() - started)
