"""One position (SKU x warehouse): its reading, its daily sales with the forecast and its band, its
lots by age and expiry, its alerts, transfers and RFQs.

Everything is read through the domain selectors the API reads with (``indicators/{position_id}/``,
``forecasts/{position_id}/``, ``alerts/``, ``transfers/``, ``rfqs/``), so the page and the API
cannot disagree. The charts are ECharts options built here; each has its values in a table too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join

from console.pages import READERS, ConsolePage
from core.alerts import selectors as alert_selectors
from core.alerts.models import Alert, IndicatorReading
from core.exceptions import NotFound
from core.forecasting import selectors as forecast_selectors
from core.forecasting.models import Forecast
from core.inventory import selectors as inventory_selectors
from core.inventory.models import Position
from core.procurement import selectors as procurement_selectors
from core.procurement.models import Rfq
from core.transfers import selectors as transfer_selectors
from core.transfers.models import TransferRequest
from tenants.principals import Principal

HISTORY_DAYS = 180  # the sales history shown: half a year, enough to see a season turn
SHOWN_DAYS = 90  # of which the chart opens on the last 90 (zoom out for the rest)
RECENT_ALERTS = 20
EXPIRY_SOON_DAYS = 30
# The age buckets of a reading (``age_0_30`` ...), as (label, lowest age, highest age or None).
AGE_BUCKETS = (
    ("0-30 d", 0, 30),
    ("31-60 d", 31, 60),
    ("61-90 d", 61, 90),
    ("91-180 d", 91, 180),
    (">180 d", 181, None),
)
T = TypeVar("T")


def found(read: Callable[..., T], **kwargs: Any) -> T:
    """A selector's answer, or the 404 a missing and a foreign object both get."""
    try:
        return read(**kwargs)
    except NotFound:
        raise Http404("Not found in this tenant.") from None


def position_transfers(*, principal: Principal, sku_id: object, warehouse_id: object) -> QuerySet[TransferRequest]:
    """Transfers of a position's SKU out of or into its warehouse, newest first."""
    return (
        transfer_selectors.transfer_list(principal=principal)
        .filter(Q(source_id=warehouse_id) | Q(destination_id=warehouse_id), sku_id=sku_id)
        .order_by("-created_at", "-id")
    )


def position_rfqs(*, principal: Principal, position_id: int) -> QuerySet[Rfq]:
    return procurement_selectors.rfq_list(principal=principal).filter(position_id=position_id).order_by("-created_at")


def sales_series(
    *, tenant: object, position: Position, forecast: Forecast | None, today: date, days: int = HISTORY_DAYS
) -> list[dict]:
    """One row per day: the units sold (history; a day without a fact sold nothing) and, from the
    forecast's origin, its mean, median and service-level quantile."""
    start = today - timedelta(days=days - 1)
    sold = {
        fact.day: fact.units_sold
        for fact in inventory_selectors.daily_fact_list(tenant=tenant, position=position, day_from=start, day_to=today)
    }
    rows = [{"day": start + timedelta(days=k), "sold": sold.get(start + timedelta(days=k), 0)} for k in range(days)]
    if forecast is not None and forecast.figures:
        by_day = {row["day"]: row for row in rows}
        for k, (mean, p50, quantile) in enumerate(zip(forecast.mean, forecast.p50, forecast.quantile, strict=True)):
            day = forecast.origin + timedelta(days=k)
            row = by_day.get(day)
            if row is None:
                row = {"day": day, "sold": None}
                rows.append(row)
            row.update(mean=round(mean, 2), p50=round(p50, 2), quantile=round(quantile, 2))
    return rows


def sales_table_body(rows: list[dict], *, forecast: bool) -> str:
    """The table toggle's rows, joined here: a template loop over half a year of days and the
    forecast's weeks (some 240 rows, five cells each) took most of the page's time."""

    def cell(value: object) -> str:
        return "" if value is None else str(value)

    if forecast:
        template = (
            '<tr data-day="{0}"><td>{0}</td><td class="num sold">{1}</td><td class="num mean">{2}</td>'
            '<td class="num p50">{3}</td><td class="num quantile">{4}</td></tr>'
        )
        values = (
            (
                row["day"].isoformat(),
                cell(row["sold"]),
                cell(row.get("mean")),
                cell(row.get("p50")),
                cell(row.get("quantile")),
            )
            for row in rows
        )
    else:
        template = '<tr data-day="{0}"><td>{0}</td><td class="num sold">{1}</td></tr>'
        values = ((row["day"].isoformat(), cell(row["sold"])) for row in rows)
    return format_html_join("\n", template, values)


