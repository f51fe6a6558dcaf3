"""Policies, indicator readings, alerts with their timeline, evaluation runs and market signals."""

from django.db import models
from django.db.models import Q

from core.base_models import TimestampedModel
from core.inventory.models import Category, Position, Sku, VelocityClass, Warehouse
from tenants.models import Tenant


class Grade(models.TextChoices):
    YELLOW = "yellow", "Yellow"
    ORANGE = "orange", "Orange"
    RED = "red", "Red"


# Severity order, for escalation and de-escalation.
GRADE_RANK = {Grade.YELLOW: 1, Grade.ORANGE: 2, Grade.RED: 3}


class RuleCode(models.TextChoices):
    SLOW_MOVING = "slow_moving", "Slow-moving"
    OVERSTOCK = "overstock", "Overstock"
    STOCK_OUT_RISK = "stock_out_risk", "Stock-out risk"
    LAUNCH_CHECK = "launch_check", "Launch check"
    DECLINING_PRODUCT = "declining_product", "Declining product"
    EXPIRY_RISK = "expiry_risk", "Expiry risk"
    THREE_DIMENSION_RISK = "three_dimension_risk", "Demand, supply and competition risk"
    PROMOTION_SHORTFALL = "promotion_shortfall", "Promotion shortfall"
    OBSOLESCENCE_RISK = "obsolescence_risk", "Obsolescence risk"
    SEASON_END_OVERSTOCK = "season_end_overstock", "Season-end overstock"


def rule_choices() -> list[tuple[str, str]]:
    """``RuleCode``'s choices, read when asked: the columns' migrations name this function rather
    than copy the list, so a new rule (an enum value and its RuleSpec) needs no migration."""
    return RuleCode.choices


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


class DismissReason(models.TextChoices):
    """Why a person dismissed an alert: the tuner reads false alarms and lead-time complaints from these."""

    FALSE_ALARM = "false_alarm", "False alarm: the position needed nothing"
    TOO_EARLY = "too_early", "Right, but too early to act on"
    TOO_LATE = "too_late", "Right, but too late to act on"
    DUPLICATE = "duplicate", "Another alert says the same"
    OTHER = "other", "Another reason, said in the note"


# An alert someone still has to act on: the engine holds it, and it was neither dismissed nor resolved.
LIVE_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
LIVE = Q(active=True, status__in=LIVE_STATUSES)


class RuleScoped:
    """What a row about one rule in one scope (a policy, a policy version, a tuner's step) is scoped
    to, from its ``sku_id``, ``category_id`` and ``velocity_class``: at most one is set."""

    @property
    def scope(self) -> str:
        if self.sku_id:
            return "sku"
        if self.category_id:
            return "category"
        if self.velocity_class:
            return "velocity_class"
        return "tenant"


class AlertPolicy(RuleScoped, TimestampedModel):
    """Thresholds of one rule for a scope: the tenant (no scope), a velocity class, a category or a SKU.

    Every setting left empty is inherited from the next less specific policy, and in the end from
    the rule's built-in default: SKU, then category, then velocity class, then the tenant.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=32, choices=rule_choices)
    velocity_class = models.CharField(max_length=32, choices=VelocityClass.choices, blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    enabled = models.BooleanField(null=True, blank=True)
    standard = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    yellow = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    orange = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    red = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    thresholds = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=500, blank=True, default="")

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "rule", "velocity_class", "category", "sku"],
                name="alert_policy_unique_scope",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=~(~Q(velocity_class="") & Q(category__isnull=False))
                & ~(~Q(velocity_class="") & Q(sku__isnull=False))
                & ~Q(category__isnull=False, sku__isnull=False),
                name="alert_policy_one_scope",
            ),
            # Bands come as a set, each above the one before: grading needs all three in order.
            models.CheckConstraint(
                condition=Q(yellow__isnull=True, orange__isnull=True, red__isnull=True)
                | Q(yellow__gt=0, orange__gt=models.F("yellow"), red__gt=models.F("orange")),
                name="alert_policy_bands_increase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} policy ({self.scope_label})"

    @property
    def scope_label(self) -> str:
        if self.sku_id:
            return f"SKU {self.sku.code}"
        if self.category_id:
            return f"category {self.category.code}"
        if self.velocity_class:
            return f"velocity class {self.velocity_class}"
        return "tenant default"


class PolicyChangeAction(models.TextChoices):
    CREATED = "created", "Policy created"
    UPDATED = "updated", "Policy changed"
    DELETED = "deleted", "Policy deleted"


class PolicyChange(RuleScoped, TimestampedModel):
    """One version of a tenant's policies: a policy created, changed or deleted, with its scope's
    settings before and after (null: no policy), who did it and why.

    Versions number the tenant's changes in order; rebuilding the policies in force at a past time
    (``core.alerts.policy_versions``) replays them. The tuner's changes carry their evidence and the
    shadow replay's figures; a revert is a new version pointing at the one it undoes.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=PolicyChangeAction.choices)
    rule = models.CharField(max_length=32, choices=rule_choices)
    velocity_class = models.CharField(max_length=32, choices=VelocityClass.choices, blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    author = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, blank=True, default="")
    evidence = models.JSONField(default=dict, blank=True)
    replay = models.JSONField(default=dict, blank=True)
    reverts = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta(TimestampedModel.Meta):
        ordering = ["tenant_id", "version"]
        constraints = [models.UniqueConstraint(fields=["tenant", "version"], name="policy_change_unique_version")]
        indexes = [models.Index(fields=["tenant", "rule", "created_at"], name="policy_change_tenant_rule")]

    def __str__(self) -> str:
        return f"policy version {self.version}: {self.rule} {self.action}"


