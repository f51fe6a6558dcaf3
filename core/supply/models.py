"""What suppliers offer for each SKU: the primary source and the backups an RFQ goes to."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.base_models import TimestampedModel
from core.inventory.models import Sku
from tenants.models import Partner, PartnerKind, Tenant


class SupplierOffer(TimestampedModel):
    """One supplier's standing terms for one SKU. Rank 1 is the primary source, 2 and up the
    backups in the order an RFQ falls back to them."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        related_name="supplier_offers",
        limit_choices_to={"kind": PartnerKind.SUPPLIER},
    )
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="supplier_offers")
    rank = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text="1 is the primary supplier; 2 and up are backups, in order."
    )
    lead_time_days = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=4, validators=[MinValueValidator(0)])
    min_order_quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    capacity_per_week = models.PositiveIntegerField(null=True, blank=True, help_text="Units a week; empty if unknown.")
    reliability = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.900"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Share of orders delivered complete and on time, 0 to 1; kept from the supplier's receipts "
        "against its purchase orders once it has any.",
    )
    # What an order costs beyond the price on the way in: freight per unit and duty on the price.
    freight_per_unit = models.DecimalField(
        max_digits=12, decimal_places=4, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    duty_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(5)],
        help_text="Duty as a share of the unit price (0.05 = 5 %).",
    )

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sku", "supplier"], name="supplier_offer_unique_sku_supplier"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="supplier_offer_rank_positive"),
            models.CheckConstraint(condition=Q(lead_time_days__gte=0), name="supplier_offer_lead_time_not_negative"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="supplier_offer_unit_price_not_negative"),
            models.CheckConstraint(condition=Q(min_order_quantity__gte=1), name="supplier_offer_moq_positive"),
            models.CheckConstraint(
                condition=Q(capacity_per_week__isnull=True) | Q(capacity_per_week__gte=0),
                name="supplier_offer_capacity_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(reliability__gte=0) & Q(reliability__lte=1), name="supplier_offer_reliability_share"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "sku", "rank"], name="supplier_offer_sku_rank")]

    def __str__(self) -> str:
        return f"{self.sku_id} from {self.supplier_id} (rank {self.rank})"

    def landed_unit_cost(self, unit_price: Decimal | None = None) -> Decimal:
        """What one unit costs delivered: price plus duty on it plus freight."""
        price = self.unit_price if unit_price is None else unit_price
        return (price * (1 + self.duty_rate) + self.freight_per_unit).quantize(Decimal("0.0001"))
