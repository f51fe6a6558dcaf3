"""What the engine reads of the stored forecasts, as SQL it joins into its indicator statement.

The engine (core.alerts) sits above forecasting and reads forecasts set-based, many positions at
once, so it asks here for a subquery rather than naming the table. A forecast is read only while it
is fresh: its origin (day 1 of its series, the day it was fitted) at most ``FRESH_DAYS`` days before
the day evaluated and not after it. An older one describes demand the daily refresh should have
refitted by now; the engine then falls back to its moving average rather than trust it.
"""

from __future__ import annotations

from core.forecasting.models import Forecast

# The daily refresh refits every changed position; three days tolerate two missed refreshes.
FRESH_DAYS = 3


def fresh_forecasts_sql(*, tenant: str, positions: str, today: str) -> str:
    """SQL answering, for each position of ``positions`` (an array of position ids) in the tenant
    ``tenant`` with a fresh forecast as of ``today`` (placeholders): ``position_id``, ``forecast_shift``
    (days from the origin to today: the series' index of today's demand), ``forecast_model``,
    ``forecast_demand_class``, ``forecast_origin``, ``forecast_service_level`` and the ``forecast_mean``
    and ``forecast_cumulative_quantile`` series."""
    # An array, not a subquery: the planner then reads the (tenant, position) index per id; with a
    # subquery it chose a nested loop over the tenant's every forecast.
    return f"""
    SELECT fc.position_id, {today} - fc.origin AS forecast_shift, fc.model AS forecast_model,
           fc.demand_class AS forecast_demand_class, fc.origin AS forecast_origin,
           fc.service_level AS forecast_service_level, fc.mean AS forecast_mean,
           fc.cumulative_quantile AS forecast_cumulative_quantile
    FROM {Forecast._meta.db_table} fc
    WHERE fc.tenant_id = {tenant} AND fc.position_id = ANY({positions})
      AND fc.origin <= {today} AND fc.origin >= {today} - {FRESH_DAYS}"""  # noqa: S608 - a table name and the caller's SQL


def stored_forecasts(*, tenant_id: object, position_ids: list[int]) -> list[dict]:
    """The stored forecast of each listed position that has one, with the fields
    ``fresh_forecasts_sql`` answers (``forecast_`` prefixed) but the shift, which depends on the day
    asked: for readers that ask about many days at once (the quality replay), freshness being theirs
    to apply with ``FRESH_DAYS``."""
    rows = (
        Forecast.objects.filter(tenant_id=tenant_id, position_id__in=position_ids)
        .order_by("position_id")
        .values_list("position_id", "model", "demand_class", "origin", "service_level", "mean", "cumulative_quantile")
    )
    return [
        {
            "position_id": position_id,
            "forecast_model": model,
            "forecast_demand_class": demand_class,
            "forecast_origin": origin,
            "forecast_service_level": service_level,
            "forecast_mean": mean,
            "forecast_cumulative_quantile": quantile,
        }
        for position_id, model, demand_class, origin, service_level, mean, quantile in rows
    ]
