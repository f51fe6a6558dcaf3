"""The outbox of domain events, partner endpoints, and each delivery with its attempts."""

from django.db import models
from django.db.models import Q

from core.base_models import TimestampedModel
from tenants.models import Partner, Tenant


class WebhookEndpoint(TimestampedModel):
    """A URL a partner (or the tenant's own systems, with no partner) receives events at.

    The secret signs deliveries; after a rotation the previous one stays valid, and both sign,
    until ``previous_secret_expires_at``. Secrets are shown once and never rendered again.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True, default="")
    event_types = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    # A delivery task sending to this endpoint holds it until then (taken and released with one
    # UPDATE each, no session lock): one task per endpoint at a time, so a slow receiver occupies
    # one worker slot and WEBHOOK_ENDPOINT_CONCURRENCY bounds its requests in flight. A task that
    # dies leaves it to run out.
    sending_until = models.DateTimeField(null=True, blank=True)

    class Meta(TimestampedModel.Meta):
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhook_endpoint_active")]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(models.Model):
    """A domain event written in the transaction of the change; the relay fans it out to endpoints.

    ``sku`` and ``warehouse`` say what the event is about, so partners only hear of what they are
    granted. An event addressed to one partner (``recipient``: an RFQ invitation) goes to that
    partner's endpoints and the tenant's own (its ERP's too), never to other partners; a ``staff_only``
    one only to the tenant's own and its ERP's.

    ``data`` is what the tenant's own endpoints receive; ``partner_payloads`` what each partner kind's
    endpoints receive, by kind, shaped where the event was emitted (through the access registry).
    A partner endpoint whose kind is not in it hears nothing of the event.
    """

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.CharField(max_length=40)  # unique by a constraint: no pattern index beside it
    type = models.CharField(max_length=64)
    data = models.JSONField()
    partner_payloads = models.JSONField(default=dict, blank=True)
    sku_id = models.UUIDField(null=True, blank=True)
    warehouse_id = models.UUIDField(null=True, blank=True)
    recipient_id = models.UUIDField(null=True, blank=True)
    staff_only = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["event_id"], name="outbox_unique_event_id")]
        indexes = [
            models.Index(fields=["id"], name="outbox_unrelayed", condition=Q(relayed_at__isnull=True)),
            models.Index(fields=["tenant", "created_at"], name="outbox_tenant_created"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending (first attempt or a retry is due)"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed: retries exhausted or endpoint disabled"


class Delivery(TimestampedModel):
    """One event to one endpoint. Every attempt of it carries the event's id as ``webhook-id``.

    ``queued_until`` says a task message for the next attempt is on the queue: until then the sweep
    leaves the delivery to it, and sends another only when it has passed without the message being
    taken (lost with Redis). Taking the message for an attempt clears it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    queued_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimestampedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")]
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="delivery_tenant_created"),
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=Q(state="pending")),
            # A delivery task claims one endpoint's due deliveries, oldest first.
            models.Index(
                fields=["endpoint", "next_attempt_at"], name="delivery_endpoint_due", condition=Q(state="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id}: {self.state}"


class DeliveryAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    response_body = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["delivery_id", "id"]

    def __str__(self) -> str:
        return f"attempt of {self.delivery_id}: {self.status_code or self.error}"
