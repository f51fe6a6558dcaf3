"""Reads of inventory data. Every one takes the tenant: a foreign id is simply not found.

List selectors return querysets with their related rows joined in, so a page of any size costs
the same number of queries; the API layer only filters and paginates them further.
"""

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
from django.db import connection
from django.db.models import F, Min, QuerySet, Sum

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


# A position "sells" on a day when it sold in the 28 days ending with that day.
SELLING_WINDOW_DAYS = 28

# Positions that sell on some day of the period (or the ones asked for), with their stock at its end,
# and their facts from the 28 days before it on: what both statements below start from.
_SELLING_POSITIONS_SQL = """
WITH pos AS MATERIALIZED (
    SELECT p.id, p.on_hand - COALESCE((
               SELECT sum(f.net_change) FROM {facts} f
               WHERE f.tenant_id = p.tenant_id AND f.position_id = p.id AND f.day > %(day_to)s
           ), 0) AS on_hand_at_end
    FROM {positions} p
    WHERE p.tenant_id = %(tenant)s AND (%(all_positions)s OR p.id = ANY(%(position_ids)s::bigint[])) AND EXISTS (
        SELECT 1 FROM {facts} f
        WHERE f.tenant_id = p.tenant_id AND f.position_id = p.id AND f.units_sold > 0
          AND f.day BETWEEN %(selling_from)s AND %(day_to)s
    )
),
window_facts AS MATERIALIZED (
    SELECT f.position_id, f.day, f.units_sold, f.net_change, pos.on_hand_at_end
    FROM pos JOIN {facts} f ON f.tenant_id = %(tenant)s AND f.position_id = pos.id
    WHERE f.day BETWEEN %(grid_from)s AND %(day_to)s
)
"""

# The positions whose stock was at zero at the end of some day of the window: at the end of a day
# with facts, or, carried over the days after it, before the window's first. Read from the facts
# alone; only these positions get a row per day in the statement after it.
_TOUCHING_ZERO_SQL = (
    _SELLING_POSITIONS_SQL  # noqa: S608 - constant SQL, values are parameters
    + """
SELECT f.position_id
FROM (
    SELECT position_id,
           on_hand_at_end - COALESCE(sum(net_change) OVER (
               PARTITION BY position_id ORDER BY day DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), 0) AS end_on_hand,
           on_hand_at_end - sum(net_change) OVER (PARTITION BY position_id) AS before_window
    FROM window_facts
) f
GROUP BY f.position_id
HAVING min(least(f.end_on_hand, f.before_window)) <= 0
ORDER BY f.position_id
"""
)

_STOCK_OUT_DAYS_SQL = (
    _SELLING_POSITIONS_SQL  # noqa: S608 - constant SQL, values are parameters
    + """,
grid AS (
    SELECT pos.id AS position_id, d.day, COALESCE(f.units_sold, 0) AS sold, COALESCE(f.net_change, 0) AS net,
           pos.on_hand_at_end, d.day >= first_fact.day AS stocked
    FROM pos
    CROSS JOIN LATERAL (
        SELECT f.day FROM {facts} f WHERE f.tenant_id = %(tenant)s AND f.position_id = pos.id ORDER BY f.day LIMIT 1
    ) first_fact
    CROSS JOIN LATERAL (
        SELECT g::date AS day FROM generate_series(%(grid_from)s::date, %(day_to)s::date, interval '1 day') g
    ) d
    LEFT JOIN window_facts f ON f.position_id = pos.id AND f.day = d.day
),
ends AS (
    SELECT position_id, day, sold, stocked,
           on_hand_at_end - COALESCE(sum(net) OVER (
               PARTITION BY position_id ORDER BY day DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), 0) AS end_on_hand,
           sum(sold) OVER (
               PARTITION BY position_id ORDER BY day ROWS BETWEEN %(selling_rows)s PRECEDING AND CURRENT ROW
           ) AS sold_window
    FROM grid
),
rated AS (
    SELECT *,
           sum(sold) OVER before AS sold_before,
           sum(CASE WHEN stocked AND end_on_hand > 0 THEN 1 ELSE 0 END) OVER before AS stocked_days_before
    FROM ends
    WINDOW before AS (PARTITION BY position_id ORDER BY day ROWS BETWEEN %(selling_days)s PRECEDING AND 1 PRECEDING)
)
SELECT position_id, day, sold::bigint AS units_sold,
       greatest(COALESCE(sold_before::float8 / nullif(stocked_days_before, 0), 0) - sold, 0)::float8 AS lost_units
FROM rated
WHERE day >= %(day_from)s AND end_on_hand <= 0 AND sold_window > 0
ORDER BY position_id, day
"""
)


