"""Tables of the forecasting app."""

from django.db import models

from core.base_models import TimestampedModel
from tenants.models import Tenant

# --- Forecast backtest (core/forecasting/backtest.py) ---------------------------------------------


class ForecastBacktest(TimestampedModel):
    """The latest rolling-origin backtest of a tenant: when it ran, with what parameters, and its report
    (accuracy per demand class, velocity class and overall, and the inventory replay). One row per
    tenant: a new run replaces it."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    ran_at = models.DateTimeField()
    parameters = models.JSONField(default=dict)
    report = models.JSONField(default=dict)

    class Meta(TimestampedModel.Meta):
        pass

    def __str__(self) -> str:
        return f"backtest of {self.tenant_id} at {self.ran_at:%Y-%m-%d %H:%M}"


# --- End of the forecast backtest's block ---------------------------------------------------------
