"""Reads of supplier offers, by who is asking: staff see the tenant's, a supplier only its own."""

from __future__ import annotations

from django.db import connection
from django.db.models import Max, QuerySet

from core.exceptions import NotFound
from core.supply.models import SupplierOffer
from tenants.models import Partner, Tenant
from tenants.principals import Principal


def offer_list(*, principal: Principal) -> QuerySet[SupplierOffer]:
    """Staff see the tenant's offers; a partner only those that name it as the supplier (which the
    access registry lets only a kind that may supply be named in)."""
    offers = SupplierOffer.objects.filter(tenant=principal.tenant).select_related("sku", "supplier")
    if not principal.is_staff_member:
        offers = offers.filter(supplier=principal.partner)
    return offers.order_by("sku__code", "rank", "created_at")


def offer_get(*, principal: Principal, offer_id: object) -> SupplierOffer:
    offer = offer_list(principal=principal).filter(pk=offer_id).first()
    if offer is None:
        raise NotFound
    return offer


def supplied_sku_ids(partner: Partner) -> QuerySet:
    """The ids of the SKUs a supplier offers in its tenant, as a subquery (``sku_id``)."""
    return SupplierOffer.objects.filter(tenant_id=partner.tenant_id, supplier=partner).values("sku_id")


def sku_supply_terms_sql(*, tenant: str, skus: str) -> str:
    """SQL over the offers, one row per SKU of ``skus`` (a subquery answering ``sku_id``) in the
    tenant ``tenant`` (a placeholder): ``lead_time`` and ``min_order_quantity`` of the primary
    offer, ``longest_lead_time`` of all, and the number of ``backups``. For set-based readers
    such as the engine's indicators, which join it per SKU."""
    return f"""
    SELECT o.sku_id,
           (array_agg(o.lead_time_days ORDER BY o.rank, o.created_at))[1] AS lead_time,
           max(o.lead_time_days) AS longest_lead_time,
           (array_agg(o.min_order_quantity ORDER BY o.rank, o.created_at))[1] AS min_order_quantity,
           count(*) FILTER (WHERE o.rank > 1) AS backups
    FROM {SupplierOffer._meta.db_table} o
    WHERE o.tenant_id = {tenant} AND o.sku_id IN ({skus})
    GROUP BY o.sku_id"""  # noqa: S608 - a table name and the caller's SQL, no values


def sku_supply_terms(*, tenant_id: object, sku_ids: list) -> dict[object, dict]:
    """``sku_supply_terms_sql``'s row of each listed SKU with an offer, by SKU id (for readers that
    rebuild the engine's rows outside its statement, such as the quality replay); one query."""
    if not sku_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            sku_supply_terms_sql(tenant="%s", skus="SELECT unnest(%s::uuid[])"),
            [tenant_id, [str(sku_id) for sku_id in sku_ids]],
        )
        names = [column.name for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def longest_lead_time_days(*, tenant: Tenant) -> int | None:
    """The longest lead time (days) of any supplier offer of the tenant; None without offers."""
    return SupplierOffer.objects.filter(tenant=tenant).aggregate(longest=Max("lead_time_days"))["longest"]


def primary_lead_times(*, tenant_id: object, sku_ids: list[int]) -> dict[int, int]:
    """The primary offer's lead time (days) of each listed SKU that has an offer; one query."""
    rows = (
        SupplierOffer.objects.filter(tenant_id=tenant_id, sku_id__in=sku_ids)
        .order_by("sku_id", "rank", "created_at")
        .values_list("sku_id", "lead_time_days")
    )
    lead_times: dict[int, int] = {}
    for sku_id, days in rows:
        lead_times.setdefault(sku_id, days)
    return lead_times
