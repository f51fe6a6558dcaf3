"""Stored warning backtests and the monthly KPI reports."""

from django.db import models

from core.base_models import TimestampedModel
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
