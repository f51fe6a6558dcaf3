"""Reads of alerts and indicator readings, filtered to what the caller may see, in one query.

Staff and the partner ERP see the whole tenant; a supplier sees the SKUs it has offers for; a
distributor sees the warehouses granted to its group. A row outside that is simply not found.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, DecimalField, F, FloatField, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from core.access import registry as access
from core.access.scope import partner_scope
from core.alerts.engine import reading_compute
from core.alerts.models import Alert, AlertEvent, AlertEventKind, IndicatorReading, Signal
from core.exceptions import NotFound
from core.inventory.models import Category, Sku, Warehouse
from tenants.models import Tenant
from tenants.principals import Principal

ROLLUP_KEYS = {
    "sku": ("sku__code", "sku__name"),
    "category": ("sku__category__code", "sku__category__name"),
    "warehouse": ("warehouse__code", "warehouse__name"),
    "region": ("warehouse__region", "warehouse__region"),
}
CENTS = Decimal("0.01")
MONEY = DecimalField(max_digits=24, decimal_places=4)


def visibility(principal: Principal) -> Q:
    """The rows (with ``sku`` and ``warehouse`` fields) this principal may see within its tenant."""
    scope = partner_scope(principal.partner)
    if scope.skus is not None:
        return Q(sku_id__in=scope.skus)
    if scope.warehouses is not None:
        return Q(warehouse_id__in=scope.warehouses)
    return Q()


def alert_list(*, principal: Principal) -> QuerySet[Alert]:
    return (
        Alert.objects.filter(visibility(principal), tenant=principal.tenant)
        .select_related("sku__category", "warehouse")
        .order_by("created_at", "id")
    )


def alert_get(*, principal: Principal, alert_id: object) -> Alert:
    alert = alert_list(principal=principal).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound
    return alert


# The tenant's own responses (who was asked to quote, its limits, its markdowns): not for partners.
INTERNAL_EVENT_KINDS = (AlertEventKind.RFQ_OPENED, AlertEventKind.RESPONSE_HELD, AlertEventKind.RECOMMENDED)


def alert_events(*, alert: Alert, internal: bool = True) -> QuerySet[AlertEvent]:
    events = AlertEvent.objects.filter(tenant_id=alert.tenant_id, alert=alert).order_by("id")
    return events if internal else events.exclude(kind__in=INTERNAL_EVENT_KINDS)


def reading_list(*, principal: Principal) -> QuerySet[IndicatorReading]:
    return (
        IndicatorReading.objects.filter(visibility(principal), tenant=principal.tenant)
        .select_related("sku__category", "warehouse")
        .order_by("position_id")
    )


def reading_get(*, principal: Principal, position_id: object) -> IndicatorReading:
    try:
        number = int(str(position_id))
    except ValueError:
        raise NotFound from None
    reading = reading_list(principal=principal).filter(position_id=number).first() if 0 < number < 2**63 else None
    if reading is None:
        raise NotFound
    return reading


def reading_details(*, reading: IndicatorReading) -> dict:
    """The series behind a reading, computed for its position as of today."""
    fresh = reading_compute(tenant=reading.tenant, position_id=reading.position_id, today=timezone.now().date())
    return fresh["details"] if fresh else {}


def _rollup_sums(*, distinct: bool) -> tuple[dict, dict]:
    """The rollup's sums by the name they answer under, in two steps: the sums that read a column
    also summed under its own name come first, in their own ``annotate()`` (once
    ``on_hand=Sum("on_hand")`` exists, ``F("on_hand")`` means that sum), the rest second.

    ``distinct``: whether counting SKUs needs DISTINCT. A reading is one SKU at one warehouse, so
    within a warehouse the SKUs are the readings, and counting them needs no DISTINCT (which sorts
    every row: twice the time at 100,000 positions)."""
    first = {
        "age_weighted": Sum(Cast("weighted_age_days", FloatField()) * F("on_hand"), output_field=FloatField()),
        "age_weight": Sum("on_hand", filter=Q(weighted_age_days__isnull=False)),
        "skus_selling": Count("sku_id", distinct=distinct, filter=Q(ads_28__gt=0)),
        "overstock_value": Sum(F("on_hand") * F("unit_cost"), filter=Q(overstock=True), output_field=MONEY),
    }
    second = {
        "positions": Count("position_id"),
        "skus": Count("sku_id", distinct=distinct),
        "on_hand": Sum("on_hand"),
        "available": Sum("available"),
        "ads_7": Sum("ads_7"),
        "ads_28": Sum("ads_28"),
        "ads_90": Sum("ads_90"),
        "value_sold_90": Sum(F("units_sold_90") * F("unit_cost"), output_field=FloatField()),
        "value_held_90": Sum(F("average_on_hand_90") * F("unit_cost"), output_field=FloatField()),
        "age_0_30": Sum("age_0_30"),
        "age_31_60": Sum("age_31_60"),
        "age_61_90": Sum("age_61_90"),
        "age_91_180": Sum("age_91_180"),
        "age_over_180": Sum("age_over_180"),
        "expiry_at_risk": Sum("expiry_at_risk"),
        "days_to_expiry": Min("days_to_expiry"),
        "stockout_risk_positions": Count("position_id", filter=Q(stockout_risk=True)),
        "overstock_positions": Count("position_id", filter=Q(overstock=True)),
        "health_index_mean": Avg("health_index"),
        "health_index_min": Min("health_index"),
        "as_of": Max("as_of"),
    }
    return first, second


def reading_rollup(*, readings: QuerySet[IndicatorReading], by: str, then_by: str | None = None) -> QuerySet:
    """Readings summed per SKU, category, warehouse or region, with the documented rollup formulas.

    Cover and turnover are ratios of sums (not averages of ratios); turnover weighs by cost; the
    sell-through of a group is the share of its SKUs that sold at all in the last 28 days; the
    overstock value is on hand at unit cost over the positions flagged overstock.

    ``then_by`` groups by a second key too (rows carry ``then_key`` and ``then_name``): each row is
    the very row that ``by=<then_by>`` filtered to that ``by`` key answers, as both go through the
    same sums and ``rollup_finish``.
    """
    key, name = ROLLUP_KEYS[by]
    groups = {"key": F(key), "name": F(name)}
    if then_by is not None:
        then_key, then_name = ROLLUP_KEYS[then_by]
        groups |= {"then_key": F(then_key), "then_name": F(then_name)}
    first, second = _rollup_sums(distinct="warehouse" not in (by, then_by))
    return (
        readings.order_by()
        .values(**groups)
        .annotate(**first)
        .annotate(**second)
        .order_by("key", *(["then_key"] if then_by is not None else []))
    )


# What each figure of a finished rollup row is made of: ``reading_grid`` sums only these.
ROLLUP_INPUTS = {
    "days_of_cover": ("available", "ads_28"),
    "turnover_rate": ("value_sold_90", "value_held_90"),
    "turnover_days": ("value_sold_90", "value_held_90"),
    "sell_through_28": ("skus_selling", "skus"),
    "weighted_age_days": ("age_weighted", "age_weight"),
}
# A group's id column in the readings, and the table its code and name are read from (a region is
# its own code and name).
_GROUP_IDS = {
    "sku": ("sku_id", Sku),
    "category": ("sku__category_id", Category),
    "warehouse": ("warehouse_id", Warehouse),
    "region": ("warehouse__region", None),
}


def reading_grid(
    *, readings: QuerySet[IndicatorReading], by: str, then_by: str | None = None, fields: tuple[str, ...]
) -> list[dict]:
    """``reading_rollup`` rows finished by ``rollup_finish``, with only ``positions`` and the named
    figures (``fields``: finished rollup fields such as ``days_of_cover``), in one aggregate query.

    For the console's heat map: a page shows one figure of each group, so it sums what that figure
    needs with the rollup's own expressions (each value equals the full rollup's), grouped by the
    groups' ids rather than their codes and names (hashing text for each of 100,000 readings costs
    a third of the statement); each group's code and name are looked up once per group, by id."""
    first, second = _rollup_sums(distinct="warehouse" not in (by, then_by))
    wanted = {"positions"}
    for field in fields:
        wanted.update(ROLLUP_INPUTS.get(field, (field,)))
    unknown = wanted - first.keys() - second.keys()
    if unknown:
        raise ValueError(f"not a rollup figure: {', '.join(sorted(unknown))}")
    groups, names = {}, {}
    for prefix, group in (("", by), ("then_", then_by)):
        if group is None:
            continue
        column, model = _GROUP_IDS[group]
        groups[f"{prefix}group_id"] = F(column)
        if model is not None:
            for field, alias in (("code", "key"), ("name", "name")):
                # Per group, not per reading: the outer reference is the grouped column's alias.
                found = model.objects.filter(pk=OuterRef(f"{prefix}group_id")).order_by().values(field)[:1]
                names[f"{prefix}{alias}"] = Subquery(found)
    rows = (
        readings.order_by()
        .values(**groups)
        .annotate(**{name: sum_ for name, sum_ in first.items() if name in wanted})
        .annotate(**{name: sum_ for name, sum_ in second.items() if name in wanted})
        .annotate(**names)
    )
    finished = []
    for row in rows:
        for prefix in ("", "then_") if then_by is not None else ("",):
            group_id = row.pop(f"{prefix}group_id")
            if f"{prefix}key" not in row:  # a region
                row[f"{prefix}key"] = row[f"{prefix}name"] = group_id
        finished.append(rollup_finish(row))
    return sorted(finished, key=lambda row: (row["key"], row.get("then_key", "")))


