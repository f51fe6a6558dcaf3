"""Reads of stored forecasts, by who is asking (the access registry decides).

A forecast is a figure of the position's demand, so it follows what the registry says of a
position's quantities:

- staff and the ERP (scope: the whole tenant, quantities shown) read every forecast with its series;
- a distributor (scope: its granted warehouses) reads the forecasts of the warehouses granted to it
  with exact quantities; a warehouse granted as bands shows no forecast at all (a forecast cannot be
  a band);
- a supplier (scope: the SKUs it supplies, quantities hidden) reads which model and demand class
  each of its SKUs' positions has and when it was fitted; the figures are null;
- a kind the registry does not know reads nothing.
"""

from __future__ import annotations

from django.db.models import QuerySet

from core.access import registry as access
from core.access.scope import rows_visible
from core.exceptions import NotFound
from core.forecasting.models import Forecast, ForecastBacktest
from tenants.principals import Principal


def forecast_list(*, principal: Principal) -> QuerySet[Forecast]:
    """The forecasts the principal may see, each with ``figures``: whether its numbers are shown."""
    forecasts = (
        Forecast.objects.filter(rows_visible(principal), tenant=principal.tenant)
        .select_related("sku__category", "warehouse")
        .annotate(figures=access.shown(principal, "quantities"))
        .order_by("position_id")
    )
    if access.levels_of(access.kind_of(principal)) not in ([], [None]):
        # A kind with grant levels sees a forecast only where its grant shows the quantities.
        forecasts = forecasts.filter(figures=True)
    return forecasts


def forecast_get(*, principal: Principal, position_id: object) -> Forecast:
    """One position's forecast; a missing, foreign or hidden one is the same 404."""
    try:
        number = int(str(position_id))
    except ValueError:
        raise NotFound from None
    found = forecast_list(principal=principal).filter(position_id=number).first() if 0 < number < 2**63 else None
    if found is None:
        raise NotFound
    return found


ACCURACY_FIGURES = ("rmsse_mean", "wrmsse", "wape", "bias", "pinball_loss", "coverage")


def class_accuracy(*, forecast: Forecast) -> dict | None:
    """The tenant's latest backtest figures for the forecast's demand class (the forecast method's,
    not the baselines'): None until a backtest ran, or when it had no position of that class."""
    latest = ForecastBacktest.objects.filter(tenant_id=forecast.tenant_id).values("ran_at", "report").first()
    if latest is None:
        return None
    figures = ((latest["report"] or {}).get("by_demand_class") or {}).get(forecast.demand_class, {}).get("forecast")
    if not figures:
        return None
    return {
        "ran_at": latest["ran_at"],
        "positions": figures.get("positions"),
        **{name: figures.get(name) for name in ACCURACY_FIGURES},
    }
