"""Playbook records: the markdown, clearance or transfer an alert's grade calls for, kept for a
planner to accept or reject."""

from django.db import models
from django.db.models import Q

from core.base_models import TimestampedModel
from core.inventory.models import Position, Sku, Warehouse
from tenants.models import Tenant


class RecommendationKind(models.TextChoices):
    MARKDOWN = "markdown", "Markdown suggestion"
    CLEARANCE = "clearance", "Clearance plan"
    TRANSFER = "transfer", "Transfer proposal"


class RecommendationStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded: the alert changed grade or closed"


class Recommendation(TimestampedModel):
    """A playbook carried out as a record a planner accepts or rejects: one proposed per alert."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey("alerts.Alert", on_delete=models.CASCADE, related_name="playbook_records")
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="+", db_index=False)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+", db_index=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=16, choices=RecommendationKind.choices)
    grade = models.CharField(max_length=8)
    status = models.CharField(
        max_length=16, choices=RecommendationStatus.choices, default=RecommendationStatus.PROPOSED
    )
    method = models.CharField(max_length=32, help_text="How the figures were reached.")
    figures = models.JSONField(default=dict)
    summary = models.TextField()
    decided_by = models.CharField(max_length=200, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True, default="")

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["alert"], condition=Q(status="proposed"), name="recommendation_one_proposed_per_alert"
            ),
            models.UniqueConstraint(fields=["alert", "kind"], name="recommendation_once_per_alert_kind"),
        ]
        indexes = [models.Index(fields=["tenant", "status", "created_at"], name="recommendation_tenant_status")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.alert_id} ({self.status})"
