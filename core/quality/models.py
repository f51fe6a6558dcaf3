"""Stored warning backtests, the monthly KPI reports, and the threshold tuner's settings and proposals."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.alerts.models import PolicyChange, RuleScoped, rule_choices
from core.base_models import TimestampedModel
from core.inventory.models import Category, Sku, VelocityClass
from tenants.models import Tenant


class BacktestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WarningBacktest(TimestampedModel):
    """One replay of the warning engine over a past period, its progress and its report.

    ``policies`` says which policies were replayed: empty for the ones in force each day, else the
    settings replayed instead (a shadow run of a proposed change), so two policy sets can be
    compared on the same period.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day_from = models.DateField()
    day_to = models.DateField()
    label = models.CharField(max_length=200, blank=True, default="")
    policies = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED)
    requested_by = models.CharField(max_length=200)
    days_done = models.IntegerField(default=0)
    days_total = models.IntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta(TimestampedModel.Meta):
        indexes = [models.Index(fields=["tenant", "created_at"], name="warning_backtest_tenant")]

    def __str__(self) -> str:
        return f"warning backtest {self.day_from}..{self.day_to} of {self.tenant_id}"


class KpiMonthlyReport(TimestampedModel):
    """A closed month's KPIs, as reported (webhook and CSV), with the comparison to the month before."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month
    figures = models.JSONField(default=dict)
    previous = models.JSONField(default=dict, blank=True)
    closed_at = models.DateTimeField()

    class Meta(TimestampedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "month"], name="kpi_report_one_per_month")]

    def __str__(self) -> str:
        return f"KPIs of {self.month:%Y-%m} for {self.tenant_id}"


# --- The threshold tuner (core/quality/tuner.py, docs/tuning.md) -----------------------------------


class TuningMode(models.TextChoices):
    OFF = "off", "Off: the tuner does not run"
    PROPOSE = "propose", "Propose: planners accept or reject each change"
    AUTO = "auto", "Auto: a change that passes its shadow replay is applied"


class TuningSettings(TimestampedModel):
    """A tenant's threshold tuner: whether it runs, and how long a rule and scope rest after a step."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=16, choices=TuningMode.choices, default=TuningMode.OFF)
    cooldown_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Days a rule and scope rest after a proposal (applied, accepted, rejected or refused).",
    )

    def __str__(self) -> str:
        return f"tuning of {self.tenant_id}: {self.mode}"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a planner"
    ACCEPTED = "accepted", "Accepted by a planner and applied"
    REJECTED = "rejected", "Rejected by a planner"
    APPLIED = "applied", "Applied by the tuner (auto mode)"
    REFUSED = "refused", "Refused by its shadow replay"


class TuningProposal(RuleScoped, TimestampedModel):
    """One step of one rule's setting in one scope, with the evidence for it and its shadow replay.

    ``settings`` is what the step writes to the scope's policy; ``change`` the policy version that
    wrote it once applied or accepted.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=32, choices=rule_choices)
    velocity_class = models.CharField(max_length=32, choices=VelocityClass.choices, blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    run_on = models.DateField(help_text="The day the tuner ran for (its cool-down counts from it).")
    setting = models.CharField(max_length=64)
    direction = models.CharField(max_length=8)  # tighten (fewer alerts) | loosen (more, earlier)
    value_before = models.FloatField()
    value_after = models.FloatField()
    settings = models.JSONField(default=dict)
    evidence = models.JSONField(default=dict)
    replay = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=ProposalStatus.choices)
    refusal = models.CharField(max_length=500, blank=True, default="")
    decided_by = models.CharField(max_length=200, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True, default="")
    change = models.ForeignKey(PolicyChange, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta(TimestampedModel.Meta):
        indexes = [models.Index(fields=["tenant", "rule", "created_at"], name="tuning_proposal_tenant_rule")]

    def __str__(self) -> str:
        return f"{self.direction} {self.rule} {self.setting} {self.value_before:g} -> {self.value_after:g}"