def position_stock_out_days(
    *, tenant: Tenant, day_from: date, day_to: date, position_ids: list[int] | None = None
) -> list[dict]:
    """The stock-out days from ``day_from`` to ``day_to``: every (``position_id``, ``day``) whose stock
    at the end was zero while the position sold in the 28 days ending with that day, with
    ``units_sold`` that day and ``lost_units``: the position's rate of sale over its in-stock days
    among the 28 before, less what it sold that day, never below 0 (0 with no in-stock day). Of
    every position, or of ``position_ids``; two statements over the daily facts, however many: the
    positions whose stock touched zero, then their days.

    The stock at the end of a past day is on hand now less the net changes after it; reservations
    are not kept per day, so "zero" is zero on hand.
    """
    params = {
        "tenant": tenant.pk,
        "all_positions": position_ids is None,
        "position_ids": list(position_ids or []),
        "day_from": day_from,
        "day_to": day_to,
        # Positions that sell on some day of the period; their days from the 28 before it on.
        "selling_from": day_from - timedelta(days=SELLING_WINDOW_DAYS - 1),
        "grid_from": day_from - timedelta(days=SELLING_WINDOW_DAYS),
        "selling_rows": SELLING_WINDOW_DAYS - 1,
        "selling_days": SELLING_WINDOW_DAYS,
    }
    tables = {"positions": Position._meta.db_table, "facts": DailyFact._meta.db_table}
    with connection.cursor() as cursor:
        cursor.execute(_TOUCHING_ZERO_SQL.format(**tables), params)
        touching = [position_id for (position_id,) in cursor.fetchall()]
        if not touching:
            return []
        cursor.execute(
            _STOCK_OUT_DAYS_SQL.format(**tables), {**params, "all_positions": False, "position_ids": touching}
        )
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def position_units_sold(*, tenant: Tenant, day_from: date, day_to: date) -> dict[int, int]:
    """Units sold per position from ``day_from`` to ``day_to`` (positions that sold nothing are absent)."""
    return dict(
        DailyFact.objects.filter(tenant=tenant, day__gte=day_from, day__lte=day_to, units_sold__gt=0)
        .values("position_id")
        .annotate(units=Sum("units_sold"))
        .order_by("position_id")
        .values_list("position_id", "units")
    )


def position_spans(*, tenant: Tenant, spans: list[tuple[int, date, date]]) -> list[tuple[int, int]]:
    """For each (position id, first day, last day): the stock on hand at the end of the first day and
    the units sold after it through the last day, in the order given. One statement for any number."""
    if not spans:
        return []
    statement = f"""
    WITH span AS (
        SELECT * FROM unnest(%(positions)s::bigint[], %(firsts)s::date[], %(lasts)s::date[])
            WITH ORDINALITY AS s(position_id, first_day, last_day, n)
    )
    SELECT p.on_hand - COALESCE((
               SELECT sum(f.net_change) FROM {DailyFact._meta.db_table} f
               WHERE f.tenant_id = p.tenant_id AND f.position_id = p.id AND f.day > span.first_day
           ), 0)::bigint,
           COALESCE((
               SELECT sum(f.units_sold) FROM {DailyFact._meta.db_table} f
               WHERE f.tenant_id = p.tenant_id AND f.position_id = p.id
                 AND f.day > span.first_day AND f.day <= span.last_day
           ), 0)::bigint
    FROM span JOIN {Position._meta.db_table} p ON p.id = span.position_id AND p.tenant_id = %(tenant)s
    ORDER BY span.n"""  # noqa: S608 - table names only
    params = {
        "tenant": tenant.pk,
        "positions": [position_id for position_id, _, _ in spans],
        "firsts": [first for _, first, _ in spans],
        "lasts": [last for _, _, last in spans],
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [(int(held), int(sold)) for held, sold in cursor.fetchall()]


def positions_on_hand_at(*, tenant: Tenant, position_ids: Iterable[int], day: date) -> dict[int, int]:
    """Each position's stock on hand at the end of ``day``: on hand now less the net changes after it."""
    ids = list(position_ids)
    later = dict(
        DailyFact.objects.filter(tenant=tenant, position_id__in=ids, day__gt=day)
        .values("position_id")
        .annotate(net=Sum("net_change"))
        .order_by("position_id")
        .values_list("position_id", "net")
    )
    now = Position.objects.filter(tenant=tenant, id__in=ids).values_list("id", "on_hand")
    return {position_id: on_hand - (later.get(position_id) or 0) for position_id, on_hand in now}


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
