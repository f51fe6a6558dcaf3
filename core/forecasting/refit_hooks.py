"""What a refit tells the apps above forecasting, through a hook that forecasting declares and they fill.

Forecasting lies below alerts, so it never imports the engine: the alerts app registers its handler
in ``AlertsConfig.ready()``, and a refresh calls the handlers with the positions whose forecasts it
has just written (committed), so whatever reads the forecasts can look at those positions again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tenants.models import Tenant


class ForecastsChangedHandler(Protocol):
    def __call__(self, *, tenant: Tenant, position_ids: Sequence[int]) -> object: ...


_handlers: list[ForecastsChangedHandler] = []


def forecasts_changed_register(handler: ForecastsChangedHandler) -> None:
    """Call ``handler`` after a refresh wrote new forecasts of some positions."""
    if handler not in _handlers:
        _handlers.append(handler)


def forecasts_changed(*, tenant: Tenant, position_ids: Sequence[int]) -> None:
    if not position_ids:
        return
    for handler in _handlers:
        handler(tenant=tenant, position_ids=position_ids)
