"""Reads of transfers and plans, and the shared stock view, by who is asking.

The shared stock view is one query: positions joined to their warehouse's grant rows in guardian's
direct table for the distributor's group (and to their reading for the band), filtered and
annotated in SQL; no per-row permission checks.
"""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet, Sum

from core.access import registry as access
from core.access.scope import rows_visible
from core.alerts.policies import PolicyBook
from core.exceptions import NotFound
from core.inventory.models import Position, Sku, Warehouse
from core.transfers.models import (
    MoveStatus,
    TransferLane,
    TransferPlan,
    TransferPlanMove,
    TransferRequest,
    TransferStatus,
)
from core.transfers.services import Spare, policy_for, spare_with
from tenants.models import Tenant
from tenants.principals import Principal


def shared_stock(*, principal: Principal) -> QuerySet[Position]:
    """Positions the caller may see, with ``available``, ``band`` and ``exact`` (whether the access
    registry shows it the quantities of the position's warehouse)."""
    low_days = policy_for(principal.tenant).low_cover_days
    positions = Position.objects.filter(tenant=principal.tenant).annotate(available=F("on_hand") - F("reserved"))
    return positions.filter(rows_visible(principal)).annotate(
        grant=access.grant_level(principal),
        exact=access.shown(principal, "quantities"),
        band=access.band_sql(available="available", cover="reading__days_of_cover", low_cover_days=low_days),
    )


def shared_stock_regions(*, positions: QuerySet[Position]) -> QuerySet:
    """Per region: warehouses, positions by band, and units available where quantities are granted."""
    return (
        positions.order_by()
        .values("warehouse__region")
        .annotate(
            warehouses=Count("warehouse_id", distinct=True),
            positions=Count("id"),
            available_units=Sum("available", filter=Q(exact=True)),
            exact_positions=Count("id", filter=Q(exact=True)),
            band_available=Count("id", filter=Q(band="available")),
            band_low=Count("id", filter=Q(band="low")),
            band_out=Count("id", filter=Q(band="out")),
        )
        .order_by("warehouse__region")
    )


def spares_at(*, principal: Principal, warehouse: Warehouse) -> list[tuple[Position, Spare]]:
    """Each SKU the warehouse holds, by code, with what it can spare now (``services.spare_of``'s
    figure), for a planner choosing what to move out of it; two queries whatever the count."""
    book = PolicyBook(principal.tenant)
    positions = (
        Position.objects.filter(tenant=principal.tenant, warehouse=warehouse, on_hand__gt=0)
        .select_related("sku", "reading")
        .order_by("sku__code")
    )
    return [(position, spare_with(position, getattr(position, "reading", None), book)) for position in positions]


def transfer_list(*, principal: Principal) -> QuerySet[TransferRequest]:
    """Staff and the partners that read the tenant's inventory (the ERP) see the tenant's transfers; a
    partner that files transfers (a distributor) only its own requests; any other none."""
    transfers = TransferRequest.objects.filter(tenant=principal.tenant).select_related("sku", "source", "destination")
    if principal.is_staff_member or access.may(principal, access.Can.READ_INVENTORY):
        return transfers
    if access.may(principal, access.Can.FILE_TRANSFERS):
        return transfers.filter(requester=principal.partner)
    return transfers.none()


def transfer_get(*, principal: Principal, transfer_id: object) -> TransferRequest:
    transfer = transfer_list(principal=principal).filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound
    return transfer


def plan_list(*, principal: Principal) -> QuerySet[TransferPlan]:
    return TransferPlan.objects.filter(tenant=principal.tenant)


def plan_get(*, principal: Principal, plan_id: object) -> TransferPlan:
    plan = plan_list(principal=principal).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound
    return plan


def plan_moves(*, plan: TransferPlan) -> QuerySet[TransferPlanMove]:
    return TransferPlanMove.objects.filter(plan=plan).select_related("sku", "source", "destination").order_by("id")


