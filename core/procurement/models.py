"""Procurement: per-tenant limits, RFQs and their invitations, quotes, purchase orders, playbook records."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase

from core.base_models import TimestampedModel
from core.inventory.models import Position, Sku, Warehouse
from core.supply.models import SupplierOffer
from tenants.models import Partner, Tenant


class ProcurementLimits(TimestampedModel):
    """Per-tenant ceilings, so that an alert storm cannot flood the suppliers."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="procurement_limits")
    rfqs_per_hour = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(0), MaxValueValidator(10_000)]
    )
    invitations_per_rfq = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    quote_revisions = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Quotes a supplier may submit on one RFQ: the first and its revisions.",
    )

    def __str__(self) -> str:
        return f"limits of {self.tenant_id}"


class RfqStatus(models.TextChoices):
    OPEN = "open", "Open: collecting quotes"
    AWAITING_AWARD = "awaiting_award", "Quotes closed; a planner picks the winner"
    AWARDED = "awarded", "Awarded"
    UNANSWERED = "unanswered", "No usable quote from any invited supplier"
    CANCELLED = "cancelled", "Cancelled"


OPEN_RFQ_STATUSES = (RfqStatus.OPEN, RfqStatus.AWAITING_AWARD)


class SupplierRfqStatus(models.TextChoices):
    """An RFQ's status as an invited supplier is told it: whether quotes are taken, whether the
    tenant is still choosing, or that it is decided. How it ended for the supplier is the status of
    its invitation; how it ended for others is not the supplier's business."""

    OPEN = "open", "Open: quotes are taken until respond_by"
    AWAITING_AWARD = "awaiting_award", "Quotes closed; a planner of the tenant picks the winner"
    CLOSED = "closed", "Decided: awarded, unanswered or cancelled (see invitation_status)"


# Every other status of an RFQ is CLOSED to a supplier.
SUPPLIER_RFQ_STATUS = {
    RfqStatus.OPEN: SupplierRfqStatus.OPEN,
    RfqStatus.AWAITING_AWARD: SupplierRfqStatus.AWAITING_AWARD,
}


class AwardRule(models.TextChoices):
    LOWEST_LANDED_COST = "lowest_landed_cost", "Lowest landed cost that meets the needed-by date"
    MANUAL = "manual", "A planner picks"


