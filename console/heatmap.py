"""The heat map: warehouses (or regions) x categories coloured by a metric the planner picks, and a
map of the warehouses coloured by the same metric.

Every figure is a field of ``indicators/rollup/``: the grid is one aggregate query (the rollup
grouped by rows and category, ``reading_grid(then_by="category")``, summing only what the metric
reads, with the rollup's own expressions), so each cell is the figure the API answers for
``?by=category&warehouse=<code>`` (or ``&region=``) and that category; the map's colours are the
``by=warehouse`` rollup's figures. A cell opens the alert inbox filtered to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import escape

from console.pages import ACTORS, READERS, ConsolePage
from console.warehouse_map import map_axes, map_point
from core.alerts import selectors as alert_selectors
from core.inventory.selectors import warehouse_list

ROWS = {"warehouse": "Warehouses", "region": "Regions"}
VIEWS = ("grid", "map")
GOOD_HIGH = ["#c62828", "#f4c542", "#2e7d32"]  # red, amber, green: low is bad
BAD_HIGH = list(reversed(GOOD_HIGH))


@dataclass(frozen=True)
class Metric:
    """One colouring of the grid: its label, how it reads a finished rollup row, which end is bad, and
    the rollup fields it reads (the only figures the page has the database sum)."""

    label: str
    read: Callable[[dict], int | float | Decimal | None]
    high_is_good: bool
    help: str
    fields: tuple[str, ...]


METRICS: dict[str, Metric] = {
    "health_index": Metric(
        "Health index (mean)",
        lambda row: row["health_index_mean"],
        True,
        "The mean health index (0-100) of the group's positions: the rollup's health_index_mean.",
        ("health_index_mean",),
    ),
    "days_of_cover": Metric(
        "Days of cover",
        lambda row: row["days_of_cover"],
        True,
        "Sum of available ÷ sum of 28-day average daily sales: the rollup's days_of_cover (empty when nothing sold).",
        ("days_of_cover",),
    ),
    "overstock_value": Metric(
        "Overstock value",
        lambda row: row["overstock_value"],
        False,
        "On hand x unit cost over the positions flagged overstock: the rollup's overstock_value.",
        ("overstock_value",),
    ),
    "stockout_risk": Metric(
        "Stock-out-risk positions",
        lambda row: row["stockout_risk_positions"],
        False,
        "How many of the group's positions are at risk of a stock-out: the rollup's stockout_risk_positions.",
        ("stockout_risk_positions",),
    ),
    "aged_stock": Metric(
        "Aged stock (units over 90 days)",
        lambda row: row["age_91_180"] + row["age_over_180"],
        False,
        "Units in lots received more than 90 days ago: the rollup's age_91_180 + age_over_180.",
        ("age_91_180", "age_over_180"),
    ),
}


def shown(value: int | float | Decimal | None) -> str:
    """A value as the table and tooltips print it: the API's own figure, a dash for none."""
    return "—" if value is None else str(value)


def _number(value: int | float | Decimal | None) -> float | str:
    """A value for ECharts: a number, or ``"-"`` (its mark for a missing value)."""
    return "-" if value is None else float(value)


def _visual_map(values: list, metric: Metric, dimension: int, **extra: object) -> dict:
    present = [float(v) for v in values if v is not None]
    low, high = (min(present), max(present)) if present else (0.0, 1.0)
    return {
        "type": "continuous",
        "min": low,
        "max": high if high > low else low + 1,
        "dimension": dimension,
        "calculable": True,
        "orient": "horizontal",
        "left": "center",
        "bottom": 0,
        "text": ["high", "low"],
        "inRange": {"color": GOOD_HIGH if metric.high_is_good else BAD_HIGH},
        **extra,
    }


