"""What a planner sees first: the tenant's live alerts by rule and grade, their trend, the spread of
its positions' health and the value tied up in overstock or missing to stock-outs.

Each figure is one aggregate statement over the tenant's alerts, timeline or readings (indexed by
tenant), so the overview costs the same few queries at 100 positions as at 100,000: no Python loop
over rows. The console renders these; the definitions here are the ones its captions repeat.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, TruncDate
from django.utils import timezone

from core.alerts.models import LIVE, Alert, AlertEvent, AlertEventKind, IndicatorReading
from tenants.models import Tenant

# A timeline event that opens an alert (again) and one that closes it, for the trend.
OPENING_KINDS = (AlertEventKind.OPENED, AlertEventKind.REOPENED)
CLOSING_KINDS = (AlertEventKind.RESOLVED, AlertEventKind.AUTO_RESOLVED, AlertEventKind.DISMISSED)
# The health index runs from 0 (worst) to 100; the histogram has bins of this width, the last one
# closed (90 to 100).
HEALTH_BIN = 10

DEFINITIONS = {
    "live": "alerts held by the engine that someone still has to act on: open or acknowledged "
    "(snoozed ones included), not dismissed or resolved",
    "opened": "alerts opened or reopened that day (their timeline's opened and reopened events)",
    "closed": "alerts resolved by a person, resolved by the engine when the position recovered, or dismissed that day",
    "overstock_value": "stock on hand at the positions the engine flags as overstock (turnover days "
    "above the class standard, or unsold stock older than it) x the SKU's unit cost",
    "shortfall_value": "at the positions flagged at risk of a stock-out (available below safety stock or "
    "cover shorter than the lead time, while selling): units missing to reach the reorder point "
    "(lead-time demand + safety stock) beyond what is available, x the unit cost",
    "lost_per_day": "at the positions that sell (28-day average above 0) but have nothing available: "
    "their 28-day average daily sales x the SKU's list price, the sales lost each day they stay empty",
}


def live_alert_counts(*, tenant: Tenant) -> list[dict]:
    """``[{rule, grade, alerts, snoozed}]`` of the tenant's live alerts (``DEFINITIONS["live"]``) and
    how many of them are snoozed now: one query."""
    return list(
        Alert.objects.filter(LIVE, tenant=tenant)
        .order_by()
        .values("rule", "grade")
        .annotate(alerts=Count("id"), snoozed=Count("id", filter=Q(snoozed_until__gt=timezone.now())))
        .order_by("rule", "grade")
    )


def alert_trend(*, tenant: Tenant, days: int = 30, today: date | None = None) -> list[dict]:
    """``[{day, opened, closed}]`` for each of the last ``days`` days up to today (UTC), zeros
    included, counted from the alerts' timelines in one grouped query."""
    today = today or timezone.now().date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=timezone.get_current_timezone())
    rows = (
        AlertEvent.objects.filter(tenant=tenant, created_at__gte=start, kind__in=OPENING_KINDS + CLOSING_KINDS)
        .order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            opened=Count("id", filter=Q(kind__in=OPENING_KINDS)),
            closed=Count("id", filter=Q(kind__in=CLOSING_KINDS)),
        )
    )
    by_day = {row["day"]: row for row in rows}
    trend = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        trend.append({"day": day, "opened": row.get("opened", 0), "closed": row.get("closed", 0)})
    return trend


def reading_summary(*, tenant: Tenant) -> dict:
    """The tenant's positions' health histogram and the stock-out and overstock figures of
    ``DEFINITIONS``, from one aggregate over its indicator readings.

    ``health_bins`` is ``[{low, high, positions}]`` from 0-9 up to 90-100; the values are Decimals
    rounded to cents (None sums read as 0).
    """
    money = DecimalField(max_digits=20, decimal_places=4)
    overstock = Q(overstock=True)
    stockout = Q(stockout_risk=True)
    empty = Q(ads_28__gt=0, available__lte=0)
    bins = {
        f"bin_{low}": Count("position_id", filter=Q(health_index__gte=low) & _below(low + HEALTH_BIN))
        for low in range(0, 100, HEALTH_BIN)
    }
    shortfall = ExpressionWrapper(
        Greatest(F("reorder_point_cover") - F("available"), Value(0.0)) * F("unit_cost"), output_field=FloatField()
    )
    row = IndicatorReading.objects.filter(tenant=tenant).aggregate(
        positions=Count("position_id"),
        **bins,
        overstock_positions=Count("position_id", filter=overstock),
        overstock_units=Coalesce(Sum("on_hand", filter=overstock), 0),
        overstock_value=Sum(ExpressionWrapper(F("on_hand") * F("unit_cost"), output_field=money), filter=overstock),
        stockout_positions=Count("position_id", filter=stockout),
        shortfall_value=Sum(shortfall, filter=stockout),
        empty_positions=Count("position_id", filter=empty),
        lost_per_day=Sum(
            ExpressionWrapper(F("ads_28") * F("sku__list_price"), output_field=FloatField()), filter=empty
        ),
    )
    health_bins = [
        {
            "low": low,
            "high": 100 if low + HEALTH_BIN >= 100 else low + HEALTH_BIN - 1,
            "positions": row.pop(f"bin_{low}"),
        }
        for low in range(0, 100, HEALTH_BIN)
    ]
    for name in ("overstock_value", "shortfall_value", "lost_per_day"):
        row[name] = _cents(row[name])
    return {**row, "health_bins": health_bins}


def _below(high: int) -> Q:
    # The last bin holds 100 too.
    return Q() if high >= 100 else Q(health_index__lt=high)


def _cents(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def recent_events(*, tenant: Tenant, limit: int = 12) -> QuerySet[AlertEvent]:
    """The tenant's latest timeline events (any alert, any kind, newest first) with their alert's
    rule, SKU and warehouse: what changed lately, by the engine or by people."""
    # The newest ids first (the primary key read backwards), then their joins: joining first lets the
    # planner join every event of the tenant before it sorts and cuts.
    newest = AlertEvent.objects.filter(tenant=tenant).order_by("-id").values("id")[:limit]
    return (
        AlertEvent.objects.filter(tenant=tenant, id__in=Subquery(newest))
        .select_related("alert__sku", "alert__warehouse")
        .only(
            "id",
            "kind",
            "from_grade",
            "to_grade",
            "actor",
            "note",
            "created_at",
            "alert__id",
            "alert__rule",
            "alert__grade",
            "alert__sku__code",
            "alert__sku__name",
            "alert__warehouse__code",
        )
        .order_by("-id")
    )
