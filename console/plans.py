"""Transfer plans: start one, watch it run, see its moves on a map and in a table, accept all or some.

The pages call the services the API's ``transfer-plans/`` endpoints call (``plan_start``,
``plan_accept``) and read through the same selectors, so the console and the API cannot disagree
about a plan. A refused accept (a move of another plan, one accepted already, a source that can no
longer spare its units) shows the service's message with 400 and writes nothing: ``plan_accept`` is
all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from console.pages import ACTORS, READERS, ConsolePage
from console.warehouse_map import map_axes, map_point
from core.exceptions import Conflict, Contended, NotFound
from core.inventory.models import Warehouse
from core.inventory.selectors import warehouse_list
from core.transfers import plans as plan_services
from core.transfers import selectors
from core.transfers.models import MoveStatus, PlanStatus, TransferPlan, TransferPlanMove

LIST_LIMIT = 50  # the latest plans; older ones stay readable over the API
POLL = "2s"
PROPOSED_COLOUR = "#c0392b"
ACCEPTED_COLOUR = "#2e7d32"
MAX_MOVE_ID = 2**63 - 1
PAGE_SIZE = 50  # moves per page of the table (a plan can hold thousands)
MAP_MOVE_LIMIT = 300  # up to this many moves, a line each; beyond, a line per pair of warehouses
SKU_LIMIT = 20  # SKUs in the by-SKU table (most units first); the SKU filter reaches the others
SKU_CODE_MAX = 64


@dataclass(frozen=True)
class Figures:
    """A finished plan's headline numbers, read from its summary (what the API's plan answers)."""

    objective: float
    baseline: float
    saving: float
    saving_percent: float | None
    transport_cost: float
    shortage_cost: float
    baseline_transport_cost: float
    units: int
    demand_units: int
    units_short: int
    baseline_units_short: int
    moves: int


def plan_figures(plan: TransferPlan) -> Figures | None:
    """The plan's cost against the nearest-source baseline; None until the plan has a summary."""
    summary = plan.summary or {}
    if plan.status != PlanStatus.SUCCEEDED or "objective" not in summary:
        return None
    objective, baseline = float(summary["objective"]), float(summary["greedy_objective"])
    saving = round(baseline - objective, 4)
    return Figures(
        objective=objective,
        baseline=baseline,
        saving=saving,
        saving_percent=round(100 * saving / baseline, 1) if baseline else None,
        transport_cost=float(summary["transport_cost"]),
        shortage_cost=float(summary["shortage_cost"]),
        baseline_transport_cost=float(summary.get("greedy_transport_cost", 0)),
        units=int(summary["units"]),
        demand_units=int(summary["demand_units"]),
        units_short=int(summary["units_short"]),
        baseline_units_short=int(summary.get("greedy_units_short", 0)),
        moves=int(summary["moves"]),
    )


class PlanListPage(ConsolePage):
    """The tenant's latest plans; planners and admins start one (queued for the worker)."""

    section = "plans"
    access = {"GET": READERS, "POST": ACTORS}

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            plan = plan_services.plan_start(tenant=self.tenant, actor=self.principal)
        except Conflict as exc:
            messages.error(request, f"No plan started: {exc}")
            return self._render(request, status=400)
        messages.success(request, "Plan queued: the worker computes it; this page updates when it is done.")
        return redirect("console:plan", tenant_slug=self.tenant.slug, plan_id=plan.pk)

    def _render(self, request: HttpRequest, status: int = 200) -> HttpResponse:
        plans = list(selectors.plan_list(principal=self.principal).order_by("-created_at", "-id")[:LIST_LIMIT])
        rows = [{"plan": plan, "figures": plan_figures(plan)} for plan in plans]
        active = next((plan for plan in plans if plan.status in plan_services.ACTIVE), None)
        return self.page(request, "console/plans.html", {"rows": rows, "active": active, "poll": POLL}, status=status)


