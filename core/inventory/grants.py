"""Which warehouses a distributor sees: guardian object permissions held by the partner's group.

The grant hangs off the partner's group rather than a user, so every key of the partner sees the
same warehouses, and deleting the partner (and with it the group) takes its grants along.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_group

from core.inventory.models import Warehouse
from tenants.models import Partner, PartnerKind
from tenants.principals import SYSTEM_ACTOR, Principal
from tenants.services import audit_record

WAREHOUSE_VIEW = "inventory.view_warehouse"


@dataclass(frozen=True)
class PartnerScope:
    """What a partner may see of its tenant: SKU ids and warehouse ids as subqueries, None = no limit."""

    skus: QuerySet | None = None
    warehouses: QuerySet | None = None


def partner_scope(partner: Partner | None) -> PartnerScope:
    """Staff (no partner) and the ERP see everything; a supplier the SKUs it offers; a distributor
    the warehouses granted to its group. Alerts, readings and webhooks all filter by this."""
    if partner is None or partner.kind == PartnerKind.ERP:
        return PartnerScope()
    if partner.kind == PartnerKind.SUPPLIER:
        from core.procurement.models import SupplierOffer  # procurement builds on inventory

        return PartnerScope(
            skus=SupplierOffer.objects.filter(tenant_id=partner.tenant_id, supplier=partner).values("sku_id")
        )
    granted = get_objects_for_group(
        partner.group,
        WAREHOUSE_VIEW,
        klass=Warehouse.objects.filter(tenant_id=partner.tenant_id),
        accept_global_perms=False,
    )
    return PartnerScope(warehouses=granted.values("id"))


@transaction.atomic
def warehouse_grant(*, partner: Partner, warehouses: Iterable[Warehouse], actor: Principal | str = SYSTEM_ACTOR) -> int:
    """Let a distributor see these warehouses of its tenant; answer how many grants are new.

    Granting again what is granted already is a no-op, so a regional grant can be re-run.
    """
    if partner.kind != PartnerKind.DISTRIBUTOR:
        raise ValidationError(
            {"partner": f"Only a distributor is granted warehouses; this partner is a {partner.kind}."}
        )
    warehouses = list(warehouses)
    foreign = sorted(w.code for w in warehouses if w.tenant_id != partner.tenant_id)
    if foreign:
        raise ValidationError({"warehouses": f"Not warehouses of this partner's tenant: {', '.join(foreign[:20])}."})
    if not warehouses:
        return 0
    created = assign_perm(WAREHOUSE_VIEW, partner.group, warehouses)
    audit_record(
        tenant=partner.tenant,
        actor=actor,
        action="warehouses.granted",
        target=partner,
        data={"warehouses": sorted(w.code for w in warehouses), "new": len(created)},
    )
    return len(created)
