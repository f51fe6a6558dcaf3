"""Master data, stock positions and lots, the append-only movement ledger, and daily facts.

Large tables (positions, lots, movements, daily facts) use bigint keys and lead every unique
constraint and hot index with the tenant, so the schema stays distributable by tenant. Their
foreign keys carry no index of their own where a composite one leads with the same columns: each
index is paid for on every ingested line.
"""

import math
from collections.abc import Sequence

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from guardian.models import GroupObjectPermissionBase

from core.base_models import TimestampedModel
from tenants.models import Tenant


class WarehouseKind(models.TextChoices):
    DISTRIBUTION_CENTRE = "distribution_centre", "Distribution centre"
    STORE = "store", "Store"
    THIRD_PARTY = "third_party", "Third-party logistics"


class IndustryProfile(models.TextChoices):
    """Decides which indicators apply to a category and how its positions are forecast: expiry for
    FMCG, monthly coefficients and season ends for apparel, end of life for electronics
    (``core/forecasting/profiles.py``)."""

    FMCG = "fmcg", "Fast-moving consumer goods"
    ELECTRONICS = "electronics", "Electronics"
    APPAREL = "apparel", "Apparel"
    GENERAL = "general", "General"


class VelocityClass(models.TextChoices):
    CASH_COW = "cash_cow", "Cash cow"
    STRATEGIC_RESERVE = "strategic_reserve", "Strategic reserve"
    LONG_TAIL = "long_tail", "Long tail"


class SkuStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISCONTINUED = "discontinued", "Discontinued"


class Warehouse(TimestampedModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="warehouses")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=32, choices=WarehouseKind.choices)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(TimestampedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="warehouse_unique_code")]
        indexes = [models.Index(fields=["tenant", "region"], name="warehouse_tenant_region")]
        # A distributor granted only view_warehouse sees stock as bands (available, low, out).
        permissions = [("view_warehouse_quantities", "Can see exact stock quantities of the warehouse")]

    def __str__(self) -> str:
        return self.code


class WarehouseGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's direct-FK table for warehouse grants: the shared stock view filters by a join on
    it, not by the generic table's text object ids."""

    content_object = models.ForeignKey(Warehouse, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


MONTHS = 12
# A planner types coefficients to two decimals: their mean may miss 1 by that much.
SEASONAL_MEAN_TOLERANCE = 0.01


def seasonal_coefficients_problem(values: Sequence[object]) -> str | None:
    """Why ``values`` are not a category's monthly coefficients (12 positive numbers, January first,
    whose mean is 1 within ``SEASONAL_MEAN_TOLERANCE``), or None."""
    if len(values) != MONTHS:
        return f"Expected {MONTHS} monthly coefficients (January first), not {len(values)}."
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return "Expected numbers."
    if not all(v > 0 for v in values):
        return "Every monthly coefficient must be above 0 (a month without demand is 0.01, not 0)."
    mean = sum(values) / MONTHS
    if abs(mean - 1) > SEASONAL_MEAN_TOLERANCE:
        return f"The coefficients' mean must be 1 (within {SEASONAL_MEAN_TOLERANCE}); these average {mean:.4f}."
    return None


def validate_seasonal_coefficients(values: Sequence[object]) -> None:
    if (problem := seasonal_coefficients_problem(values)) is not None:
        raise ValidationError(problem)


class Category(TimestampedModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    profile = models.CharField(max_length=32, choices=IndustryProfile.choices, default=IndustryProfile.GENERAL)
    # Apparel: each calendar month's demand relative to the year's average, January first. Kept when
    # the profile changes, read only while it is apparel.
    seasonal_coefficients = ArrayField(
        models.FloatField(), size=MONTHS, null=True, blank=True, validators=[validate_seasonal_coefficients]
    )

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="category_unique_code"),
            models.CheckConstraint(
                condition=Q(seasonal_coefficients__isnull=True) | Q(seasonal_coefficients__len=MONTHS),
                name="category_seasonal_coefficients_12",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Sku(TimestampedModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="skus")
    velocity_class = models.CharField(max_length=32, choices=VelocityClass.choices, default=VelocityClass.LONG_TAIL)
    launch_date = models.DateField(null=True, blank=True)
    shelf_life_days = models.PositiveIntegerField(null=True, blank=True)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4)
    list_price = models.DecimalField(max_digits=12, decimal_places=4)
    status = models.CharField(max_length=16, choices=SkuStatus.choices, default=SkuStatus.ACTIVE)
    # Electronics: the last day the SKU sells, and the SKU that takes its place. Read by the forecast
    # (no demand after the day) where the category's profile is electronics; kept on any profile.
    end_of_life_on = models.DateField(null=True, blank=True)
    successor = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Apparel: the last day of the SKU's season, its last day of full-price selling.
    season_ends_on = models.DateField(null=True, blank=True)

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="sku_unique_code"),
            models.CheckConstraint(condition=~Q(successor=F("id")), name="sku_successor_not_itself"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="sku_unit_cost_not_negative"),
            models.CheckConstraint(condition=Q(list_price__gte=0), name="sku_list_price_not_negative"),
        ]
        indexes = [models.Index(fields=["tenant", "category"], name="sku_tenant_category")]

    def __str__(self) -> str:
        return self.code


