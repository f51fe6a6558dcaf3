"""System transfer plans: started over the API, computed on the worker, accepted move by move."""

from __future__ import annotations

import math
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from core.access.views import event_payloads
from core.alerts.catalog import STOCK_OUT
from core.alerts.models import LIVE, Alert, IndicatorReading
from core.alerts.policies import PolicyBook
from core.exceptions import Conflict
from core.inventory.ingestion import positions_lock
from core.inventory.models import Position, Sku, Warehouse
from core.one_at_a_time import run_start
from core.retries import atomic_retried
from core.task_requests import task_request
from core.transfers.cover import cover_stock
from core.transfers.events import TRANSFER_PLAN_COMPLETED
from core.transfers.models import (
    Approval,
    MoveStatus,
    PlanStatus,
    TransferLane,
    TransferPlan,
    TransferPlanMove,
    TransferRequest,
    TransferStatus,
)
from core.transfers.planning import Node, Problem, Solution, greedy_plan, optimal_plan, problem_build
from core.transfers.services import SOURCE_RULES, Spare, policy_for, transfer_request_create
from core.webhooks.outbox import Event, outbox_emit
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record

PLAN_TASK = "tripline.transfers.plan"


ACTIVE = (PlanStatus.QUEUED, PlanStatus.RUNNING)


def plan_active(*, tenant: Tenant) -> TransferPlan | None:
    """The tenant's queued or running plan, if there is one."""
    return TransferPlan.objects.filter(tenant=tenant, status__in=ACTIVE).first()


def _stale_fail(tenant: Tenant) -> None:
    """A plan queued, or running, for longer than the stale limit lost its worker: mark it failed.

    The plan task's hard time limit is below the stale limit, so no worker is still on it; a queued
    one whose message is taken later finds it failed and does nothing.
    """
    stale = timezone.now() - timedelta(seconds=settings.TRANSFER_PLAN_STALE_SECONDS)
    TransferPlan.objects.filter(
        Q(status=PlanStatus.QUEUED, created_at__lt=stale) | Q(status=PlanStatus.RUNNING, started_at__lt=stale),
        tenant=tenant,
    ).update(
        status=PlanStatus.FAILED,
        error=f"No worker finished it within {settings.TRANSFER_PLAN_STALE_SECONDS} s; start a new plan.",
        finished_at=timezone.now(),
    )


@transaction.atomic
def plan_start(*, tenant: Tenant, actor: Principal) -> TransferPlan:
    """Queue a plan of the tenant; refused while one is queued or running (a solver run at a time)."""
    _stale_fail(tenant)
    plan = run_start(
        create=lambda: TransferPlan.objects.create(tenant=tenant, requested_by=actor.describe()),
        active=lambda: plan_active(tenant=tenant),
        what="A transfer plan",
        follow="transfer-plans/{id}/",
    )
    audit_record(tenant=tenant, actor=actor, action="transfer_plan.started", target=plan, data={})
    transaction.on_commit(lambda: task_request(PLAN_TASK, args=[str(plan.pk)]), robust=True)
    return plan


