"""Stored forecasts: one row per position, refit when its history changes (``services``).

The daily series are PostgreSQL ``real[]`` arrays: one row carries the whole horizon, so a refresh
writes one row per position (not one per day) and a detail read is one index lookup. Four-byte
floats keep a 56-day row under 1 KB; forecast units need no more than seven significant digits.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
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
    # The promotions the series were scaled for: [{id, starts_on, ends_on, uplift, source, promo_days}].
    promotions = models.JSONField(default=list)

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


# --- Promotions (core/forecasting/promotions.py, uplift.py) ---------------------------------------

MAX_DISCOUNT_PERCENT = 95


class Promotion(TimestampedModel):
    """A SKU on promotion from ``starts_on`` through ``ends_on`` (both inclusive) in some warehouses,
    or in every one (``all_warehouses``). Past promotions are kept: the forecast learns the uplift
    from them.

    ``warehouse_ids`` is an array rather than a link table: one row answers both questions asked of
    it, "does it overlap another promotion of the SKU" (``&&`` on the arrays) and "does it touch this
    position" (``@>``), without a join. A warehouse deleted later simply stops matching.
    ``expected_uplift`` is a multiplier of normal demand (1.8: 80 % more units sold per day).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    all_warehouses = models.BooleanField(default=False)
    warehouse_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_DISCOUNT_PERCENT)],
    )
    expected_uplift = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(50)],
    )
    note = models.CharField(max_length=500, blank=True, default="")
    external_ref = models.CharField(max_length=128, blank=True, default="")

    class Meta(TimestampedModel.Meta):
        ordering = ["starts_on", "created_at", "id"]
        indexes = [models.Index(fields=["tenant", "sku", "starts_on"], name="promotion_tenant_sku_start")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="promotion_ends_after"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=MAX_DISCOUNT_PERCENT),
                name="promotion_discount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(all_warehouses=True) | ~models.Q(warehouse_ids=[]),
                name="promotion_has_warehouses",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} {self.starts_on}..{self.ends_on} -{self.discount_percent}%"


# --- End of the promotions' block -----------------------------------------------------------------