def with_grant_and_band(
    queryset: QuerySet, *, principal: Principal, low_cover_days: int, available: str, cover: str
) -> QuerySet:
    """Rows with what the access registry renders a partner's view by: the caller's grant level of the
    row's warehouse (``grant``) and the position's stock band (``band``, from ``available`` and
    ``cover``, the paths of those two columns)."""
    return queryset.annotate(
        grant=access.grant_level(principal),
        band=access.band_sql(available=available, cover=cover, low_cover_days=low_cover_days),
    )


def reading_rollup_shown(*, readings: QuerySet[IndicatorReading], by: str, principal: Principal) -> QuerySet:
    """Readings rolled up as a partner may see them: counts and health, and the quantities summed
    over the positions whose warehouse's grant shows them (the access registry's ``quantities``)."""
    key, name = ROLLUP_KEYS[by]
    exact = access.shown(principal, "quantities")
    return (
        readings.order_by()
        .values(key=F(key), name=F(name))
        .annotate(
            positions=Count("position_id"),
            skus=Count("sku_id", distinct=True),
            exact_positions=Count("position_id", filter=exact),
            on_hand=Sum("on_hand", filter=exact),
            available=Sum("available", filter=exact),
            in_transit=Sum("in_transit", filter=exact),
            stockout_risk_positions=Count("position_id", filter=Q(stockout_risk=True)),
            overstock_positions=Count("position_id", filter=Q(overstock=True)),
            health_index_mean=Avg("health_index"),
            health_index_min=Min("health_index"),
            as_of=Max("as_of"),
        )
        .order_by("key")
    )