class HeatmapPage(ConsolePage):
    """Where stock piles up or runs short, at a glance; and the place to start moving it."""

    section = "heatmap"
    access = {"GET": READERS}

    def get(self, request: HttpRequest) -> HttpResponse:
        errors = []
        metric_name = request.GET.get("metric", "health_index")
        if metric_name not in METRICS:
            errors.append(f"Unknown metric {metric_name!r}: choose one of {', '.join(METRICS)}.")
            metric_name = "health_index"
        rows_by = request.GET.get("rows", "warehouse")
        if rows_by not in ROWS:
            errors.append(f"Rows are warehouses or regions ('warehouse' or 'region'), not {rows_by!r}.")
            rows_by = "warehouse"
        view = request.GET.get("view", "grid")
        if view not in VIEWS:
            errors.append(f"Show the grid or the map ('grid' or 'map'), not {view!r}.")
            view = "grid"
        metric = METRICS[metric_name]
        readings = alert_selectors.reading_list(principal=self.principal)
        inbox = reverse("console:inbox", args=[self.tenant.slug])
        context = {
            "metrics": METRICS,
            "metric_name": metric_name,
            "metric": metric,
            "rows_choices": ROWS,
            "rows_by": rows_by,
            "view": view,
            "errors": errors,
            "draft_url": reverse("console:transfer-draft", args=[self.tenant.slug]) if self.may_move else "",
        }
        if view == "grid":
            cells = alert_selectors.reading_grid(
                readings=readings, by=rows_by, then_by="category", fields=metric.fields
            )
            context |= self._grid(cells, metric, rows_by, inbox)
        else:
            per_warehouse = alert_selectors.reading_grid(readings=readings, by="warehouse", fields=metric.fields)
            context |= self._map(per_warehouse, metric, inbox)
        return self.page(request, "console/heatmap.html", context, status=400 if errors else 200)

    @property
    def may_move(self) -> bool:
        """Whether the caller may draft transfers (the move page's POST)."""
        return self.principal.access in ACTORS

    def _grid(self, cells: list[dict], metric: Metric, rows_by: str, inbox: str) -> dict:
        rows = sorted({(cell["key"], cell["name"]) for cell in cells})
        columns = sorted({(cell["then_key"], cell["then_name"]) for cell in cells})
        row_index = {key: i for i, (key, _) in enumerate(rows)}
        column_index = {key: i for i, (key, _) in enumerate(columns)}
        table = {key: {} for key, _ in rows}
        data = []
        for cell in cells:
            value = metric.read(cell)
            url = f"{inbox}?{urlencode({rows_by: cell['key'], 'category': cell['then_key']})}"
            entry = {"value": value, "text": shown(value), "url": url, "positions": cell["positions"]}
            table[cell["key"]][cell["then_key"]] = entry
            data.append(
                {
                    "value": [column_index[cell["then_key"]], row_index[cell["key"]], _number(value)],
                    "url": url,
                    "row": cell["key"],
                    "category": cell["then_key"],
                    "label": shown(value),
                    # ECharts renders tooltips as HTML: the tenant's own names are escaped.
                    "tip": f"{escape(cell['name'])} \N{MULTIPLICATION SIGN} {escape(cell['then_name'])}"
                    f"<br>{metric.label}: {shown(value)}<br>{cell['positions']} positions · open the alerts",
                }
            )
        option = {
            "aria": {"enabled": True},
            "tooltip": {"trigger": "item"},
            "grid": {"left": 8, "right": 8, "top": 8, "bottom": 64, "containLabel": True},
            "xAxis": {
                "type": "category",
                "data": [code for code, _ in columns],
                "splitArea": {"show": True},
                "axisLabel": {"interval": 0, "rotate": 40 if len(columns) > 6 else 0},
            },
            "yAxis": {"type": "category", "data": [code for code, _ in rows], "splitArea": {"show": True}},
            "visualMap": _visual_map([cell["value"] for cell in table_cells(table)], metric, 2),
            "series": [
                {
                    "type": "heatmap",
                    "name": metric.label,
                    "data": data,
                    "label": {"show": True},
                    "emphasis": {"itemStyle": {"borderColor": "#14213d", "borderWidth": 2}},
                }
            ],
        }
        return {
            "option": option,
            "rows": rows,
            "columns": columns,
            "table": [(key, name, [(column, table[key].get(column)) for column, _ in columns]) for key, name in rows],
            "chart_height": max(260, 56 * len(rows) + 110),
        }

    def _map(self, per_warehouse: list[dict], metric: Metric, inbox: str) -> dict:
        by_code = {row["key"]: row for row in per_warehouse}
        points, unplaced, listed = [], [], []
        for warehouse in warehouse_list(tenant=self.tenant).order_by("code"):
            row = by_code.get(warehouse.code)
            value = metric.read(row) if row else None
            href = f"{inbox}?{urlencode({'warehouse': warehouse.code})}"
            listed.append((warehouse, value, href, row["positions"] if row else 0))
            place = map_point(warehouse)
            if place is None:
                unplaced.append(warehouse.code)
                continue
            points.append(
                {
                    "name": warehouse.code,
                    "value": [*place, _number(value)],
                    "code": warehouse.code,
                    "href": href,
                    "tip": f"{escape(warehouse.code)} · {escape(warehouse.name)} ({escape(warehouse.region)})<br>"
                    f"{metric.label}: "
                    f"{shown(value)}",
                }
            )
        option = {
            "aria": {"enabled": True},
            "tooltip": {"trigger": "item"},
            "grid": {"left": 28, "right": 24, "top": 24, "bottom": 80, "containLabel": True},
            **map_axes([point["value"][:2] for point in points]),
            "visualMap": _visual_map([v for _, v, _, _ in listed], metric, 2),
            "series": [
                {
                    "type": "scatter",
                    "name": metric.label,
                    "data": points,
                    "symbolSize": 26,
                    "label": {"show": True, "position": "top", "formatter": "{b}"},
                    "itemStyle": {"borderColor": "#14213d", "borderWidth": 1},
                }
            ],
        }
        return {"option": option, "warehouses": listed, "unplaced": unplaced}


def table_cells(table: dict[str, dict[str, dict]]) -> list[dict]:
    """Every cell of the grid's table, row by row."""
    return [cell for row in table.values() for cell in row.values()]