class IndicatorReading(models.Model):
    """The latest health reading of one position, rewritten only when a value changes.

    The series behind it (weekly sales and sell-through, health components, signals) are not
    stored: the detail endpoint computes them for its one position, so a full run writes numbers only.
    """

    # As on Alert: one composite foreign key to the position (migration 0004) instead of four.
    position = models.OneToOneField(
        Position, on_delete=models.CASCADE, primary_key=True, related_name="reading", db_constraint=False
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    as_of = models.DateField()
    on_hand = models.BigIntegerField()
    available = models.BigIntegerField()
    in_transit = models.BigIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4)
    ads_7 = models.FloatField()
    ads_28 = models.FloatField()
    ads_90 = models.FloatField()
    units_sold_90 = models.BigIntegerField()
    days_of_cover = models.FloatField(null=True)
    average_on_hand_90 = models.FloatField()
    turnover_days = models.FloatField(null=True)
    turnover_rate = models.FloatField(null=True)
    sell_through_28 = models.FloatField(null=True)
    wow_change = models.FloatField(null=True)
    weekly_declines = models.IntegerField()
    age_0_30 = models.BigIntegerField()
    age_31_60 = models.BigIntegerField()
    age_61_90 = models.BigIntegerField()
    age_91_180 = models.BigIntegerField()
    age_over_180 = models.BigIntegerField()
    weighted_age_days = models.FloatField(null=True)
    expiry_at_risk = models.BigIntegerField()
    days_to_expiry = models.IntegerField(null=True)
    lead_time_days = models.IntegerField(null=True)
    longest_lead_time_days = models.IntegerField(null=True)
    lead_time_volatility_days = models.FloatField(null=True)
    demand_sigma_28 = models.FloatField()
    safety_stock_cover = models.FloatField()
    safety_stock_service = models.FloatField()
    reorder_point_cover = models.FloatField()
    reorder_point_service = models.FloatField()
    # Approved transfers to the position not shipped yet (shipped ones and awarded orders are in transit).
    inbound_approved = models.BigIntegerField(default=0, db_default=0)
    # Which demand days_of_cover divides the stock by: the position's fresh forecast (available + in
    # transit + approved inbound, day by day) or the 28-day moving average (available / ads_28).
    days_of_cover_source = models.CharField(max_length=16, default="moving_average", db_default="moving_average")
    projected_stock_out_on = models.DateField(null=True)
    safety_stock_forecast = models.FloatField(null=True)
    reorder_point_forecast = models.FloatField(null=True)
    stockout_risk = models.BooleanField()
    overstock = models.BooleanField()
    health_index = models.SmallIntegerField()
    # A hash of the values above: a re-run compares it and writes only readings that changed. 0 is
    # "not hashed": the database gives it to a row inserted without a fingerprint (by SQL outside
    # the engine), and since it matches no computed hash but by a 1 in 2^64 chance, the next run
    # rewrites that reading with its own figures.
    fingerprint = models.BigIntegerField(default=0, db_default=0)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["position_id"]
        indexes = [
            models.Index(fields=["tenant", "health_index"], name="reading_tenant_health"),
            models.Index(fields=["tenant", "sku"], name="reading_tenant_sku"),
            models.Index(fields=["tenant", "warehouse"], name="reading_tenant_warehouse"),
        ]

    def __str__(self) -> str:
        return f"reading of {self.position_id}: {self.health_index}"


