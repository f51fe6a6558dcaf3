"""Input and output shapes of warehouses, categories and SKUs. Outputs list their fields explicitly.

Codes are set at creation and never change (partners' pushes name rows by code), so no update
input declares ``code``: sending it is an unknown-field 400. SKUs name their category and their
successor by code.
"""

from rest_framework import serializers

from api.input import InputSerializer
from core.exceptions import NotFound
from core.inventory import selectors
from core.inventory.models import (
    MONTHS,
    Category,
    IndustryProfile,
    Sku,
    SkuStatus,
    VelocityClass,
    Warehouse,
    WarehouseKind,
    seasonal_coefficients_problem,
)

_CODE_HELP = "The tenant-unique key partners use for this row. Fixed once created."
_PROFILE_HELP = (
    "Decides which indicators apply and how forecasts read the category's SKUs: expiry for fmcg, "
    "monthly coefficients and season ends for apparel, end of life for electronics."
)
_COEFFICIENTS_HELP = (
    "Apparel: each calendar month's demand relative to the year's average, January first (12 positive "
    "numbers, mean 1). Forecasts of the category's SKUs follow them while the profile is apparel; null: none."
)
_END_OF_LIFE_HELP = (
    "Electronics: the SKU's last selling day. Forecasts see no demand after it while the category's profile "
    "is electronics."
)
_SUCCESSOR_HELP = "The code of the SKU of this tenant that replaces this one (not itself, no cycle); null: none."
_SEASON_END_HELP = (
    "Apparel: the last day of the SKU's season, its last full-price selling day. Forecasts see no demand after "
    "it while the category's profile is apparel."
)


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


def _coefficients_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(),
        min_length=MONTHS,
        max_length=MONTHS,
        required=False,
        allow_null=True,
        help_text=_COEFFICIENTS_HELP,
    )


class CategoryOutput(serializers.ModelSerializer):
    seasonal_coefficients = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text=_COEFFICIENTS_HELP
    )

    class Meta:
        model = Category
        fields = ["id", "code", "name", "profile", "seasonal_coefficients", "created_at", "updated_at"]


class _CategoryFields(InputSerializer):
    def validate_seasonal_coefficients(self, value: list[float] | None) -> list[float] | None:
        if value is not None and (problem := seasonal_coefficients_problem(value)) is not None:
            raise serializers.ValidationError(problem)
        return value


class CategoryCreateInput(_CategoryFields):
    code = _code_field()
    name = serializers.CharField(max_length=200)
    profile = serializers.ChoiceField(
        choices=IndustryProfile.choices, required=False, default=IndustryProfile.GENERAL, help_text=_PROFILE_HELP
    )
    seasonal_coefficients = _coefficients_field()


class CategoryUpdateInput(_CategoryFields):
    name = serializers.CharField(max_length=200, required=False)
    profile = serializers.ChoiceField(choices=IndustryProfile.choices, required=False, help_text=_PROFILE_HELP)
    seasonal_coefficients = _coefficients_field()


# SKUs


class SkuOutput(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="The category's code.")
    successor = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text=_SUCCESSOR_HELP
    )

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
            "end_of_life_on",
            "successor",
            "season_ends_on",
            "created_at",
            "updated_at",
        ]


class _SkuFields(InputSerializer):
    """Resolves ``category`` and ``successor`` from codes to rows of the caller's tenant
    (``context["tenant"]``); whether the successor makes a cycle is the service's to say."""

    def validate_category(self, value: str) -> Category:
        try:
            return selectors.category_get_by_code(tenant=self.context["tenant"], code=value)
        except NotFound:
            raise serializers.ValidationError(f"No category with the code '{value}' in this tenant.") from None

    def validate_successor(self, value: str | None) -> Sku | None:
        if value is None:
            return None
        try:
            return selectors.sku_get_by_code(tenant=self.context["tenant"], code=value)
        except NotFound:
            raise serializers.ValidationError(f"No SKU with the code '{value}' in this tenant.") from None


def _end_of_life_field() -> serializers.DateField:
    return serializers.DateField(required=False, allow_null=True, help_text=_END_OF_LIFE_HELP)


def _successor_field() -> serializers.CharField:
    return serializers.CharField(max_length=64, required=False, allow_null=True, help_text=_SUCCESSOR_HELP)


def _season_end_field() -> serializers.DateField:
    return serializers.DateField(required=False, allow_null=True, help_text=_SEASON_END_HELP)


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
    end_of_life_on = _end_of_life_field()
    successor = _successor_field()
    season_ends_on = _season_end_field()


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
    end_of_life_on = _end_of_life_field()
    successor = _successor_field()
    season_ends_on = _season_end_field()
