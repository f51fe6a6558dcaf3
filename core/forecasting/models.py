"""Stored forecasts: one row per position, refit when its history changes (``services``).

The daily series are PostgreSQL ``real[]`` arrays: one row carries the whole horizon, so a refresh
writes one row per position (not one per day) and a detail read is one index lookup. Four-byte
floats keep a 56-day row under 1 KB; forecast units need no more than seven significant digits.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from core.base_models import TimestampedModel
from core.forecasting.demand_class import DemandClass
from core.inventory.models import Position, Sku, Warehouse
from tenants.models import Tenant


class RealField(models.FloatField):
    """A four-byte float (PostgreSQL ``real``)."""

    def db_type(self, connection: object) -> str:
        return "real"


class Forecast(models.Model):
    """A position's latest forecast. Day 1 of every series is ``origin`` (the day after the last
    day of history read); ``cumulative_quantile[k-1]`` is the service-level quantile of demand over
    days 1..k."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The position's SKU and warehouse, kept on the row so lists filter and scope without a join.
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+", db_index=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+", db_index=False)
    origin = models.DateField()
    horizon = models.PositiveIntegerField()
    model = models.CharField(max_length=40)
    demand_class = models.CharField(max_length=16, choices=[(c.value, c.value) for c in DemandClass])
    adi = models.FloatField(null=True)  # NULL when no observed day had demand (ADI infinite)
    cv2 = models.FloatField()
    observed_days = models.PositiveIntegerField()
    censored_days = models.PositiveIntegerField()
    service_level = models.FloatField()
    reason = models.TextField(blank=True, default="")
    fitted_at = models.DateTimeField()
    # A digest of the history read, the horizon and the service level: equal means nothing to refit.
    fingerprint = models.CharField(max_length=32)
    mean = ArrayField(RealField())
    p50 = ArrayField(RealField())
    quantile = ArrayField(RealField())
    cumulative_quantile = ArrayField(RealField())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "position"], name="forecast_tenant_position")]
        indexes = [
            models.Index(fields=["tenant", "warehouse"], name="forecast_tenant_warehouse"),
            models.Index(fields=["tenant", "sku"], name="forecast_tenant_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.position_id}: {self.model} from {self.origin}"


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