class Rfq(TimestampedModel):
    """A request for quotes for one position, opened by a stock-out alert or by a planner.

    At most one open RFQ per SKU x warehouse, and at most one per alert ever: a re-run, a retried
    task or an escalation finds the one that exists.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    reference = models.CharField(max_length=32)
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="+", db_index=False)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+", db_index=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+", db_index=False)
    alert = models.ForeignKey("alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="rfqs")
    status = models.CharField(max_length=16, choices=RfqStatus.choices, default=RfqStatus.OPEN)
    award_rule = models.CharField(max_length=24, choices=AwardRule.choices, default=AwardRule.LOWEST_LANDED_COST)
    quantity = models.PositiveIntegerField(help_text="Units asked for, before each supplier's minimum order.")
    needed_by = models.DateField(help_text="The projected stock-out day.")
    respond_by = models.DateTimeField()
    round = models.PositiveSmallIntegerField(default=1)
    basis = models.JSONField(default=dict, help_text="The figures the quantity and dates came from.")
    skipped = models.JSONField(default=list, help_text="Backup suppliers not invited, each with why.")
    awarded_quote = models.OneToOneField("Quote", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    awarded_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=500, blank=True, default="")
    opened_by = models.CharField(max_length=200)
    decided_by = models.CharField(max_length=200, blank=True, default="")

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "sku", "warehouse"],
                condition=Q(status__in=OPEN_RFQ_STATUSES),
                name="rfq_one_open_per_position",
            ),
            models.UniqueConstraint(fields=["alert"], condition=Q(alert__isnull=False), name="rfq_one_per_alert"),
            models.UniqueConstraint(fields=["tenant", "reference"], name="rfq_unique_reference"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="rfq_quantity_positive"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "created_at"], name="rfq_tenant_status"),
            models.Index(fields=["status", "respond_by"], name="rfq_due", condition=Q(status="open")),
        ]

    def __str__(self) -> str:
        return self.reference


class RfqGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's direct-FK table for RFQ grants: a supplier's list is one join, not a generic scan."""

    content_object = models.ForeignKey(Rfq, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class InvitationStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    QUOTED = "quoted", "Quoted"
    WITHDRAWN = "withdrawn", "Withdrew its quote"
    WON = "won", "Won"
    LOST = "lost", "Not awarded"
    CLOSED = "closed", "RFQ closed without an award"


class RfqInvitation(TimestampedModel):
    """One supplier asked to quote, with the terms on file that ranked it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="invitations")
    supplier = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="rfq_invitations")
    offer = models.ForeignKey(SupplierOffer, null=True, on_delete=models.SET_NULL, related_name="+")
    round = models.PositiveSmallIntegerField()
    position_in_ranking = models.PositiveSmallIntegerField()
    quantity = models.PositiveIntegerField(help_text="The RFQ's quantity rounded up to this supplier's minimum order.")
    landed_unit_cost = models.DecimalField(max_digits=14, decimal_places=4)
    reliability = models.DecimalField(max_digits=4, decimal_places=3)
    expected_arrival = models.DateField()
    status = models.CharField(max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.INVITED)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True, default="")

    class Meta(TimestampedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["rfq", "supplier"], name="rfq_invitation_once_per_supplier")]
        indexes = [models.Index(fields=["tenant", "supplier", "created_at"], name="rfq_invitation_supplier")]

    def __str__(self) -> str:
        return f"{self.rfq_id} -> {self.supplier_id}"


class QuoteStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Replaced by a revision"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Quote(TimestampedModel):
    """A supplier's answer; a revision is a new row, so the history stays readable."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="quotes")
    invitation = models.ForeignKey(RfqInvitation, on_delete=models.CASCADE, related_name="quotes")
    supplier = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.ACTIVE)
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    quantity = models.PositiveIntegerField()
    lead_time_days = models.PositiveSmallIntegerField()
    valid_until = models.DateField()
    note = models.CharField(max_length=1000, blank=True, default="")
    landed_unit_cost = models.DecimalField(max_digits=14, decimal_places=4)
    submitted_by = models.CharField(max_length=200)

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["invitation"], condition=Q(status="active"), name="quote_one_active_per_invitation"
            ),
            models.UniqueConstraint(fields=["invitation", "revision"], name="quote_unique_revision"),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="quote_unit_price_positive"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="quote_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"quote r{self.revision} {self.unit_price} x {self.quantity}"


class PurchaseOrderStatus(models.TextChoices):
    OPEN = "open", "Open: stock in transit"
    RECEIVED = "received", "Received"
    CLOSED_SHORT = "closed_short", "Closed short: the rest will not come"


class PurchaseOrder(TimestampedModel):
    """The expected receipt of an award. Receipts that carry its reference as ``order_ref`` close
    it, take its units off in transit and feed the supplier's reliability."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    reference = models.CharField(max_length=32)
    rfq = models.OneToOneField(Rfq, null=True, blank=True, on_delete=models.SET_NULL, related_name="purchase_order")
    supplier = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="purchase_orders")
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    expected_on = models.DateField()
    status = models.CharField(max_length=16, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.OPEN)
    received_quantity = models.PositiveIntegerField(default=0)
    received_on = models.DateField(null=True, blank=True)

    class Meta(TimestampedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "reference"], name="purchase_order_unique_reference")]
        indexes = [models.Index(fields=["tenant", "supplier", "status"], name="purchase_order_supplier")]

    def __str__(self) -> str:
        return self.reference
