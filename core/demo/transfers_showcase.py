"""What ``make demo`` shows of transfers: a distributor's request taken through its whole life and
a system transfer plan, made once per demo tenant through the same services the API calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.access.scope import warehouse_grant, warehouse_grants
from core.alerts.models import Alert, RuleCode
from core.alerts.runs import evaluation_incremental
from core.inventory.ingestion import movement_rows_parse, movements_ingest
from core.inventory.models import Position, Warehouse
from core.transfers import plans, services
from core.transfers.models import TransferPlan, TransferRequest, TransferStatus
from tenants.models import Membership, Partner, PartnerKind, Role, Tenant
from tenants.principals import Principal


@dataclass(frozen=True)
class Showcase:
    distributor: str
    transfer: TransferRequest | None
    plan: TransferPlan | None


def transfers_showcase(*, tenant: Tenant, distributor_name: str) -> Showcase:
    """The first run grants the demo distributor (the one whose key the demo prints) a region's
    warehouses with numbers and one more as bands, files, approves, ships and receives one of its
    requests and computes a plan; later runs find and show them again."""
    distributor = Partner.objects.filter(tenant=tenant, kind=PartnerKind.DISTRIBUTOR, name=distributor_name).first()
    if distributor is None:
        return Showcase("", None, None)
    if not warehouse_grants(partner=distributor).exists():
        warehouses = list(Warehouse.objects.filter(tenant=tenant).order_by("region", "code"))
        first_region = [w for w in warehouses if w.region == warehouses[0].region] if warehouses else []
        warehouse_grant(partner=distributor, warehouses=first_region, actor="demo")
        banded = [w for w in warehouses if w.region != warehouses[0].region][:1]
        warehouse_grant(partner=distributor, warehouses=banded, quantities="bands", actor="demo")
    transfer = TransferRequest.objects.filter(tenant=tenant, requester=distributor).order_by("created_at").first()
    plan = TransferPlan.objects.filter(tenant=tenant).order_by("created_at").first()
    admin = get_user_model().objects.get(
        pk=Membership.objects.filter(tenant=tenant, role=Role.ADMIN).values("user")[:1]
    )
    staff = Principal(tenant=tenant, user=admin, role=Role.ADMIN)
    if transfer is None:
        transfer = _request_lifecycle(tenant, distributor, staff)
    if plan is None:
        _misallocated_delivery(tenant)
        plan = plans.plan_start(tenant=tenant, actor=staff)
        # None when a worker took the queued plan first: then show it as it stands.
        plan = plans.plan_run(plan_id=plan.pk) or TransferPlan.objects.get(pk=plan.pk)
    return Showcase(distributor.name, transfer, plan)


MISALLOCATED_SKUS = 6


def _misallocated_delivery(tenant: Tenant) -> None:
    """A few SKUs short somewhere got a big delivery at another warehouse months ago, where it sat:
    the idle stock a plan moves to where it sells. Pushed through ingestion, then evaluated."""
    short = (
        Alert.objects.filter(tenant=tenant, rule=RuleCode.STOCK_OUT_RISK, active=True)
        .order_by("sku__code", "warehouse__code")
        .values_list("sku_id", "sku__code", "warehouse_id", "inputs")
    )
    rows, seen = [], set()
    for sku_id, sku_code, warehouse_id, inputs in short:
        if sku_id in seen or len(seen) == MISALLOCATED_SKUS:
            continue
        elsewhere = (
            Position.objects.filter(tenant=tenant, sku_id=sku_id)
            .exclude(warehouse_id=warehouse_id)
            .order_by("warehouse__code")
            .values_list("warehouse__code", flat=True)
            .first()
        )
        if elsewhere is None:
            continue
        seen.add(sku_id)
        quantity = max(60, round(float(inputs.get("ads_28") or 1) * 28 * 6))
        rows.append(
            {
                "kind": "receipt",
                "sku": sku_code,
                "warehouse": elsewhere,
                "quantity": quantity,
                "occurred_at": (timezone.now() - timedelta(days=150)).isoformat(),
                "external_ref": f"demo-misallocated-{sku_code}",
            }
        )
    if not rows:
        return
    columns, errors = movement_rows_parse(rows)
    if errors:
        return
    movements_ingest(tenant=tenant, source="demo", columns=columns)
    evaluation_incremental(tenant_id=tenant.pk)


def _request_lifecycle(tenant: Tenant, distributor: Partner, staff: Principal) -> TransferRequest | None:
    granted = [w for w in warehouse_grants(partner=distributor) if w.exact]
    if len(granted) < 2:
        return None
    # A granted position with stock to spare (the fullest first) sends a little to another granted
    # warehouse.
    candidates = (
        Position.objects.filter(tenant=tenant, warehouse__in=granted)
        .select_related("sku", "warehouse")
        .order_by("-on_hand", "id")[:20]
    )
    source, spare = next(((p, units) for p in candidates if (units := services.spare_of(p).units) > 0), (None, 0))
    if source is None:
        return None
    destination = next(w for w in granted if w.pk != source.warehouse_id)
    quantity = max(1, min(10, spare // 4))
    asking = Principal(tenant=tenant, partner=distributor)
    transfer = services.transfer_request_create(
        principal=asking,
        tenant=tenant,
        sku=source.sku.code,
        source=source.warehouse.code,
        destination=destination.code,
        quantity=quantity,
        note="Demo: a weekend promotion needs more at the store.",
    )
    if transfer.status == TransferStatus.REQUESTED:
        transfer = services.transfer_approve(transfer=transfer, actor=staff, note="Demo approval")
    transfer = services.transfer_ship(transfer=transfer, actor=staff)
    return services.transfer_receive(transfer=transfer, actor=staff)