def problem_load(tenant: Tenant) -> Problem:
    """Sources, sinks and arcs of the tenant's open alerts, in a handful of set-based queries."""
    alerts = (
        Alert.objects.filter(Q(rule__in=SOURCE_RULES) | Q(direction=STOCK_OUT), LIVE, tenant=tenant)
        .order_by("position_id", "rule")
        .values_list("pk", "direction", "position_id", "sku_id", "warehouse_id", "inputs")
    )
    by_position: dict[int, dict] = {}
    for alert_id, direction, position_id, sku_id, warehouse_id, inputs in alerts:
        entry = by_position.setdefault(position_id, {"sku": sku_id, "warehouse": warehouse_id})
        if direction == STOCK_OUT:  # every alert of the direction is a sink: the largest need counts
            entry.setdefault("sinks", []).append((alert_id, inputs))
        else:
            entry.setdefault("source", (alert_id, inputs))
    positions = {
        row[0]: row[1:]
        for row in Position.objects.filter(pk__in=list(by_position)).values_list(
            "pk", "on_hand", "reserved", "in_transit"
        )
    }
    readings = {
        row[0]: row[1:]
        for row in IndicatorReading.objects.filter(position_id__in=list(by_position)).values_list(
            "position_id", "ads_28", "safety_stock_service", "safety_stock_cover", "safety_stock_forecast"
        )
    }
    skus = {
        row[0]: row[1:] for row in Sku.objects.filter(tenant=tenant).values_list("pk", "category_id", "velocity_class")
    }
    # Approved transfers not shipped yet are on their way too: a second plan must not cover them again.
    incoming = {
        (sku, destination): units
        for sku, destination, units in TransferRequest.objects.filter(
            tenant=tenant, status=TransferStatus.APPROVED, destination__isnull=False
        )
        .values("sku_id", "destination_id")
        .annotate(units=Sum("quantity"))
        .values_list("sku_id", "destination_id", "units")
    }
    book = PolicyBook(tenant)
    sources, sinks = [], []
    for position_id, entry in by_position.items():
        on_hand, reserved, in_transit = positions[position_id]
        available = on_hand - reserved
        if "sinks" in entry:
            coming = in_transit + incoming.get((entry["sku"], entry["warehouse"]), 0)
            need, alert_id = max(
                (_sink_need(inputs, available, coming), alert_id) for alert_id, inputs in entry["sinks"]
            )
            if need > 0:
                sinks.append(Node(position_id, entry["sku"], entry["warehouse"], need, alert_id))
        elif "source" in entry and position_id in readings:
            alert_id, _ = entry["source"]
            ads, safety_service, safety_cover, safety_forecast = readings[position_id]
            category, velocity = skus[entry["sku"]]
            safety, method = book.safety_stock(
                sku_id=entry["sku"],
                category_id=category,
                velocity_class=velocity,
                cover=safety_cover,
                service=safety_service,
                forecast=safety_forecast,
            )
            # What it can spare as a transfer request counts it (so an accepted move always fits),
            # keeping four weeks of its own sales, counted as the responses count them.
            spare = Spare(available=available, safety_stock=round(safety, 2), method=method)
            give = min(spare.units, available - cover_stock(ads))
            if give > 0:
                sources.append(Node(position_id, entry["sku"], entry["warehouse"], give, alert_id))
    policy = policy_for(tenant)
    coordinates = {
        pk: (float(lat) if lat is not None else None, float(lon) if lon is not None else None)
        for pk, lat, lon in Warehouse.objects.filter(tenant=tenant).values_list("pk", "latitude", "longitude")
    }
    lanes = {
        (source, destination): float(rate)
        for source, destination, rate in TransferLane.objects.filter(tenant=tenant).values_list(
            "source_id", "destination_id", "cost_per_unit_km"
        )
    }
    return problem_build(
        sources=sources,
        sinks=sinks,
        coordinates=coordinates,
        cost_per_unit_km=float(policy.cost_per_unit_km),
        lanes=lanes,
        shortage_penalty=float(policy.shortage_penalty_per_unit),
    )


def _sink_need(inputs: dict, available: int, coming: int) -> int:
    """Units a stock-out-direction alert's position needs brought in, with today's stock and what is
    coming (in transit, approved transfers not shipped yet).

    A stock-out risk: up to its reorder point plus the lead time's demand. A promotion shortfall: its
    shortfall, less what has been set coming since it was evaluated (a move accepted from an earlier plan).
    """
    if "shortfall" in inputs:
        then = int(inputs.get("in_transit") or 0) + int(inputs.get("inbound_approved") or 0)
        return math.ceil(float(inputs["shortfall"]) - max(0, coming - then))
    ads, lead = float(inputs["ads_28"]), float(inputs["lead_time_days"])
    return math.ceil(float(inputs["reorder_point"]) + ads * lead - available - coming)


def _claim(plan_id: object) -> TransferPlan | None:
    with transaction.atomic():
        plan = TransferPlan.objects.select_for_update(skip_locked=True).filter(pk=plan_id).first()
        if plan is None or plan.status != PlanStatus.QUEUED:
            return None  # taken, finished, or gone: a retried task does nothing
        plan.status, plan.started_at = PlanStatus.RUNNING, timezone.now()
        plan.save(update_fields=["status", "started_at", "updated_at"])
        return plan


