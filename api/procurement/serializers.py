"""Shapes of supplier offers, RFQs (the staff view and the supplier's), quotes, playbook records."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.input import InputSerializer
from core.inventory.bulk_rows import MAX_QUANTITY
from core.playbooks.models import Recommendation
from core.procurement.models import (
    SUPPLIER_RFQ_STATUS,
    ProcurementLimits,
    PurchaseOrder,
    Quote,
    Rfq,
    RfqInvitation,
    SupplierRfqStatus,
)
from core.supply.models import SupplierOffer


class OfferOutput(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    supplier_id = serializers.UUIDField()
    supplier = serializers.CharField(source="supplier.name")
    landed_unit_cost = serializers.SerializerMethodField()

    class Meta:
        model = SupplierOffer
        fields = [
            "id",
            "sku",
            "supplier_id",
            "supplier",
            "rank",
            "lead_time_days",
            "unit_price",
            "min_order_quantity",
            "capacity_per_week",
            "freight_per_unit",
            "duty_rate",
            "landed_unit_cost",
            "reliability",
            "created_at",
            "updated_at",
        ]

    def get_landed_unit_cost(self, offer: SupplierOffer) -> Decimal:
        return offer.landed_unit_cost()


class OfferTermsInput(InputSerializer):
    rank = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal("0"), required=False)
    min_order_quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, required=False)
    capacity_per_week = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY, allow_null=True, required=False)
    freight_per_unit = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal("0"), required=False)
    duty_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=Decimal("0"), max_value=Decimal("5"), required=False
    )


class OfferInput(OfferTermsInput):
    sku = serializers.CharField(max_length=64, help_text="The SKU's code.")
    supplier_id = serializers.UUIDField()
    rank = serializers.IntegerField(min_value=1, max_value=1000)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=3650)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal("0"))
    reliability = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        required=False,
        help_text="Starting score of a new offer; afterwards kept from the supplier's deliveries.",
    )


class OffersUpsertOutput(serializers.Serializer):
    written = serializers.IntegerField()


class LimitsOutput(serializers.ModelSerializer):
    class Meta:
        model = ProcurementLimits
        fields = ["rfqs_per_hour", "invitations_per_rfq", "quote_revisions", "updated_at"]


class LimitsInput(InputSerializer):
    rfqs_per_hour = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    invitations_per_rfq = serializers.IntegerField(min_value=1, max_value=50, required=False)
    quote_revisions = serializers.IntegerField(min_value=1, max_value=100, required=False)


class RfqOutput(serializers.ModelSerializer):
    """What staff see in the list."""

    sku = serializers.CharField(source="sku.code")
    warehouse = serializers.CharField(source="warehouse.code")
    alert_id = serializers.UUIDField(allow_null=True)
    awarded_quote_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = Rfq
        fields = [
            "id",
            "reference",
            "status",
            "award_rule",
            "sku",
            "warehouse",
            "position_id",
            "alert_id",
            "quantity",
            "needed_by",
            "respond_by",
            "round",
            "awarded_quote_id",
            "awarded_at",
            "closed_reason",
            "opened_by",
            "decided_by",
            "created_at",
            "updated_at",
        ]


class InvitationOutput(serializers.ModelSerializer):
    supplier_id = serializers.UUIDField()
    supplier = serializers.CharField(source="supplier.name")

    class Meta:
        model = RfqInvitation
        fields = [
            "id",
            "supplier_id",
            "supplier",
            "round",
            "position_in_ranking",
            "quantity",
            "landed_unit_cost",
            "reliability",
            "expected_arrival",
            "status",
            "emailed_at",
            "email_error",
            "created_at",
        ]


class QuoteOutput(serializers.ModelSerializer):
    supplier_id = serializers.UUIDField()

    class Meta:
        model = Quote
        fields = [
            "id",
            "supplier_id",
            "revision",
            "status",
            "unit_price",
            "landed_unit_cost",
            "quantity",
            "lead_time_days",
            "valid_until",
            "note",
            "submitted_by",
            "created_at",
            "updated_at",
        ]


class PurchaseOrderOutput(serializers.ModelSerializer):
    supplier_id = serializers.UUIDField()

    class Meta:
        model = PurchaseOrder
        fields = [
            "reference",
            "supplier_id",
            "quantity",
            "unit_price",
            "expected_on",
            "status",
            "received_quantity",
            "received_on",
        ]


class PurchaseOrderDetailOutput(PurchaseOrderOutput):
    id = serializers.UUIDField()
    rfq_id = serializers.UUIDField(allow_null=True)
    sku = serializers.CharField(source="position.sku.code")
    warehouse = serializers.CharField(source="position.warehouse.code")

    class Meta(PurchaseOrderOutput.Meta):
        fields = ["id", "rfq_id", "sku", "warehouse", *PurchaseOrderOutput.Meta.fields, "created_at", "updated_at"]


class SkippedSupplierOutput(serializers.Serializer):
    supplier_id = serializers.UUIDField()
    supplier = serializers.CharField()
    reason = serializers.CharField()
    round = serializers.IntegerField()


class RfqDetailOutput(RfqOutput):
    """Staff: the figures behind it, who was invited or skipped and why, every quote, the order."""

    basis = serializers.JSONField()
    skipped = SkippedSupplierOutput(many=True)
    invitations = serializers.SerializerMethodField()
    quotes = serializers.SerializerMethodField()
    purchase_order = serializers.SerializerMethodField()

    class Meta(RfqOutput.Meta):
        fields = [*RfqOutput.Meta.fields, "basis", "skipped", "invitations", "quotes", "purchase_order"]

    def get_invitations(self, rfq: Rfq) -> list[dict]:
        return InvitationOutput(self.context["invitations"], many=True).data

    def get_quotes(self, rfq: Rfq) -> list[dict]:
        return QuoteOutput(self.context["quotes"], many=True).data

    def get_purchase_order(self, rfq: Rfq) -> dict | None:
        order = self.context["purchase_order"]
        return PurchaseOrderOutput(order).data if order else None


class SupplierRfqOutput(serializers.ModelSerializer):
    """A supplier's view of an RFQ it was invited to: its own terms and outcome, nobody else's."""

    sku = serializers.CharField(source="sku.code")
    sku_name = serializers.CharField(source="sku.name")
    warehouse = serializers.CharField(source="warehouse.code")
    region = serializers.CharField(source="warehouse.region")
    status = serializers.SerializerMethodField(
        help_text="open while quotes are taken; awaiting_award while a planner picks the winner; then closed "
        "(how it ended for you: invitation_status)."
    )
    quantity = serializers.SerializerMethodField(help_text="Asked of you: rounded up to your minimum order.")
    invitation_status = serializers.SerializerMethodField()

    class Meta:
        model = Rfq
        fields = [
            "id",
            "reference",
            "status",
            "sku",
            "sku_name",
            "warehouse",
            "region",
            "quantity",
            "needed_by",
            "respond_by",
            "invitation_status",
            "created_at",
        ]

    def _invitation(self, rfq: Rfq) -> RfqInvitation | None:
        return self.context["invitations"].get(rfq.pk)

    @extend_schema_field(serializers.ChoiceField(choices=SupplierRfqStatus.choices))
    def get_status(self, rfq: Rfq) -> str:
        return SUPPLIER_RFQ_STATUS.get(rfq.status, SupplierRfqStatus.CLOSED)

    def get_quantity(self, rfq: Rfq) -> int:
        invitation = self._invitation(rfq)
        return invitation.quantity if invitation else rfq.quantity

    def get_invitation_status(self, rfq: Rfq) -> str:
        invitation = self._invitation(rfq)
        return invitation.status if invitation else "invited"


class QuoteInput(InputSerializer):
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal("0.0001"))
    quantity = serializers.IntegerField(min_value=1, max_value=100_000_000)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=3650)
    valid_until = serializers.DateField()
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AwardInput(InputSerializer):
    quote_id = serializers.UUIDField()


class ReasonInput(InputSerializer):
    reason = serializers.CharField(max_length=500)


class RecommendationOutput(serializers.ModelSerializer):
    alert_id = serializers.UUIDField()
    sku = serializers.CharField(source="sku.code")
    warehouse = serializers.CharField(source="warehouse.code")

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "kind",
            "status",
            "grade",
            "alert_id",
            "position_id",
            "sku",
            "warehouse",
            "method",
            "summary",
            "figures",
            "decided_by",
            "decided_at",
            "decision_note",
            "created_at",
            "updated_at",
        ]


class DecisionInput(InputSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
