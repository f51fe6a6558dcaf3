"""Reads of inventory data. Every one takes the tenant: a foreign id is simply not found.

List selectors return querysets with their related rows joined in, so a page of any size costs
the same number of queries; the API layer only filters and paginates them further.
"""

from collections.abc import Iterable
from datetime import date

import numpy as np
from django.db import connection
from django.db.models import F, Min, QuerySet

from core.bulk_copy import bigint_array, bigints_read
from core.exceptions import NotFound
from core.inventory.models import Category, DailyFact, IndustryProfile, Lot, Movement, Position, Sku, Warehouse
from tenants.models import Tenant

# Bigint keys come from the URL as arbitrary digit strings; beyond this PostgreSQL has no such row.
_MAX_BIGINT = 2**63 - 1


def _bigint_or_not_found(value: object) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise NotFound from None
    if not 0 < number <= _MAX_BIGINT:
        raise NotFound
    return number


def warehouse_list(*, tenant: Tenant) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(tenant=tenant).order_by("created_at", "id")


def warehouse_get(*, tenant: Tenant, warehouse_id: object) -> Warehouse:
    warehouse = Warehouse.objects.filter(tenant=tenant, pk=warehouse_id).first()
    if warehouse is None:
        raise NotFound
    return warehouse


def category_list(*, tenant: Tenant) -> QuerySet[Category]:
    return Category.objects.filter(tenant=tenant).order_by("created_at", "id")


def category_get(*, tenant: Tenant, category_id: object) -> Category:
    category = Category.objects.filter(tenant=tenant, pk=category_id).first()
    if category is None:
        raise NotFound
    return category


def category_get_by_code(*, tenant: Tenant, code: str) -> Category:
    """Partners and SKU payloads name categories by code, never by id."""
    category = Category.objects.filter(tenant=tenant, code=code).first()
    if category is None:
        raise NotFound
    return category


def sku_list(*, tenant: Tenant) -> QuerySet[Sku]:
    return Sku.objects.filter(tenant=tenant).select_related("category", "successor").order_by("created_at", "id")


def sku_get_by_code(*, tenant: Tenant, code: str) -> Sku:
    """Payloads name SKUs by code (a successor, a pushed line), never by id."""
    sku = Sku.objects.filter(tenant=tenant, code=code).first()
    if sku is None:
        raise NotFound
    return sku


def sku_profile_terms(*, tenant: Tenant, sku_ids: Iterable[object]) -> QuerySet:
    """What forecasts read of these SKUs' industry profiles, as value rows: the SKU's id, its
    category's profile and monthly coefficients, its season end and end of life. Only SKUs whose
    profile reads any of them (apparel, electronics) are answered; one query for any number."""
    return (
        Sku.objects.filter(
            tenant=tenant,
            id__in=list(sku_ids),
            category__profile__in=[IndustryProfile.APPAREL, IndustryProfile.ELECTRONICS],
        )
        .order_by("id")
        .values_list("id", "category__profile", "category__seasonal_coefficients", "season_ends_on", "end_of_life_on")
    )


def sku_get(*, tenant: Tenant, sku_id: object) -> Sku:
    sku = sku_list(tenant=tenant).filter(pk=sku_id).first()
    if sku is None:
        raise NotFound
    return sku


def position_list(*, tenant: Tenant) -> QuerySet[Position]:
    """Positions with ``available`` (on hand - reserved) computed in SQL, so filters on it stay one query."""
    return (
        Position.objects.filter(tenant=tenant)
        .select_related("sku", "warehouse")
        .annotate(available=F("on_hand") - F("reserved"))
        .order_by("id")
    )


def position_get(*, tenant: Tenant, position_id: object) -> Position:
    position = position_list(tenant=tenant).filter(pk=_bigint_or_not_found(position_id)).first()
    if position is None:
        raise NotFound
    return position


def lot_list(*, tenant: Tenant) -> QuerySet[Lot]:
    return Lot.objects.filter(tenant=tenant).select_related("position__sku", "position__warehouse").order_by("id")


def movement_list(*, tenant: Tenant) -> QuerySet[Movement]:
    return Movement.objects.filter(tenant=tenant).select_related("position__sku", "position__warehouse").order_by("id")


def daily_fact_list(*, tenant: Tenant, position: Position, day_from: date, day_to: date) -> QuerySet[DailyFact]:
    """The position's days from ``day_from`` to ``day_to``, both included; days without a row are absent."""
    return DailyFact.objects.filter(tenant=tenant, position=position, day__gte=day_from, day__lte=day_to).order_by(
        "day"
    )


def daily_fact_rows(*, tenant: Tenant, position_ids: list[int], day_from: date, day_to: date) -> QuerySet:
    """Many positions' days at once, as value rows (position_id, day, units_sold, units_flagged,
    net_change), for set-based readers: one query however many positions are asked for."""
    return (
        DailyFact.objects.filter(tenant=tenant, position_id__in=position_ids, day__gte=day_from, day__lte=day_to)
        .order_by("position_id", "day")
        .values_list("position_id", "day", "units_sold", "units_flagged", "net_change")
    )


def daily_fact_first_day(*, tenant: Tenant) -> date | None:
    """The first day of the tenant's ledger (its earliest daily fact), or None before any line: what
    a look back over history may start from."""
    return DailyFact.objects.filter(tenant=tenant).aggregate(first=Min("day"))["first"]


# The columns ``daily_fact_arrays`` answers after the position and the day, in order.
LEDGER_COLUMNS = (
    "units_sold",
    "units_received",
    "units_returned",
    "net_change",
    "receipts_promised",
    "receipt_delay_days",
    "receipt_delay_days_sq",
)


def daily_fact_arrays(*, tenant: Tenant, position_ids: list[int], day_from: date, day_to: date) -> np.ndarray:
    """Many positions' days as one int64 array, a row per fact in no particular order: position id,
    days since ``day_from``, then ``LEDGER_COLUMNS``; for readers that rebuild past stock and windows
    from the facts over many days (the quality replay). One statement, read by NumPy at once."""
    columns = ", ".join(f"f.{name}::int8 AS {name}" for name in LEDGER_COLUMNS)
    with connection.cursor() as cursor:
        return bigints_read(
            cursor,
            f"SELECT f.position_id, (f.day - %s::date)::int8 AS day, {columns} "  # noqa: S608 - constants
            f"FROM {DailyFact._meta.db_table} f "
            "WHERE f.tenant_id = %s AND f.position_id = ANY(%s::bigint[]) AND f.day >= %s AND f.day <= %s",
            [day_from, tenant.pk, bigint_array(position_ids), day_from, day_to],
            ["position_id", "day", *LEDGER_COLUMNS],
        )


def lots_received_before(*, tenant: Tenant, position_ids: list[int], day: date) -> QuerySet:
    """The stock still held of lots received before ``day``, as value rows (position_id, quantity,
    received_on, expires_on): what is left of old receipts, for readers that date old stock."""
    return (
        Lot.objects.filter(tenant=tenant, position_id__in=position_ids, received_on__lt=day, quantity__gt=0)
        .order_by("position_id", "received_on", "id")
        .values_list("position_id", "quantity", "received_on", "expires_on")
    )