class Position(models.Model):
    """Stock of one SKU in one warehouse, kept by the ledger. Available = on hand - reserved."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="positions")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="positions")
    on_hand = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    in_transit = models.BigIntegerField(default=0)
    # Set when the ledger changes the position; the warning engine clears it after evaluating.
    dirty_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sku", "warehouse"], name="position_unique_sku_warehouse"),
            # What alerts and readings reference with one composite foreign key (their tenant, SKU and
            # warehouse are their position's), checked in one lookup instead of four.
            models.UniqueConstraint(fields=["id", "tenant", "sku", "warehouse"], name="position_identity"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="position_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="position_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="position_reserved_within_on_hand"),
            models.CheckConstraint(condition=Q(in_transit__gte=0), name="position_in_transit_not_negative"),
        ]
        indexes = [
            models.Index(fields=["tenant", "warehouse"], name="position_tenant_warehouse"),
            models.Index(
                fields=["tenant", "dirty_since"], name="position_dirty", condition=Q(dirty_since__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.warehouse_id}"


class Lot(models.Model):
    """A received quantity with its age and expiry; sales consume lots first-expired-first-out."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="lots")
    lot_code = models.CharField(max_length=64, blank=True, default="")
    quantity = models.BigIntegerField()
    received_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=0), name="lot_quantity_not_negative")]
        indexes = [models.Index(fields=["tenant", "position"], name="lot_tenant_position")]

    def __str__(self) -> str:
        return f"lot {self.lot_code or self.pk} ({self.quantity})"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    SALE = "sale", "Sale"
    RETURN = "return", "Customer return"
    ADJUSTMENT = "adjustment", "Adjustment (signed)"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"


# Direction of each kind on on-hand stock; an adjustment carries its own sign.
INBOUND_KINDS = (MovementKind.RECEIPT, MovementKind.RETURN, MovementKind.TRANSFER_IN)
OUTBOUND_KINDS = (MovementKind.SALE, MovementKind.TRANSFER_OUT)


def signed_quantity_sql(alias: str = "") -> str:
    """SQL for a ledger line's effect on on-hand stock, for set-based writes and re-derivations."""
    prefix = f"{alias}." if alias else ""
    inbound = ", ".join(f"'{kind}'" for kind in INBOUND_KINDS)
    outbound = ", ".join(f"'{kind}'" for kind in OUTBOUND_KINDS)
    return (
        f"CASE WHEN {prefix}kind IN ({inbound}) THEN {prefix}quantity "
        f"WHEN {prefix}kind IN ({outbound}) THEN -{prefix}quantity ELSE {prefix}quantity END"
    )


def receipt_delay_sums_sql(alias: str = "s") -> str:
    """SQL for the daily facts' receipt lateness: count, sum and sum of squares of days late."""
    late = f"(({alias}.occurred_at AT TIME ZONE 'UTC')::date - {alias}.promised_on)"
    promised = f"{alias}.kind = 'receipt' AND {alias}.promised_on IS NOT NULL"
    return (
        f"count(*) FILTER (WHERE {promised}) AS receipts_promised, "
        f"COALESCE(sum({late}) FILTER (WHERE {promised}), 0) AS receipt_delay_days, "
        f"COALESCE(sum({late} * {late}) FILTER (WHERE {promised}), 0) AS receipt_delay_days_sq"
    )


