"""What-if sandbox: a scenario over chosen positions, before and after, as the engine would read them.

The page is a form; posting it runs ``core.alerts.sandbox.sandbox_run`` (which writes nothing) and
answers the results, as a fragment to htmx or as the whole page without it. Running it changes
nothing, so analysts may post it too: it is a read that carries a form. Refused input answers 400
with its messages where the results go.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.pages import READERS, ConsolePage
from core.alerts.sandbox import (
    DEMAND_SHOCK,
    KIND_LABELS,
    KINDS,
    PROMOTION,
    PositionOutcome,
    SandboxResult,
    Scenario,
    sandbox_run,
)

CHARTED_POSITIONS = 50  # positions selectable in the chart, the most affected first
LISTED_POSITIONS = 200  # rows of the per-position table, the most affected first
_CODES = re.compile(r"[\s,;]+")


class SandboxForm(forms.Form):
    """The form as typed: types are checked here, ranges and codes by the sandbox itself."""

    skus = forms.CharField(label="SKU codes", required=False, help_text="Separated by commas or spaces.")
    warehouses = forms.CharField(label="Warehouse codes", required=False, help_text="Empty or all: every warehouse.")
    kind = forms.CharField(label="Scenario", required=False)
    discount_percent = forms.FloatField(label="Discount %", required=False)
    days = forms.IntegerField(label="Days", required=False)
    start_offset = forms.IntegerField(label="Starting in (days)", required=False)
    factor = forms.FloatField(label="Demand x k", required=False)
    delay_days = forms.IntegerField(label="Extra lead time (days)", required=False)
    quantity = forms.IntegerField(label="Quantity", required=False)
    transfer_sku = forms.CharField(label="SKU to move", required=False)
    from_warehouse = forms.CharField(label="From warehouse", required=False)
    to_warehouse = forms.CharField(label="To warehouse", required=False)

    def sku_codes(self) -> list[str]:
        return [code for code in _CODES.split(self.cleaned_data["skus"].strip()) if code]

    def warehouse_codes(self) -> list[str] | None:
        """None: every warehouse (the field left empty or ``all``)."""
        codes = [code for code in _CODES.split(self.cleaned_data["warehouses"].strip()) if code]
        return None if not codes or [code.lower() for code in codes] == ["all"] else codes

    def scenario(self) -> Scenario:
        data = self.cleaned_data
        return Scenario(
            kind=data["kind"].strip(),
            discount_percent=data["discount_percent"],
            days=data["days"],
            start_offset=data["start_offset"] or 0,
            factor=data["factor"],
            delay_days=data["delay_days"],
            quantity=data["quantity"],
            # The one SKU chosen is the one to move unless another is named.
            transfer_sku=data["transfer_sku"].strip() or (skus[0] if len(skus := self.sku_codes()) == 1 else ""),
            from_warehouse=data["from_warehouse"].strip(),
            to_warehouse=data["to_warehouse"].strip(),
        )


def _messages(form: SandboxForm, errors: dict[str, list[str]]) -> list[str]:
    """Each refusal worded with the field it concerns."""
    out = []
    for name, messages in errors.items():
        label = form.fields[name].label if name in form.fields else None
        out.extend(f"{label}: {message}" if label and name != "__all__" else message for message in messages)
    return out


class SandboxPage(ConsolePage):
    section = "sandbox"
    access = {"GET": READERS, "POST": READERS}

    def get(self, request: HttpRequest) -> HttpResponse:
        form = SandboxForm(initial={"kind": "demand_shock", "factor": 2, "days": 14, "start_offset": 0})
        return self.page(request, "console/sandbox.html", self._context(form))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SandboxForm(request.POST)
        result, errors, took = None, [], None
        if not form.is_valid():
            errors = _messages(form, form.errors)
        else:
            started = time.perf_counter()
            try:
                result = sandbox_run(
                    tenant=self.tenant,
                    sku_codes=form.sku_codes(),
                    warehouse_codes=form.warehouse_codes(),
                    scenario=form.scenario(),
                )
            except ValidationError as refused:
                errors = _messages(form, refused.message_dict)
            took = round((time.perf_counter() - started) * 1000)
        context = {**self._context(form), "errors": errors, "took_ms": took, **_results(result)}
        status = 400 if errors else 200
        if request.headers.get("HX-Request"):
            return render(request, "console/sandbox_results.html", context, status=status)
        return self.page(request, "console/sandbox.html", context, status=status)

    def _context(self, form: SandboxForm) -> dict:
        return {"form": form, "kinds": [(kind, KIND_LABELS[kind]) for kind in KINDS]}


def _impact(outcome: PositionOutcome) -> tuple:
    """Most affected first: the change in stock-out days, then alerts opening or clearing."""
    moved = abs(outcome.after.stock_out_days - outcome.before.stock_out_days)
    return (-moved, -(len(outcome.opening) + len(outcome.clearing)), outcome.sku, outcome.warehouse)


def _results(result: SandboxResult | None) -> dict:
    if result is None:
        return {"result": None}
    ranked = sorted(result.positions, key=_impact)
    days = result.days()
    window = _window(result)
    charts = [
        {
            "id": "sandbox-chart-all",
            "label": f"All {len(result.positions)} positions, rolled up",
            "option": _chart(days, result.stock_before, result.stock_after, window),
            "rows": _series_rows(days, result.stock_before, result.stock_after),
        }
    ]
    for index, outcome in enumerate(ranked[:CHARTED_POSITIONS]):
        charts.append(
            {
                "id": f"sandbox-chart-{index}",
                "label": f"{outcome.sku} @ {outcome.warehouse}",
                "option": _chart(days, outcome.before.stock, outcome.after.stock, window),
                "rows": _series_rows(days, outcome.before.stock, outcome.after.stock),
            }
        )
    summary = result.summary()
    for name in ("before", "after"):
        side = summary[name]
        side["first_stock_out_on"] = _day(result, side["first_stock_out_day"])
        side["rolled_up_stock_out_on"] = _day(result, side["rolled_up_stock_out_day"])
    rows = [
        {
            "outcome": outcome,
            "before_out_on": _day(result, outcome.before.first_stock_out_day),
            "after_out_on": _day(result, outcome.after.first_stock_out_day),
        }
        for outcome in ranked[:LISTED_POSITIONS]
    ]
    return {
        "result": result,
        "summary": summary,
        "charts": charts,
        "rows": rows,
        "listed": len(rows),
        "described": result.scenario.describe(),
    }


def _day(result: SandboxResult, day: int | None) -> str | None:
    return None if day is None else (result.today + timedelta(days=day)).isoformat()


def _series_rows(days: list, before: list[float], after: list[float]) -> list[tuple]:
    return [(day.isoformat(), b, a) for day, b, a in zip(days, before, after, strict=True)]


def _window(result: SandboxResult) -> tuple[int, int] | None:
    """The days of the horizon a promotion or demand shock runs on (first, last), if any."""
    scenario = result.scenario
    if scenario.kind not in (PROMOTION, DEMAND_SHOCK) or scenario.start_offset >= result.horizon:
        return None
    return scenario.start_offset, min(scenario.start_offset + scenario.days, result.horizon) - 1


def _chart(days: list, before: list[float], after: list[float], window: tuple[int, int] | None) -> dict:
    """Projected stock before and after, day by day: a solid and a dashed line (told apart without
    colour), the zero line marked, the scenario's days shaded and named, values in the tooltip."""
    after_series: dict = {
        "name": "After",
        "type": "line",
        "data": after,
        "showSymbol": False,
        "lineStyle": {"width": 2, "type": "dashed"},
    }
    if window is not None:
        first, last = (days[day].isoformat() for day in window)
        after_series["markArea"] = {
            "silent": True,
            "itemStyle": {"color": "#9ca3af", "opacity": 0.15},
            "label": {"show": True, "position": "insideTop", "formatter": "scenario", "color": "#374151"},
            "data": [[{"xAxis": first}, {"xAxis": last}]],
        }
    return {
        "aria": {"enabled": True},
        "color": ["#2f5bd3", "#b45309"],
        "tooltip": {"trigger": "axis"},
        "legend": {"data": ["Before", "After"], "top": 0},
        "grid": {"left": 8, "right": 16, "top": 32, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [day.isoformat() for day in days], "boundaryGap": False},
        "yAxis": {"type": "value", "name": "units"},
        "series": [
            {
                "name": "Before",
                "type": "line",
                "data": before,
                "showSymbol": False,
                "lineStyle": {"width": 2},
                "markLine": {"silent": True, "symbol": "none", "data": [{"yAxis": 0}], "label": {"show": False}},
            },
            after_series,
        ],
    }
