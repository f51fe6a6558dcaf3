"""Writes of procurement data. Atomic, validated, audited."""

from __future__ import annotations

from django.db import transaction

from core.procurement.models import ProcurementLimits
from core.procurement.rfqs import limits_for
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record


@transaction.atomic
def procurement_limits_update(*, tenant: Tenant, actor: Principal | str, **values: int) -> ProcurementLimits:
    limits = limits_for(tenant, lock=True)
    for name, value in values.items():
        setattr(limits, name, value)
    limits.full_clean(exclude=["tenant"])
    limits.save()
    audit_record(tenant=tenant, actor=actor, action="procurement_limits.updated", target=limits, data=values)
    return limits
