"""Transfer requests between warehouses (and to a distributor's own location), their ledger of
steps, the tenant's transfer policy and lanes, and the system's transfer plans."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.base_models import TimestampedModel
from core.inventory.models import Movement, Position, Sku, Warehouse
from tenants.models import Partner, Tenant


class TransferPolicy(TimestampedModel):
    """A tenant's rules for transfers: what approves itself, what a band means, what moving costs."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="transfer_policy")
    auto_approve_max_quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests of at most this many units approve themselves; empty: never."
    )
    auto_approve_requires_overstock = models.BooleanField(
        default=True, help_text="Only when the source carries an active overstock or slow-moving alert."
    )
    low_cover_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Banded views show 'low' below this many days of cover.",
    )
    cost_per_unit_km = models.DecimalField(
        max_digits=10,
        decimal_places=6,
        default=Decimal("0.002"),
        validators=[MinValueValidator(0)],
        help_text="Transport cost of one unit over one km where no lane sets its own.",
    )
    shortage_penalty_per_unit = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        default=Decimal("5"),
        validators=[MinValueValidator(0)],
        help_text="What a plan counts for each unit of demand it leaves short.",
    )

    def __str__(self) -> str:
        return f"transfer policy of {self.tenant_id}"


class TransferLane(TimestampedModel):
    """A lane's own cost per unit and km, overriding the policy's (a contracted carrier, a ferry)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    destination = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    cost_per_unit_km = models.DecimalField(max_digits=10, decimal_places=6, validators=[MinValueValidator(0)])

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source", "destination"], name="transfer_lane_unique"),
            models.CheckConstraint(condition=~Q(source=models.F("destination")), name="transfer_lane_two_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -> {self.destination_id}"


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved: reserved at the source"
    SHIPPED = "shipped", "Shipped: in transit"
    RECEIVED = "received", "Received"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class Approval(models.TextChoices):
    PERSON = "person", "By a person"
    POLICY = "policy", "By the tenant's auto-approval policy"
    PLAN = "plan", "By accepting a plan's move or a transfer proposal"


class TransferRequest(TimestampedModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    reference = models.CharField(max_length=32)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    source_position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="+", db_index=False)
    destination = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    destination_location = models.CharField(
        max_length=300, blank=True, default="", help_text="A place outside the tenant's warehouses."
    )
    quantity = models.PositiveIntegerField()
    needed_by = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True, default="")
    status = models.CharField(max_length=16, choices=TransferStatus.choices, default=TransferStatus.REQUESTED)
    requester = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfer_requests"
    )
    requested_by = models.CharField(max_length=200)
    approval = models.CharField(max_length=16, choices=Approval.choices, blank=True, default="")
    decided_by = models.CharField(max_length=200, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True, default="")
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    recommendation = models.ForeignKey(
        "playbooks.Recommendation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "reference"], name="transfer_unique_reference"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="transfer_quantity_positive"),
            models.CheckConstraint(
                condition=(Q(destination__isnull=False) & Q(destination_location=""))
                | (Q(destination__isnull=True) & ~Q(destination_location="")),
                name="transfer_one_destination",
            ),
            models.CheckConstraint(condition=~Q(source=models.F("destination")), name="transfer_two_ends"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "created_at"], name="transfer_tenant_status"),
            models.Index(fields=["tenant", "requester", "created_at"], name="transfer_tenant_requester"),
        ]

    def __str__(self) -> str:
        return self.reference


class LineKind(models.TextChoices):
    REQUESTED = "requested", "Requested"
    RESERVED = "reserved", "Reserved at the source"
    RELEASED = "released", "Reservation released"
    SHIPPED_OUT = "shipped_out", "Left the source (ledger transfer_out)"
    IN_TRANSIT = "in_transit", "In transit to the destination"
    RECEIVED_IN = "received_in", "Landed at the destination (ledger transfer_in)"
    DELIVERED = "delivered", "Delivered outside the tenant's warehouses"
    REJECTED = "rejected", "Rejected"


class TransferLine(models.Model):
    """One step of a transfer and its effect on stock; with the stock ledger's transfer_out and
    transfer_in lines it accounts for every reserved and moved unit."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    transfer = models.ForeignKey(TransferRequest, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    position = models.ForeignKey(Position, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(help_text="Signed effect on the line's measure (reserved, in transit, on hand).")
    movement = models.ForeignKey(Movement, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["transfer_id", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity}"


class PlanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class TransferPlan(TimestampedModel):
    """Moves the system proposes from idle stock to where it is short, at least cost."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.QUEUED)
    requested_by = models.CharField(max_length=200)
    summary = models.JSONField(default=dict, help_text="Sources, sinks, units, cost, shortage, timings.")
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimestampedModel.Meta):
        constraints = [
            # One plan at a time per tenant: a second start while one is queued or running is refused.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status__in=["queued", "running"]),
                name="transfer_plan_one_at_a_time",
            )
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="transfer_plan_tenant_created")]

    def __str__(self) -> str:
        return f"plan {self.pk} ({self.status})"


class MoveStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted: an approved transfer request"


class TransferPlanMove(models.Model):
    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    plan = models.ForeignKey(TransferPlan, on_delete=models.CASCADE, related_name="moves")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+", db_index=False)
    destination = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+", db_index=False)
    quantity = models.PositiveIntegerField()
    distance_km = models.FloatField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4)
    cost = models.DecimalField(max_digits=16, decimal_places=4)
    supply_alert = models.ForeignKey("alerts.Alert", null=True, on_delete=models.SET_NULL, related_name="+")
    demand_alert = models.ForeignKey("alerts.Alert", null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=MoveStatus.choices, default=MoveStatus.PROPOSED)
    transfer = models.OneToOneField(
        TransferRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="plan_move"
    )

    class Meta:
        ordering = ["plan_id", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku_id}: {self.source_id} -> {self.destination_id}"