def plan_run(*, plan_id: object) -> TransferPlan | None:
    """Compute a queued plan: load, solve, write its moves. A failure is recorded on the plan."""
    plan = _claim(plan_id)
    if plan is None:
        return None
    started = time.perf_counter()
    try:
        problem = problem_load(plan.tenant)
        loaded = time.perf_counter()
        solution = optimal_plan(problem)
        baseline = greedy_plan(problem)
        _write(plan, problem, solution, baseline, load_seconds=loaded - started, started=started)
    except Exception as exc:
        TransferPlan.objects.filter(pk=plan.pk).update(
            status=PlanStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        raise
    plan.refresh_from_db()
    return plan


@transaction.atomic
def _write(
    plan: TransferPlan, problem: Problem, solution: Solution, baseline: Solution, *, load_seconds: float, started: float
) -> None:
    TransferPlanMove.objects.bulk_create(
        [
            TransferPlanMove(
                tenant_id=plan.tenant_id,
                plan=plan,
                sku_id=move.source.sku_id,
                source_id=move.source.warehouse_id,
                destination_id=move.sink.warehouse_id,
                quantity=move.quantity,
                distance_km=round(move.distance_km, 1),
                unit_cost=round(move.unit_cost, 4),
                cost=round(move.cost, 4),
                supply_alert_id=move.source.alert_id,
                demand_alert_id=move.sink.alert_id,
            )
            for move in solution.moves
        ],
        batch_size=5000,
    )
    summary = {
        "sources": len(problem.sources),
        "sinks": len(problem.sinks),
        "arcs": len(problem.arcs),
        "moves": len(solution.moves),
        "units": sum(move.quantity for move in solution.moves),
        "demand_units": sum(sink.units for sink in problem.sinks),
        "units_short": solution.units_short,
        "transport_cost": round(solution.transport_cost, 4),
        "shortage_cost": round(solution.shortage_cost, 4),
        "objective": round(solution.objective, 4),
        "greedy_objective": round(baseline.objective, 4),
        "greedy_transport_cost": round(baseline.transport_cost, 4),
        "greedy_units_short": baseline.units_short,
        "load_seconds": round(load_seconds, 3),
        "solver_seconds": round(solution.stats.get("solver_seconds", 0.0), 3),
        "total_seconds": round(time.perf_counter() - started, 3),
    }
    plan.status, plan.summary, plan.finished_at = PlanStatus.SUCCEEDED, summary, timezone.now()
    plan.save(update_fields=["status", "summary", "finished_at", "updated_at"])
    data = {
        "plan_id": str(plan.pk),
        "moves": summary["moves"],
        "units": summary["units"],
        "transport_cost": str(summary["transport_cost"]),
        "units_short": summary["units_short"],
    }
    payloads = event_payloads(TRANSFER_PLAN_COMPLETED.name, data)
    outbox_emit(
        [
            Event(
                tenant_id=plan.tenant_id,
                type=TRANSFER_PLAN_COMPLETED.name,
                data=data,
                partner_payloads=payloads,
                staff_only=True,
            )
        ]
    )


@atomic_retried
def plan_accept(*, plan: TransferPlan, actor: Principal, move_ids: list[int] | None = None) -> list[TransferRequest]:
    """Turn the chosen moves (all proposed ones when none are named) into approved transfer requests.

    All or nothing: if a source can no longer spare a move's units, nothing is accepted and the
    answer names the move.
    """
    plan = TransferPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.SUCCEEDED:
        raise Conflict(f"This plan is {plan.status}; only a finished plan's moves can be accepted.")
    moves = (
        TransferPlanMove.objects.select_for_update(of=("self",))
        .filter(plan=plan)
        .select_related("sku", "source", "destination")
    )
    if move_ids is not None:
        moves = moves.filter(pk__in=move_ids)
        missing = set(move_ids) - {move.pk for move in moves}
        if missing:
            raise Conflict(f"No move {sorted(missing)[:10]} in this plan.")
    else:
        moves = moves.filter(status=MoveStatus.PROPOSED)
    moves = list(moves.order_by("pk"))
    taken = [move.pk for move in moves if move.status != MoveStatus.PROPOSED]
    if taken:
        raise Conflict(f"Moves {taken[:10]} are accepted already.")
    _sources_lock(plan.tenant, moves)
    book = PolicyBook(plan.tenant)  # one load of the tenant's policies for every move's spare stock
    created = []
    for move in moves:
        try:
            transfer = transfer_request_create(
                principal=actor,
                tenant=plan.tenant,
                sku=move.sku.code,
                source=move.source.code,
                destination=move.destination.code,
                quantity=move.quantity,
                note=f"Move {move.pk} of transfer plan {plan.pk}",
                approval=Approval.PLAN,
                book=book,
            )
        except (Conflict, ValidationError) as exc:
            why = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise Conflict(
                f"Move {move.pk} ({move.quantity} x {move.sku.code} from {move.source.code}): {why}"
            ) from None
        move.status, move.transfer = MoveStatus.ACCEPTED, transfer
        move.save(update_fields=["status", "transfer"])
        created.append(transfer)
    audit_record(
        tenant=plan.tenant,
        actor=actor,
        action="transfer_plan.accepted",
        target=plan,
        data={"moves": [move.pk for move in moves]},
    )
    return created


def _sources_lock(tenant: Tenant, moves: list[TransferPlanMove]) -> None:
    """Lock every move's source position up front, in id order, as ingestion locks them.

    Taken move by move they would be locked in move order, and a push on the same positions
    locking in id order could deadlock with the acceptance.
    """
    with connection.cursor() as cursor:
        positions_lock(cursor, tenant, [move.sku_id for move in moves], [move.source_id for move in moves])
