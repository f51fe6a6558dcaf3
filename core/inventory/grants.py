"""Which warehouses a distributor sees: guardian object permissions held by the partner's group.

The grant hangs off the partner's group rather than a user, so every key of the partner sees the
same warehouses, and deleting the partner (and with it the group) takes its grants along. A grant
is ``view_warehouse`` (stock as bands: available, low, out) and, for exact quantities, also
``view_warehouse_quantities``; both live in the direct foreign-key table of warehouses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from guardian.shortcuts import assign_perm, remove_perm

from core.inventory.models import Sku, Warehouse, WarehouseGroupObjectPermission
from tenants.models import Partner, PartnerKind
from tenants.principals import SYSTEM_ACTOR, Principal
from tenants.services import audit_record

WAREHOUSE_VIEW = "inventory.view_warehouse"
WAREHOUSE_QUANTITIES = "inventory.view_warehouse_quantities"
GRANT_MODES = ("exact", "bands")


@dataclass(frozen=True)
class PartnerScope:
    """What a partner may see of its tenant: SKU ids and warehouse ids as subqueries, None = no limit."""

    skus: QuerySet | None = None
    warehouses: QuerySet | None = None


def _no_skus(partner: Partner) -> QuerySet:
    return Sku.objects.none().annotate(sku_id=F("id")).values("sku_id")


# The SKUs a supplier offers: supply lies above inventory and plugs its selector in at start-up
# (SupplyConfig.ready); until it does, a supplier sees no SKU.
_supplied_skus: Callable[[Partner], QuerySet] = _no_skus


def supplied_skus_register(selector: Callable[[Partner], QuerySet]) -> None:
    """Let ``selector(partner)`` answer the ids of the SKUs a supplier offers, as a subquery."""
    global _supplied_skus
    _supplied_skus = selector


def partner_scope(partner: Partner | None) -> PartnerScope:
    """Staff (no partner) and the ERP see everything; a supplier the SKUs it offers; a distributor
    the warehouses granted to its group. Alerts, readings and webhooks all filter by this."""
    if partner is None or partner.kind == PartnerKind.ERP:
        return PartnerScope()
    if partner.kind == PartnerKind.SUPPLIER:
        return PartnerScope(skus=_supplied_skus(partner))
    if partner.kind == PartnerKind.DISTRIBUTOR:
        visible = Warehouse.objects.filter(tenant_id=partner.tenant_id).filter(granted(partner, OuterRef("pk")))
        return PartnerScope(warehouses=visible.values("id"))
    return PartnerScope(warehouses=Warehouse.objects.none().values("id"))  # a kind not known here sees nothing


def partner_grants(partner: Partner | None) -> tuple[set | None, set | None]:
    """The SKU ids and warehouse ids of ``partner_scope`` as sets (None = no limit), for webhooks."""
    scope = partner_scope(partner)
    skus = set(scope.skus.values_list("sku_id", flat=True)) if scope.skus is not None else None
    warehouses = set(scope.warehouses.values_list("id", flat=True)) if scope.warehouses is not None else None
    return skus, warehouses


def _distributor(partner: Partner) -> None:
    if partner.kind != PartnerKind.DISTRIBUTOR:
        raise ValidationError(
            {"partner": f"Only a distributor is granted warehouses; this partner is a {partner.kind}."}
        )


@transaction.atomic
def warehouse_grant(
    *,
    partner: Partner,
    warehouses: Iterable[Warehouse],
    quantities: str = "exact",
    actor: Principal | str = SYSTEM_ACTOR,
) -> int:
    """Let a distributor see these warehouses of its tenant, with exact quantities or as bands;
    answer how many warehouses are newly granted. Granting again sets the mode; nothing else."""
    _distributor(partner)
    if quantities not in GRANT_MODES:
        raise ValidationError({"quantities": f"One of: {', '.join(GRANT_MODES)}."})
    warehouses = list(warehouses)
    foreign = sorted(w.code for w in warehouses if w.tenant_id != partner.tenant_id)
    if foreign:
        raise ValidationError({"warehouses": f"Not warehouses of this partner's tenant: {', '.join(foreign[:20])}."})
    if not warehouses:
        return 0
    created = assign_perm(WAREHOUSE_VIEW, partner.group, warehouses)
    if quantities == "exact":
        assign_perm(WAREHOUSE_QUANTITIES, partner.group, warehouses)
    else:
        remove_perm(WAREHOUSE_QUANTITIES, partner.group, Warehouse.objects.filter(pk__in=[w.pk for w in warehouses]))
    audit_record(
        tenant=partner.tenant,
        actor=actor,
        action="warehouses.granted",
        target=partner,
        data={"warehouses": sorted(w.code for w in warehouses), "quantities": quantities, "new": len(created)},
    )
    return len(created)


@transaction.atomic
def warehouse_revoke(*, partner: Partner, warehouse: Warehouse, actor: Principal | str = SYSTEM_ACTOR) -> bool:
    """Take a warehouse back from a distributor; answer whether it had been granted."""
    _distributor(partner)
    deleted, _ = WarehouseGroupObjectPermission.objects.filter(group=partner.group, content_object=warehouse).delete()
    audit_record(
        tenant=partner.tenant,
        actor=actor,
        action="warehouses.revoked",
        target=partner,
        data={"warehouse": warehouse.code, "was_granted": bool(deleted)},
    )
    return bool(deleted)


def granted(partner: Partner, warehouse: OuterRef, permission: str = WAREHOUSE_VIEW) -> Exists:
    """SQL: the partner's group holds ``permission`` on ``warehouse`` (an outer query's column), a
    join on guardian's direct table that lists filter by and annotate with in their one query."""
    return Exists(
        WarehouseGroupObjectPermission.objects.filter(
            group_id=partner.group_id, content_object_id=warehouse, permission__codename=permission.split(".")[1]
        )
    )


def warehouse_grants(*, partner: Partner) -> QuerySet[Warehouse]:
    """The partner's granted warehouses, each with ``exact`` (sees quantities) annotated."""
    _distributor(partner)
    return (
        Warehouse.objects.filter(tenant_id=partner.tenant_id)
        .filter(granted(partner, OuterRef("pk")))
        .annotate(exact=granted(partner, OuterRef("pk"), WAREHOUSE_QUANTITIES))
        .order_by("region", "code")
    )