def rollup_finish(row: dict) -> dict:
    """The ratio indicators of one rollup row, from its sums (of a ``reading_grid`` row, those its
    sums allow)."""
    if "available" in row and "ads_28" in row:
        ads_28 = row["ads_28"] or 0
        row["days_of_cover"] = round(row["available"] / ads_28, 2) if ads_28 > 0 else None
    if "value_held_90" in row and "value_sold_90" in row:
        held, sold = row.pop("value_held_90") or 0, row.pop("value_sold_90") or 0
        row["turnover_rate"] = round(sold / held * 365 / 90, 4) if held > 0 else None
        row["turnover_days"] = round(held * 90 / sold, 2) if sold > 0 else None
    if "skus_selling" in row and "skus" in row:
        row["sell_through_28"] = round(row["skus_selling"] / row["skus"], 4) if row["skus"] else None
    if "age_weight" in row and "age_weighted" in row:
        weight = row.pop("age_weight") or 0
        weighted = row.pop("age_weighted") or 0
        row["weighted_age_days"] = round(weighted / weight, 2) if weight else None
    if "health_index_mean" in row:
        mean = row["health_index_mean"]
        row["health_index_mean"] = round(mean, 1) if mean is not None else None
    for name in ("ads_7", "ads_28", "ads_90"):
        if name in row:
            row[name] = round(row[name] or 0, 4)
    if "overstock_value" in row:
        row["overstock_value"] = Decimal(row["overstock_value"] or 0).quantize(CENTS, rounding=ROUND_HALF_UP)
    return row


def signal_rows(*, tenant: Tenant, sku_ids: list, day_from: date, day_to: date) -> QuerySet:
    """Market signals of these SKUs from ``day_from`` to ``day_to`` as value rows (sku_id, day,
    competitor_price, social_volume, supplier_lead_time_index), for readers that rebuild the
    indicators of past days (the quality replay); one query."""
    return (
        Signal.objects.filter(tenant=tenant, sku_id__in=sku_ids, day__gte=day_from, day__lte=day_to)
        .order_by("sku_id", "day")
        .values_list("sku_id", "day", "competitor_price", "social_volume", "supplier_lead_time_index")
    )