class Alert(TimestampedModel):
    """One rule tripped on one position. At most one active alert per (position, rule).

    Active means the engine still holds it: open or acknowledged, or dismissed while the condition
    lasts (a dismissed alert keeps the slot, so the same condition does not open a new one).
    """

    # One composite foreign key (migration 0004) checks all four against the position in one lookup:
    # the alert's tenant, SKU and warehouse are its position's. Four single ones cost four.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    position = models.ForeignKey(
        Position, on_delete=models.CASCADE, related_name="alerts", db_index=False, db_constraint=False
    )
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    rule = models.CharField(max_length=32, choices=rule_choices)
    direction = models.CharField(max_length=16)
    grade = models.CharField(max_length=8, choices=Grade.choices)
    peak_grade = models.CharField(max_length=8, choices=Grade.choices)
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    active = models.BooleanField(default=True)
    deviation = models.FloatField(null=True, blank=True)
    explanation = models.TextField()
    inputs = models.JSONField(default=dict)
    thresholds = models.JSONField(default=dict)
    recommendation = models.JSONField(default=dict)
    # A hash of the five fields above, so a re-run compares alerts without loading their JSON.
    fingerprint = models.CharField(max_length=16, blank=True, default="")
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    dismissed_reason = models.CharField(max_length=16, choices=DismissReason.choices, blank=True, default="")
    dismissed_note = models.CharField(max_length=500, blank=True, default="", db_default="")
    snoozed_until = models.DateTimeField(null=True, blank=True)

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "position", "rule"], condition=Q(active=True), name="alert_one_active_per_rule"
            ),
            models.CheckConstraint(
                condition=Q(active=False) | ~Q(status="resolved"), name="alert_resolved_is_not_active"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "created_at"], name="alert_tenant_status"),
            models.Index(fields=["tenant", "sku", "created_at"], name="alert_tenant_sku"),
            models.Index(fields=["tenant", "warehouse", "created_at"], name="alert_tenant_warehouse"),
        ]

    def __str__(self) -> str:
        return f"{self.grade} {self.rule} on {self.position_id}"


class AlertEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    ESCALATED = "escalated", "Escalated"
    DEESCALATED = "deescalated", "De-escalated"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    WOKEN = "woken", "Snooze ended by escalation"
    RESOLVED = "resolved", "Resolved by a person"
    AUTO_RESOLVED = "auto_resolved", "Resolved: the position recovered"
    DISMISSED = "dismissed", "Dismissed"
    REOPENED = "reopened", "Reopened: worse than when dismissed"
    CLEARED = "cleared", "Dismissed condition cleared"
    RFQ_OPENED = "rfq_opened", "RFQ sent to backup suppliers"
    RESPONSE_HELD = "response_held", "Response held by a tenant limit"
    RECOMMENDED = "recommended", "Playbook proposed"


class AlertEvent(models.Model):
    """One change on an alert's timeline, with who or what made it."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=AlertEventKind.choices)
    from_grade = models.CharField(max_length=8, choices=Grade.choices, blank=True, default="")
    to_grade = models.CharField(max_length=8, choices=Grade.choices, blank=True, default="")
    actor = models.CharField(max_length=200)
    note = models.CharField(max_length=500, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["alert_id", "id"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor}"


class EvaluationTrigger(models.TextChoices):
    MANUAL = "manual", "Started over the API"
    SCHEDULED = "scheduled", "Full sweep on the schedule"
    INCREMENTAL = "incremental", "Incremental pass over changed positions"


class EvaluationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class EvaluationRun(TimestampedModel):
    """One pass of the engine, chunk by chunk; ``cursor`` is the last position id done, so a run
    whose worker died resumes where it stopped."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=16, choices=EvaluationTrigger.choices)
    status = models.CharField(max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.QUEUED)
    requested_by = models.CharField(max_length=200)
    as_of = models.DateField()
    positions_total = models.IntegerField(default=0)
    positions_done = models.IntegerField(default=0)
    cursor = models.BigIntegerField(default=0)
    counts = models.JSONField(default=dict)
    attempts = models.SmallIntegerField(default=0)
    lease = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta(TimestampedModel.Meta):
        constraints = [
            # One full run at a time per tenant; incremental passes serialize on a lock instead.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status__in=["queued", "running"]) & ~Q(trigger="incremental"),
                name="evaluation_one_full_run_at_a_time",
            )
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="evaluation_tenant_created")]

    def __str__(self) -> str:
        return f"{self.trigger} evaluation {self.status}"


class Signal(models.Model):
    """Market signals of one SKU on one day, pushed in bulk; any of them may be missing."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    competitor_price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    social_volume = models.BigIntegerField(null=True, blank=True)
    supplier_lead_time_index = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["sku_id", "day"]
        constraints = [models.UniqueConstraint(fields=["tenant", "sku", "day"], name="signal_unique_day")]

    def __str__(self) -> str:
        return f"signals of {self.sku_id} on {self.day}"