def sales_chart(rows: list[dict], service_level: float | None, *, shown_from: date | None = None) -> dict:
    """History line, forecast line, and the band from the median up to the service-level quantile as
    a stacked area (an invisible base at the median, the band's width on top); the quantile itself is
    a line of its own so that hovering shows its value, not the band's width."""
    days = [row["day"].isoformat() for row in rows]
    start = shown_from.isoformat() if shown_from and shown_from.isoformat() in days else days[0]
    level = f"{service_level * 100:g} %" if service_level else "quantile"

    def column(name: str) -> list:
        return [row.get(name) for row in rows]

    series: list[dict] = [
        {"name": "Units sold", "type": "line", "data": column("sold"), "symbol": "none", "connectNulls": False}
    ]
    if any(row.get("mean") is not None for row in rows):
        width = [
            None if row.get("quantile") is None else round(row["quantile"] - min(row["p50"], row["quantile"]), 2)
            for row in rows
        ]
        base = [None if row.get("quantile") is None else min(row["p50"], row["quantile"]) for row in rows]
        series += [
            {
                "name": "Forecast (mean)",
                "type": "line",
                "data": column("mean"),
                "symbol": "none",
                "lineStyle": {"type": "dashed", "width": 2},
            },
            {
                "name": "Median",
                "type": "line",
                "stack": "band",
                "data": base,
                "symbol": "none",
                "lineStyle": {"width": 1, "opacity": 0.6},
            },
            {
                "name": f"Band to the {level} quantile",
                "type": "line",
                "stack": "band",
                "data": width,
                "symbol": "none",
                "lineStyle": {"opacity": 0},
                "areaStyle": {"opacity": 0.25},
            },
            {
                "name": f"{level} quantile",
                "type": "line",
                "data": column("quantile"),
                "symbol": "none",
                "lineStyle": {"type": "dotted", "width": 1},
            },
        ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 40, "right": 16, "top": 40, "bottom": 56},
        "xAxis": {"type": "category", "data": days, "boundaryGap": False},
        "yAxis": {"type": "value", "name": "units/day", "min": 0},
        # Opens on the last weeks and the forecast; the slider reaches back over the whole history.
        "dataZoom": [
            {"type": "inside", "startValue": start},
            {"type": "slider", "height": 18, "bottom": 8, "startValue": start},
        ],
        "series": series,
    }


def lot_rows(*, tenant: object, position: Position, today: date) -> list[dict]:
    """The lots with stock, oldest first, with their age and days to expiry."""
    lots = inventory_selectors.lot_list(tenant=tenant).filter(position=position, quantity__gt=0).order_by("received_on")
    rows = []
    for lot in lots:
        age = (today - lot.received_on).days
        to_expiry = (lot.expires_on - today).days if lot.expires_on else None
        bucket = next(label for label, low, high in AGE_BUCKETS if age >= low and (high is None or age <= high))
        rows.append(
            {
                "code": lot.lot_code or "—",
                "quantity": lot.quantity,
                "received_on": lot.received_on,
                "age": age,
                "bucket": bucket,
                "expires_on": lot.expires_on,
                "days_to_expiry": to_expiry,
                "expiring": to_expiry is not None and to_expiry <= EXPIRY_SOON_DAYS,
            }
        )
    return rows


def lots_chart(rows: list[dict]) -> tuple[dict, list[dict]]:
    """Units by age bucket, stacked by expiry (within 30 days, later, none): the chart and its table."""
    stacks = (
        (f"Expires within {EXPIRY_SOON_DAYS} days", lambda r: r["expiring"]),
        ("Expires later", lambda r: r["expires_on"] is not None and not r["expiring"]),
        ("No expiry date", lambda r: r["expires_on"] is None),
    )
    table = []
    for label, _, _ in AGE_BUCKETS:
        in_bucket = [r for r in rows if r["bucket"] == label]
        table.append(
            {"bucket": label, "values": [sum(r["quantity"] for r in in_bucket if test(r)) for _, test in stacks]}
        )
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 48, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": [label for label, _, _ in AGE_BUCKETS], "name": "age"},
        "yAxis": {"type": "value", "name": "units", "min": 0},
        "series": [
            {"name": name, "type": "bar", "stack": "units", "data": [row["values"][k] for row in table]}
            for k, (name, _) in enumerate(stacks)
        ],
    }
    return option, table


def position_alerts(*, principal: Principal, position: Position) -> tuple[list[Alert], list[Alert]]:
    """(active alerts, recent closed ones) of the position, worst and newest first."""
    # The SKU is implied by the position; naming it lets the (tenant, sku, created_at) index find them.
    alerts = alert_selectors.alert_list(principal=principal).filter(position_id=position.pk, sku_id=position.sku_id)
    active = list(alerts.filter(active=True).order_by("-opened_at"))
    recent = list(alerts.filter(active=False).order_by("-updated_at")[:RECENT_ALERTS])
    return active, recent


class PositionPage(ConsolePage):
    """A position as a planner reads it: the numbers, the trend, the stock's age and what is being done."""

    section = "inbox"
    access = {"GET": READERS}

    def get(self, request: HttpRequest, position_id: int) -> HttpResponse:
        position = found(inventory_selectors.position_get, tenant=self.tenant, position_id=position_id)
        today = timezone.now().date()
        reading: IndicatorReading | None = (
            alert_selectors.reading_list(principal=self.principal).filter(position_id=position.pk).first()
        )
        try:
            forecast: Forecast | None = forecast_selectors.forecast_get(
                principal=self.principal, position_id=position.pk
            )
        except NotFound:
            forecast = None
        rows = sales_series(tenant=self.tenant, position=position, forecast=forecast, today=today)
        lots = lot_rows(tenant=self.tenant, position=position, today=today)
        lots_option, lots_table = lots_chart(lots)
        active, recent = position_alerts(principal=self.principal, position=position)
        context = {
            "position": position,
            "reading": reading,
            "forecast": forecast,
            "sales_rows": sales_table_body(rows, forecast=bool(forecast and forecast.figures)),
            "sales_chart": sales_chart(
                rows, forecast.service_level if forecast else None, shown_from=today - timedelta(days=SHOWN_DAYS - 1)
            ),
            "history_days": HISTORY_DAYS,
            "lots": lots,
            "lots_chart": lots_option,
            "lots_table": lots_table,
            "lot_stacks": [series["name"] for series in lots_option["series"]],
            "active_alerts": active,
            "recent_alerts": recent,
            "transfers": position_transfers(
                principal=self.principal, sku_id=position.sku_id, warehouse_id=position.warehouse_id
            )[:50],
            "rfqs": position_rfqs(principal=self.principal, position_id=position.pk)[:20],
            "api_reading": reverse(
                "v1:indicator-detail", kwargs={"tenant_slug": self.tenant.slug, "position_id": position.pk}
            ),
        }
        return self.page(request, "console/position.html", context)
