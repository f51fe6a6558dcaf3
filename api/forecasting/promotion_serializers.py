"""Promotion shapes: what a caller sends to make or change one, and what it reads back."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.input import InputSerializer
from core.forecasting.models import MAX_DISCOUNT_PERCENT, Promotion
from core.forecasting.promotions import ALL_WAREHOUSES


class PromotionPatchInput(InputSerializer):
    sku = serializers.CharField(max_length=64, required=False, help_text="The SKU's code.")
    warehouses = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=1000,
        allow_empty=True,
        required=False,
        allow_null=True,
        help_text=f'Warehouse codes; empty, null or ["{ALL_WAREHOUSES}"]: every warehouse of the tenant.',
    )
    starts_on = serializers.DateField(required=False, help_text="The first day of the promotion.")
    ends_on = serializers.DateField(required=False, help_text="The last day of the promotion (inclusive).")
    discount_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal(MAX_DISCOUNT_PERCENT),
        required=False,
        help_text="Percent off the list price, 0 to 95.",
    )
    expected_uplift = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        min_value=Decimal("0.1"),
        max_value=Decimal("50"),
        required=False,
        allow_null=True,
        help_text="Optional: the expected multiplier of normal daily demand on promotion days (1.8 = 80 % more). "
        "The forecast uses it when the position's own past promotions say too little.",
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    external_ref = serializers.CharField(
        max_length=128, required=False, allow_blank=True, help_text="The promotion's id in the sender's system."
    )


class PromotionInput(PromotionPatchInput):
    sku = serializers.CharField(max_length=64, help_text="The SKU's code.")
    starts_on = serializers.DateField(help_text="The first day of the promotion.")
    ends_on = serializers.DateField(help_text="The last day of the promotion (inclusive).")
    discount_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal(MAX_DISCOUNT_PERCENT),
        help_text="Percent off the list price, 0 to 95.",
    )


class PromotionOutput(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    all_warehouses = serializers.BooleanField(help_text="Whether it runs in every warehouse of the tenant.")
    warehouses = serializers.SerializerMethodField(
        help_text="The codes of its warehouses the caller sees: those it names (empty when it runs in every "
        "warehouse), or for a distributor the warehouses granted to it that it runs in."
    )

    class Meta:
        model = Promotion
        fields = [
            "id",
            "sku",
            "all_warehouses",
            "warehouses",
            "starts_on",
            "ends_on",
            "discount_percent",
            "expected_uplift",
            "note",
            "external_ref",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warehouses(self, promotion: Promotion) -> list[str]:
        codes: dict = self.context["codes"]  # warehouse id -> code, of the warehouses the caller sees
        visible = self.context.get("visible")  # None: every warehouse
        if promotion.all_warehouses:
            return [] if visible is None else sorted(codes[w] for w in visible if w in codes)
        return sorted(codes[w] for w in promotion.warehouse_ids if w in codes and (visible is None or w in visible))