class _PlanView(ConsolePage):
    section = "plans"

    def _plan(self, plan_id: object) -> TransferPlan:
        try:
            return selectors.plan_get(principal=self.principal, plan_id=plan_id)
        except NotFound:
            raise Http404("No such transfer plan.") from None

    def _render(self, request: HttpRequest, plan: TransferPlan, status: int = 200) -> HttpResponse:
        sku = request.GET.get("sku", "").strip()[:SKU_CODE_MAX] or None
        if sku is not None and "\x00" in sku:
            # PostgreSQL refuses a NUL in a string: no SKU code has one, so say so and show them all.
            messages.error(request, "SKU filter refused: a SKU code has no NUL characters.")
            sku, status = None, 400
        moves = selectors.plan_moves(plan=plan)
        if sku is not None:
            moves = moves.filter(sku__code=sku)
        every_flow = list(selectors.plan_flows(plan=plan))
        flows = every_flow if sku is None else list(selectors.plan_flows(plan=plan, sku_code=sku))
        shown = sum(flow["moves"] for flow in flows)
        warehouses = {warehouse.pk: warehouse for warehouse in warehouse_list(tenant=self.tenant)}
        per_move = shown <= MAP_MOVE_LIMIT
        lines = [move_line(move) for move in moves] if per_move else [flow_line(f, warehouses) for f in flows]
        option, undrawn = flow_map(list(warehouses.values()), lines)
        skus = selectors.plan_sku_totals(plan=plan, limit=SKU_LIMIT + 1)
        page = Paginator(moves.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
        # The page's ids first, then those rows with their SKU and warehouses (not a join per move).
        rows = list(selectors.plan_moves(plan=plan).filter(pk__in=list(page.object_list)))
        sku_proposed = sum(flow["proposed"] for flow in flows) if sku is not None else 0
        context: dict[str, Any] = {
            "plan": plan,
            "active": plan.status in plan_services.ACTIVE,
            "poll": POLL,
            "figures": plan_figures(plan),
            "any_moves": bool(every_flow),
            "total_moves": sum(flow["moves"] for flow in every_flow),
            "proposed": sum(flow["proposed"] for flow in every_flow),
            "sku": sku,
            "sku_proposed": sku_proposed,
            "shown": shown,
            "moves": page,
            "rows": rows,
            "by_sku": skus[:SKU_LIMIT],
            "more_skus": len(skus) > SKU_LIMIT,
            "map_option": option,
            "per_move": per_move,
            "lines": len(lines),
            "undrawn": undrawn,
            "plan_url": reverse("console:plan", args=[self.tenant.slug, plan.pk]),
            "accept_url": reverse("console:plan-accept", args=[self.tenant.slug, plan.pk]),
        }
        return self.page(request, "console/plan.html", context, status=status)


class PlanPage(_PlanView):
    """One plan: its moves as flows on a map and as a table, its cost against the baseline, and the
    accept forms (all proposed moves, the chosen ones, or all moves of one SKU)."""

    access = {"GET": READERS, "POST": ACTORS}  # POST: the accept forms' buttons show to actors

    def get(self, request: HttpRequest, plan_id: str) -> HttpResponse:
        return self._render(request, self._plan(plan_id))


class PlanAcceptPage(_PlanView):
    """POST only: ``action=all`` (every proposed move), ``action=selected`` with ``move`` ids, or
    ``rebalance=<SKU code>`` (every proposed move of that SKU). All or nothing, as the service is."""

    access = {"POST": ACTORS}

    def post(self, request: HttpRequest, plan_id: str) -> HttpResponse:
        plan = self._plan(plan_id)
        try:
            move_ids, what = self._chosen(request, plan)
        except ValueError as exc:
            messages.error(request, f"Nothing accepted: {exc}")
            return self._render(request, plan, status=400)
        try:
            created = plan_services.plan_accept(plan=plan, actor=self.principal, move_ids=move_ids)
        except Conflict as exc:
            messages.error(request, f"Nothing accepted: {exc}")
            return self._render(request, plan, status=400)
        except Contended:
            messages.error(request, "Nothing accepted: the stock was busy; try again in a moment.")
            return self._render(request, plan, status=503)
        units = sum(transfer.quantity for transfer in created)
        messages.success(
            request,
            f"Accepted {what}: {len(created)} approved transfer request{'s' if len(created) != 1 else ''}, "
            f"{units} units.",
        )
        return redirect("console:plan", tenant_slug=self.tenant.slug, plan_id=plan.pk)

    def _chosen(self, request: HttpRequest, plan: TransferPlan) -> tuple[list[int] | None, str]:
        """The move ids to hand the service (None: every proposed move) and how to name them."""
        sku = request.POST.get("rebalance", "").strip()
        action = request.POST.get("action", "")
        if "\x00" in sku or len(sku) > SKU_CODE_MAX:
            raise ValueError(f"{sku[:40]!r} is not a SKU code.")
        if sku:
            proposed = list(
                selectors.plan_moves(plan=plan)
                .filter(sku__code=sku, status=MoveStatus.PROPOSED)
                .values_list("pk", flat=True)
            )
            if not proposed:
                raise ValueError(f"this plan has no proposed move of SKU {sku!r} left to accept.")
            return proposed, f"every move of SKU {sku}"
        if action == "all":
            if (
                plan.status == PlanStatus.SUCCEEDED
                and not selectors.plan_moves(plan=plan).filter(status=MoveStatus.PROPOSED).exists()
            ):
                raise ValueError("every move of this plan is accepted already.")
            return None, "every proposed move"
        if action == "selected":
            ids = move_ids_parse(request.POST.getlist("move"))
            if not ids:
                raise ValueError("choose at least one move (tick its box in the table).")
            return ids, f"{len(ids)} chosen move{'s' if len(ids) != 1 else ''}"
        raise ValueError("say what to accept: all moves, the chosen ones, or one SKU's.")


def move_ids_parse(values: Iterable[str]) -> list[int]:
    """Posted move ids as integers, in order, once each; anything else is refused with its value."""
    ids: list[int] = []
    for value in values:
        text = value.strip()
        if not text.isdigit() or not 0 < int(text) <= MAX_MOVE_ID:
            raise ValueError(f"{value[:40]!r} is not a move id.")
        if int(text) not in ids:
            ids.append(int(text))
    return ids


@dataclass(frozen=True)
class Line:
    """One line on the map: a move, or every move between two warehouses when there are too many."""

    source: Warehouse
    destination: Warehouse
    units: int
    moves: int
    label: str
    accepted: bool


def move_line(move: TransferPlanMove) -> Line:
    accepted = move.status == MoveStatus.ACCEPTED
    return Line(
        source=move.source,
        destination=move.destination,
        units=move.quantity,
        moves=1,
        label=(
            f"Move {move.pk}: {move.quantity} x {move.sku.code} {move.source.code} → {move.destination.code}, "
            f"{move.distance_km:g} km, cost {move.cost:.2f} ({'accepted' if accepted else 'proposed'})"
        ),
        accepted=accepted,
    )


def flow_line(flow: dict[str, Any], warehouses: dict[Any, Warehouse]) -> Line:
    source, destination = warehouses[flow["source_id"]], warehouses[flow["destination_id"]]
    return Line(
        source=source,
        destination=destination,
        units=flow["units"],
        moves=flow["moves"],
        label=(
            f"{source.code} → {destination.code}: {flow['moves']} moves, {flow['units']} units, "
            f"cost {flow['cost']:.2f} ({flow['proposed']} proposed)"
        ),
        accepted=flow["proposed"] == 0,
    )


def flow_map(warehouses: list[Warehouse], lines: list[Line]) -> tuple[dict[str, Any], int]:
    """The ECharts option of the flows: warehouses as a scatter at their longitude and latitude, a
    line per entry of ``lines`` (solid while proposed, dashed once accepted, named in its tooltip),
    and how many moves it cannot draw because a warehouse at one end has no coordinates."""
    involved = {line.source.pk for line in lines} | {line.destination.pk for line in lines}
    points = []
    for warehouse in warehouses:
        point = map_point(warehouse)
        if point is not None:
            points.append(
                {
                    "name": f"{warehouse.code} · {warehouse.name} ({point[1]:.4f}, {point[0]:.4f})",
                    "value": point,
                    "label": {"show": True, "formatter": warehouse.code},
                    "symbolSize": 12 if warehouse.pk in involved else 7,
                }
            )
    largest = max((line.units for line in lines), default=1)
    data, undrawn = [], 0
    same_pair: dict[tuple[Any, Any], int] = {}  # moves of several SKUs between two warehouses fan out
    for line in lines:
        start, end = map_point(line.source), map_point(line.destination)
        if start is None or end is None:
            undrawn += line.moves
            continue
        pair = (line.source.pk, line.destination.pk)
        nth = same_pair[pair] = same_pair.get(pair, -1) + 1
        data.append(
            {
                "name": line.label,
                "value": line.units,
                "coords": [start, end],
                "lineStyle": {
                    "color": ACCEPTED_COLOUR if line.accepted else PROPOSED_COLOUR,
                    "width": round(1.5 + 4.5 * line.units / largest, 2),
                    "type": "dashed" if line.accepted else "solid",
                    "curveness": round(0.15 + 0.12 * nth, 2),
                },
            }
        )
    option = {
        "animation": False,
        "tooltip": {"trigger": "item", "formatter": "{b}"},
        "grid": {"left": 48, "right": 16, "top": 16, "bottom": 40, "containLabel": False},
        **map_axes([point["value"] for point in points]),
        "series": [
            {
                "name": "Warehouses",
                "type": "scatter",
                "data": points,
                "itemStyle": {"color": "#1f5fbf"},
                "label": {"position": "right", "color": "#1c2430"},
            },
            {
                "name": "Moves",
                "type": "lines",
                "coordinateSystem": "cartesian2d",
                "symbol": ["none", "arrow"],
                "symbolSize": 9,
                "data": data,
                "lineStyle": {"curveness": 0.15, "opacity": 0.85},
                "emphasis": {"lineStyle": {"opacity": 1}},
                "z": 3,
            },
        ],
    }
    return option, undrawn
