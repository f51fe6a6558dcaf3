"""Which objects of its tenant a partner may see, by its kind's scope in the registry, and the
warehouse grants that a warehouse-scoped kind (a distributor) is given.

The grant hangs off the partner's group rather than a user, so every key of the partner sees the
same warehouses, and deleting the partner (and with it the group) takes its grants along. A grant
is ``view_warehouse`` (stock as bands: available, low, out) and, for exact quantities, also
``view_warehouse_quantities``; both live in inventory's direct foreign-key table of warehouses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from guardian.shortcuts import assign_perm, remove_perm

from core.access.registry import KINDS, Scope, scope_of
from core.inventory.grants import GRANT_MODES, WAREHOUSE_QUANTITIES, WAREHOUSE_VIEW, granted
from core.inventory.models import Warehouse, WarehouseGroupObjectPermission
from core.supply.selectors import supplied_sku_ids
from tenants.models import Partner
from tenants.principals import SYSTEM_ACTOR, Principal
from tenants.services import audit_record


@dataclass(frozen=True)
class PartnerScope:
    """What a partner may see of its tenant: SKU ids and warehouse ids as subqueries, None = no limit."""

    skus: QuerySet | None = None
    warehouses: QuerySet | None = None

    @property
    def whole_tenant(self) -> bool:
        return self.skus is None and self.warehouses is None


def partner_scope(partner: Partner | None) -> PartnerScope:
    """Staff (no partner) see everything, a partner what its kind's scope says: the whole tenant, the
    SKUs it has offers for, the warehouses granted to its group, or (a kind the registry does not
    know) nothing. Alerts, readings and webhooks all filter by this."""
    scope = Scope.TENANT if partner is None else scope_of(partner.kind)
    if scope == Scope.TENANT:
        return PartnerScope()
    if scope == Scope.SKUS_SUPPLIED:
        return PartnerScope(skus=supplied_sku_ids(partner))
    if scope == Scope.WAREHOUSES_GRANTED:
        visible = Warehouse.objects.filter(tenant_id=partner.tenant_id).filter(granted(partner, OuterRef("pk")))
        return PartnerScope(warehouses=visible.values("id"))
    return PartnerScope(warehouses=Warehouse.objects.none().values("id"))


def rows_visible(principal: Principal, *, warehouse: str = "warehouse_id", sku: str = "sku_id") -> Q | Exists:
    """SQL: whether each row (with ``warehouse`` and ``sku`` columns) is within the principal's scope,
    a filter of the rows' own query (the warehouse grant joined on guardian's direct table)."""
    partner = principal.partner
    scope = Scope.TENANT if partner is None else scope_of(partner.kind)
    if scope == Scope.TENANT:
        return Q()
    if scope == Scope.WAREHOUSES_GRANTED:
        return granted(partner, OuterRef(warehouse))
    if scope == Scope.SKUS_SUPPLIED:
        return Q(**{f"{sku}__in": partner_scope(partner).skus})
    return Q(pk__in=[])


def _granted_warehouses(partner: Partner) -> None:
    if scope_of(partner.kind) != Scope.WAREHOUSES_GRANTED:
        kinds = " or ".join(sorted(kind for kind in KINDS if scope_of(kind) == Scope.WAREHOUSES_GRANTED))
        raise ValidationError({"partner": f"Only a {kinds} is granted warehouses; this partner is a {partner.kind}."})


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
    _granted_warehouses(partner)
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
    _granted_warehouses(partner)
    deleted, _ = WarehouseGroupObjectPermission.objects.filter(group=partner.group, content_object=warehouse).delete()
    audit_record(
        tenant=partner.tenant,
        actor=actor,
        action="warehouses.revoked",
        target=partner,
        data={"warehouse": warehouse.code, "was_granted": bool(deleted)},
    )
    return bool(deleted)


def warehouse_grants(*, partner: Partner) -> QuerySet[Warehouse]:
    """The partner's granted warehouses, each with ``exact`` (sees quantities) annotated."""
    _granted_warehouses(partner)
    return (
        Warehouse.objects.filter(tenant_id=partner.tenant_id)
        .filter(granted(partner, OuterRef("pk")))
        .annotate(exact=granted(partner, OuterRef("pk"), WAREHOUSE_QUANTITIES))
        .order_by("region", "code")
    )


def partner_grants(partner: Partner | None) -> tuple[set | None, set | None]:
    """The ids of the SKUs and of the warehouses a partner (None: staff) may hear of; None: no limit."""
    scope = partner_scope(partner)
    skus = set(scope.skus.values_list("sku_id", flat=True)) if scope.skus is not None else None
    warehouses = set(scope.warehouses.values_list("id", flat=True)) if scope.warehouses is not None else None
    return skus, warehouses