def plan_flows(*, plan: TransferPlan, sku_code: str | None = None) -> QuerySet:
    """The plan's moves summed per source and destination warehouse (a plan of thousands of moves
    is a few hundred flows on a map), with how many of them are still proposed."""
    moves = TransferPlanMove.objects.filter(plan=plan)
    if sku_code is not None:
        moves = moves.filter(sku__code=sku_code)
    return (
        moves.values("source_id", "destination_id")
        .annotate(
            moves=Count("id"),
            units=Sum("quantity"),
            cost=Sum("cost"),
            proposed=Count("id", filter=Q(status=MoveStatus.PROPOSED)),
        )
        .order_by("source_id", "destination_id")
    )


def plan_sku_totals(*, plan: TransferPlan, limit: int) -> list[dict]:
    """The ``limit`` SKUs of the plan moving the most units, summed: what rebalancing each would move.

    Summed by SKU id first and joined to the SKUs for the few kept, so a plan of thousands of moves
    does not look up a SKU per move."""
    totals = list(
        TransferPlanMove.objects.filter(plan=plan)
        .values("sku_id")
        .annotate(
            moves=Count("id"),
            units=Sum("quantity"),
            cost=Sum("cost"),
            proposed=Count("id", filter=Q(status=MoveStatus.PROPOSED)),
        )
        .order_by("-units", "sku_id")[:limit]
    )
    skus = {sku.pk: sku for sku in Sku.objects.filter(pk__in=[row["sku_id"] for row in totals])}
    return [{**row, "sku": skus[row["sku_id"]]} for row in totals]


def lane_get(*, tenant: Tenant, lane_id: object) -> TransferLane:
    lane = TransferLane.objects.filter(tenant=tenant, pk=lane_id).first()
    if lane is None:
        raise NotFound
    return lane


def approved_inbound_sql(*, tenant: str, skus: str) -> str:
    """SQL answering ``sku_id, warehouse_id, units`` of transfers approved (reserved at their source)
    and not shipped yet, by destination warehouse, for the tenant ``tenant`` (a placeholder) and the
    SKUs of ``skus`` (a subquery). Shipped ones are in the destination's ``in_transit`` already."""
    return f"""
    SELECT t.sku_id, t.destination_id AS warehouse_id, sum(t.quantity)::bigint AS units
    FROM {TransferRequest._meta.db_table} t
    WHERE t.tenant_id = {tenant} AND t.status = '{TransferStatus.APPROVED.value}'
      AND t.destination_id IS NOT NULL AND t.sku_id IN ({skus})
    GROUP BY t.sku_id, t.destination_id"""  # noqa: S608 - a table name, a constant and the caller's SQL


def transfers_approved_sql(*, tenant: str) -> str:
    """SQL answering ``alert_id, position_id, kind, at`` of every transfer of the tenant ``tenant`` (a
    placeholder) that was approved, by a person, the policy or an accepted plan move or proposal, at
    the approval: ``transfer_approved``, once for its source position (a response to idle stock there)
    and once for its destination's (a response to a shortage there), if the destination holds the SKU.

    The alert is named where a plan's move names it (its supply and demand alerts); otherwise the
    answer names the position only, and readers match it to the alert open there at the time."""
    transfers, moves, positions = (
        TransferRequest._meta.db_table,
        TransferPlanMove._meta.db_table,
        Position._meta.db_table,
    )
    return f"""
    SELECT m.supply_alert_id AS alert_id, t.source_position_id AS position_id,
           'transfer_approved'::text AS kind, t.decided_at AS at
    FROM {transfers} t LEFT JOIN {moves} m ON m.transfer_id = t.id
    WHERE t.tenant_id = {tenant} AND t.approval <> '' AND t.decided_at IS NOT NULL
    UNION ALL
    SELECT m.demand_alert_id, p.id, 'transfer_approved'::text, t.decided_at
    FROM {transfers} t
    JOIN {positions} p ON p.tenant_id = t.tenant_id AND p.sku_id = t.sku_id AND p.warehouse_id = t.destination_id
    LEFT JOIN {moves} m ON m.transfer_id = t.id
    WHERE t.tenant_id = {tenant} AND t.approval <> '' AND t.decided_at IS NOT NULL"""  # noqa: S608 - table names, constants and the caller's SQL