class Movement(models.Model):
    """One line of the append-only ledger. A database trigger refuses UPDATE and DELETE."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="movements", db_index=False)
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    quantity = models.BigIntegerField(help_text="Positive, except an adjustment, which is signed and not zero.")
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=64, help_text="Who pushed it: a partner id, 'staff' or 'system'.")
    external_ref = models.CharField(max_length=128)
    order_ref = models.CharField(max_length=128, blank=True, default="")
    unit_price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # A receipt's promised day, from the purchase order: its lateness feeds lead-time volatility.
    promised_on = models.DateField(null=True, blank=True)
    batch_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source", "external_ref"], name="movement_unique_external_ref"),
            models.CheckConstraint(
                condition=(Q(kind="adjustment") & ~Q(quantity=0)) | (~Q(kind="adjustment") & Q(quantity__gt=0)),
                name="movement_quantity_sign",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "position", "occurred_at"], name="movement_position_time"),
            models.Index(fields=["tenant", "order_ref"], name="movement_order_ref", condition=~Q(order_ref="")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} ({self.external_ref})"


class DailyFact(models.Model):
    """Per position and day, maintained as lines arrive so nothing rescans the ledger.

    ``units_sold`` and ``revenue`` count clean sales only; flagged ones sit in ``units_flagged``
    until a planner dismisses the flag, when they move back.
    """

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="daily_facts", db_index=False)
    day = models.DateField()
    units_sold = models.BigIntegerField(default=0)
    revenue = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    units_returned = models.BigIntegerField(default=0)
    units_received = models.BigIntegerField(default=0)
    units_flagged = models.BigIntegerField(default=0)
    # Every line's signed effect on on-hand stock that day (adjustments and transfers too), so the
    # stock at the end of any past day is on hand now minus the net changes after it.
    net_change = models.BigIntegerField(default=0)
    # Receipts that carried a promised day: how many, and the sum and sum of squares of their
    # lateness in days, from which lead-time volatility follows without reading the ledger.
    receipts_promised = models.IntegerField(default=0)
    receipt_delay_days = models.BigIntegerField(default=0)
    receipt_delay_days_sq = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["position_id", "day"]
        constraints = [models.UniqueConstraint(fields=["tenant", "position", "day"], name="daily_fact_unique_day")]

    def __str__(self) -> str:
        return f"{self.position_id} {self.day}: {self.units_sold}"

    @property
    def average_price(self) -> object:
        return (self.revenue / self.units_sold) if self.units_sold else None


class AnomalyReason(models.TextChoices):
    REPEATED_ORDER_LINE = "repeated_order_line", "Repeated order line"
    NON_POSITIVE_PRICE = "non_positive_price", "Zero or negative price"
    SPIKE = "spike", "Spike beyond the position's robust baseline"


class AnomalyStatus(models.TextChoices):
    FLAGGED = "flagged", "Flagged"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Dismissed (counts again)"


class Anomaly(TimestampedModel):
    """A sale kept in the ledger but out of the indicators until a planner dismisses it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    movement = models.OneToOneField(Movement, on_delete=models.PROTECT, related_name="anomaly")
    reason = models.CharField(max_length=32, choices=AnomalyReason.choices)
    detail = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=AnomalyStatus.choices, default=AnomalyStatus.FLAGGED)
    reviewed_by = models.CharField(max_length=200, blank=True, default="")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimestampedModel.Meta):
        indexes = [models.Index(fields=["tenant", "status", "created_at"], name="anomaly_tenant_status")]

    def __str__(self) -> str:
        return f"{self.reason} on movement {self.movement_id}"


class IdempotencyRecord(models.Model):
    """A bulk push by Idempotency-Key: the same key and body answers the stored response."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # Whose key it is: every partner (and the tenant's staff) has a namespace of its own.
    source = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "source", "key"], name="idempotency_unique_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"
