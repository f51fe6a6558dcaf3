"""The overview: live alerts by grade and rule with their 30-day trend, the positions' health, the value
in overstock and missing to stock-outs, the last closed month's KPIs, and the latest alert events.

Every figure comes from an aggregate selector of ``core.alerts.overview`` (a few queries whatever the
tenant's size); this module only shapes them into tables and ECharts options. Counts link to the
inbox filtered to them, with the query parameters the API's ``alerts/`` takes.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from console.pages import READERS, ConsolePage
from core.alerts import overview
from core.alerts.models import Grade, RuleCode
from core.quality.kpi_reports import kpi_changes, kpi_report_list
from core.quality.kpis import DEFINITIONS as KPI_DEFINITIONS

GRADES = [Grade.RED, Grade.ORANGE, Grade.YELLOW]  # worst first
GRADE_COLOURS = {Grade.YELLOW: "#e6b800", Grade.ORANGE: "#e07b00", Grade.RED: "#c62828"}
# The headline KPIs a planner reads first (docs/kpis.md defines them all): (path, label, unit).
KPI_HEADLINES = [
    ("alerts_closed", "Alerts closed", ""),
    ("false_alarm_rate", "False-alarm rate", "%"),
    ("time_to_acknowledge_hours.median", "Median time to acknowledge", "h"),
    ("time_to_act_hours.median", "Median time to act", "h"),
    ("clearance_cycle_days.median", "Median clearance cycle", "d"),
    ("stock_out_days", "Stock-out days", ""),
    ("fill_rate", "Fill rate", "%"),
    ("overstock_value_held", "Overstock value held", ""),
]


def live_filter(**more: str) -> dict[str, object]:
    """The ``alerts/`` parameters that list the live alerts (``overview.DEFINITIONS["live"]``)."""
    return {"active": "true", "status": ["open", "acknowledged"], **more}


class OverviewPage(ConsolePage):
    section = "overview"
    access = {"GET": READERS}

    def get(self, request: HttpRequest) -> HttpResponse:
        inbox = reverse("console:inbox", args=[self.tenant.slug])

        def link(**params: str) -> str:
            return f"{inbox}?{urlencode(live_filter(**params), doseq=True)}"

        counts = overview.live_alert_counts(tenant=self.tenant)
        trend = overview.alert_trend(tenant=self.tenant)
        readings = overview.reading_summary(tenant=self.tenant)
        report = kpi_report_list(tenant=self.tenant).first()
        context = {
            **_alert_tables(counts, link),
            "trend": trend,
            "trend_totals": {
                "opened": sum(row["opened"] for row in trend),
                "closed": sum(row["closed"] for row in trend),
            },
            "trend_chart": _trend_chart(trend),
            "readings": readings,
            "health_chart": _health_chart(readings["health_bins"]),
            "kpis": _kpis(report, self.tenant.slug) if report else None,
            "events": overview.recent_events(tenant=self.tenant),
            "definitions": overview.DEFINITIONS,
            "inbox_live": link(),
        }
        return self.page(request, "console/overview.html", context)


def _alert_tables(counts: list[dict], link) -> dict:  # noqa: ANN001
    """The live alerts per grade (figures) and per rule and grade (table and stacked bars)."""
    by_rule: dict[str, dict[str, int]] = defaultdict(dict)
    for row in counts:
        by_rule[row["rule"]][row["grade"]] = row["alerts"]
    labels = dict(RuleCode.choices)
    # Rules with the most red first, then orange, then yellow.
    rules = sorted(by_rule, key=lambda rule: (*(-by_rule[rule].get(grade, 0) for grade in GRADES), rule))
    grade_totals = [
        {
            "grade": grade,
            "label": grade.label,
            "alerts": sum(row["alerts"] for row in counts if row["grade"] == grade),
            "url": link(grade=grade.value),
        }
        for grade in GRADES
    ]
    rule_rows = [
        {
            "rule": rule,
            "label": labels.get(rule, rule),
            "url": link(rule=rule),
            "total": sum(by_rule[rule].values()),
            "cells": [
                {"grade": grade.value, "alerts": by_rule[rule].get(grade, 0), "url": link(rule=rule, grade=grade.value)}
                for grade in GRADES
            ],
        }
        for rule in rules
    ]
    shown = list(reversed(rule_rows))  # a horizontal bar chart draws its first category at the bottom
    chart = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "top": 32, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1, "name": "alerts"},
        "yAxis": {"type": "category", "data": [row["label"] for row in shown]},
        "series": [
            {
                "name": grade.label,
                "type": "bar",
                "stack": "grade",
                "itemStyle": {"color": GRADE_COLOURS[grade]},
                "label": {"show": True, "position": "inside", "formatter": "{c}"},
                "data": [
                    {"value": row["cells"][index]["alerts"] or None, "url": row["cells"][index]["url"]} for row in shown
                ],
            }
            for index, grade in enumerate(GRADES)
        ],
    }
    return {
        "grade_totals": grade_totals,
        "live_total": sum(row["alerts"] for row in grade_totals),
        "snoozed_total": sum(row["snoozed"] for row in counts),
        "snoozed_url": link(snoozed="true"),
        "rule_rows": rule_rows,
        "grades": GRADES,
        "rules_chart": chart,
        "rules_chart_height": max(220, 48 + 34 * len(rule_rows)),
    }


def _trend_chart(trend: list[dict]) -> dict:
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "top": 32, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [f"{row['day']:%m-%d}" for row in trend]},
        "yAxis": {"type": "value", "minInterval": 1, "name": "alerts"},
        "series": [
            {
                "name": "Opened",
                "type": "line",
                "symbol": "triangle",
                "itemStyle": {"color": "#c62828"},
                "data": [row["opened"] for row in trend],
            },
            {
                "name": "Closed",
                "type": "line",
                "symbol": "circle",
                "lineStyle": {"type": "dashed"},
                "itemStyle": {"color": "#2e7d32"},
                "data": [row["closed"] for row in trend],
            },
        ],
    }


def _health_chart(bins: list[dict]) -> dict:
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 16, "top": 24, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "name": "health", "data": [f"{b['low']}-{b['high']}" for b in bins]},
        "yAxis": {"type": "value", "minInterval": 1, "name": "positions"},
        "series": [
            {
                "name": "Positions",
                "type": "bar",
                "itemStyle": {"color": "#1f5fbf"},
                "label": {"show": True, "position": "top"},
                "data": [b["positions"] for b in bins],
            }
        ],
    }


def _read(figures: dict | None, path: str) -> object:
    value: object = figures
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _shown(value: object, unit: str, *, signed: bool = False) -> str:
    """A KPI as read: rates in percent, hours and days with their unit, a dash when unknown."""
    if value is None or value == "":
        return "\u2013"
    number = float(str(value)) * (100 if unit == "%" else 1)
    text = f"{number:{'+' if signed else ''},.2f}".rstrip("0").rstrip(".")
    return text + {"%": " %", "h": " h", "d": " d"}.get(unit, "")


def _kpis(report, slug: str) -> dict:  # noqa: ANN001
    """The closed month's headline figures with the month before's and the change."""
    changes = kpi_changes(report.figures, report.previous)
    rows = []
    for path, label, unit in KPI_HEADLINES:
        name = path.split(".")[0]
        rows.append(
            {
                "path": path,
                "label": label,
                "unit": unit,
                "value": _shown(_read(report.figures, path), unit),
                "previous": _shown(_read(report.previous, path), unit),
                "change": _shown(changes.get(path), unit, signed=True),
                "definition": KPI_DEFINITIONS.get(name, ""),
            }
        )
    month = f"{report.month:%Y-%m}"
    api = f"/api/v1/tenants/{slug}/kpis"
    replay = report.figures.get("replay") or {}
    return {
        "month": month,
        "closed_at": report.closed_at,
        "rows": rows,
        "replay": replay,
        "report_url": f"{api}/reports/{month}/",
        "csv_url": f"{api}/reports/{month}.csv",
        "live_url": f"{api}/?month={month}",
    }
