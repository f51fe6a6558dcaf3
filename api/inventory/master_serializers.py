"""Input and output shapes of warehouses, categories and SKUs. Outputs list their fields explicitly.

Codes are set at creation and never change (partners' pushes name rows by code), so no update
input declares ``code``: sending it is an unknown-field 400. SKUs name their category by code.
"""

from rest_framework import serializers

from api.input import InputSerializer
from core.exceptions import NotFound
from core.inventory import selectors
from core.inventory.models import Category, IndustryProfile, Sku, SkuStatus, VelocityClass, Warehouse, WarehouseKind

_CODE_HELP = "The tenant-unique key partners use for this row. Fixed once created."


def _code_field() -> serializers.CharField:
    return serializers.CharField(max_length=64, help_text=_CODE_HELP)


def _coordinate(limit: int, required: bool) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-limit, max_value=limit, allow_null=True, required=required
    )


# Warehouses


class WarehouseOutput(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = [
            "id",
            "code",
            "name",
            "region",
            "kind",
            "latitude",
            "longitude",
            "is_active",
            "created_at",
            "updated_at",
        ]


class WarehouseCreateInput(InputSerializer):
    code = _code_field()
    name = serializers.CharField(max_length=200)
    region = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=WarehouseKind.choices)
    latitude = _coordinate(90, required=False)
    longitude = _coordinate(180, required=False)
    is_active = serializers.BooleanField(required=False, default=True)


class WarehouseUpdateInput(InputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    region = serializers.CharField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=WarehouseKind.choices, required=False)
    latitude = _coordinate(90, required=False)
    longitude = _coordinate(180, required=False)
    is_active = serializers.BooleanField(required=False)


# Categories


class CategoryOutput(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "profile", "created_at", "updated_at"]


class CategoryCreateInput(InputSerializer):
    code = _code_field()
    name = serializers.CharField(max_length=200)
    profile = serializers.ChoiceField(
        choices=IndustryProfile.choices,
        required=False,
        default=IndustryProfile.GENERAL,
        help_text="Decides which indicators apply (expiry only where goods have a shelf life).",
    )


class CategoryUpdateInput(InputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    profile = serializers.ChoiceField(choices=IndustryProfile.choices, required=False)


# SKUs


class SkuOutput(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="The category's code.")

    class Meta:
        model = Sku
        fields = [
            "id",
            "code",
            "name",
            "category",
            "velocity_class",
            "launch_date",
            "shelf_life_days",
            "unit_cost",
            "list_price",
            "status",
            "created_at",
            "updated_at",
        ]


class _SkuFields(InputSerializer):
    """Resolves ``category`` from a code to a category of the caller's tenant (``context["tenant"]``)."""

    def validate_category(self, value: str) -> Category:
        try:
            return selectors.category_get_by_code(tenant=self.context["tenant"], code=value)
        except NotFound:
            raise serializers.ValidationError(f"No category with the code '{value}' in this tenant.") from None


class SkuCreateInput(_SkuFields):
    code = _code_field()
    name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=64, help_text="The category's code.")
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0)
    list_price = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0)
    velocity_class = serializers.ChoiceField(
        choices=VelocityClass.choices, required=False, default=VelocityClass.LONG_TAIL
    )
    launch_date = serializers.DateField(required=False, allow_null=True)
    shelf_life_days = serializers.IntegerField(min_value=1, max_value=36500, required=False, allow_null=True)
    status = serializers.ChoiceField(choices=SkuStatus.choices, required=False, default=SkuStatus.ACTIVE)


class SkuUpdateInput(_SkuFields):
    name = serializers.CharField(max_length=200, required=False)
    category = serializers.CharField(max_length=64, required=False, help_text="The category's code.")
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    list_price = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    velocity_class = serializers.ChoiceField(choices=VelocityClass.choices, required=False)
    launch_date = serializers.DateField(required=False, allow_null=True)
    shelf_life_days = serializers.IntegerField(min_value=1, max_value=36500, required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=SkuStatus.choices, required=False, help_text="Set `discontinued` rather than deleting a stocked SKU."
    )
