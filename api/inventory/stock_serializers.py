"""Output shapes of positions, lots, movements and daily sales, and the daily-sales window input.

Serializers here only read what the selectors joined in; none of them queries per row.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from rest_framework import serializers

from api.input import InputSerializer
from core.inventory.bulk_rows import EARLIEST_DATE
from core.inventory.models import DailyFact, Lot, Movement, Position, Sku, Warehouse

DAILY_SALES_DEFAULT_DAYS = 120
# A window bounds the answer: one row per day, never more than about two years of them.
DAILY_SALES_MAX_DAYS = 731


class SkuBriefOutput(serializers.ModelSerializer):
    class Meta:
        model = Sku
        fields = ["id", "code", "name"]


class WarehouseBriefOutput(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "region"]


_DATETIME = serializers.DateTimeField()

# The columns of a position row as the list reads them: plain values, no model instances.
POSITION_ROW = [
    "id",
    "sku_id",
    "sku__code",
    "sku__name",
    "warehouse_id",
    "warehouse__code",
    "warehouse__name",
    "warehouse__region",
    "on_hand",
    "reserved",
    "available",
    "in_transit",
    "updated_at",
]


def position_row(row: dict, *, moment: Callable[[datetime | None], str | None] | None = None) -> dict:
    """``PositionOutput`` of a ``POSITION_ROW`` values row, the same JSON at a fraction of the cost:
    on a page of 100 the nested serializers and three model instances a row were 6 of 9 ms.
    ``moment``: ``datetime_texts()`` read once for the page (DRF's field reads the time zone per value)."""
    return {
        "id": row["id"],
        "sku": {"id": str(row["sku_id"]), "code": row["sku__code"], "name": row["sku__name"]},
        "warehouse": {
            "id": str(row["warehouse_id"]),
            "code": row["warehouse__code"],
            "name": row["warehouse__name"],
            "region": row["warehouse__region"],
        },
        "on_hand": row["on_hand"],
        "reserved": row["reserved"],
        "available": row["available"],
        "in_transit": row["in_transit"],
        "updated_at": (moment or _DATETIME.to_representation)(row["updated_at"]),
    }


class PositionOutput(serializers.ModelSerializer):
    sku = SkuBriefOutput(read_only=True)
    warehouse = WarehouseBriefOutput(read_only=True)
    # Annotated by the selector (on_hand - reserved), so the list can filter on it in SQL.
    available = serializers.IntegerField(read_only=True, help_text="on_hand - reserved")

    class Meta:
        model = Position
        fields = ["id", "sku", "warehouse", "on_hand", "reserved", "available", "in_transit", "updated_at"]


class LotOutput(serializers.ModelSerializer):
    """Ages are counted against ``context["today"]``, one date for the whole page."""

    position = serializers.IntegerField(source="position_id", read_only=True)
    sku = SkuBriefOutput(source="position.sku", read_only=True)
    warehouse = WarehouseBriefOutput(source="position.warehouse", read_only=True)
    age_days = serializers.SerializerMethodField(help_text="Days since it was received.")
    days_to_expiry = serializers.SerializerMethodField(
        help_text="Days until it expires; negative once expired, null if it does not expire."
    )

    class Meta:
        model = Lot
        fields = [
            "id",
            "position",
            "sku",
            "warehouse",
            "lot_code",
            "quantity",
            "received_on",
            "expires_on",
            "age_days",
            "days_to_expiry",
            "created_at",
        ]

    def get_age_days(self, lot: Lot) -> int:
        return (self.context["today"] - lot.received_on).days

    def get_days_to_expiry(self, lot: Lot) -> int | None:
        return None if lot.expires_on is None else (lot.expires_on - self.context["today"]).days


class MovementOutput(serializers.ModelSerializer):
    position = serializers.IntegerField(source="position_id", read_only=True)
    sku = SkuBriefOutput(source="position.sku", read_only=True)
    warehouse = WarehouseBriefOutput(source="position.warehouse", read_only=True)

    class Meta:
        model = Movement
        fields = [
            "id",
            "position",
            "sku",
            "warehouse",
            "kind",
            "quantity",
            "occurred_at",
            "source",
            "external_ref",
            "order_ref",
            "unit_price",
            "batch_id",
            "created_at",
        ]


class DailyFactOutput(serializers.ModelSerializer):
    average_price = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="revenue / units_sold; null on a day without clean sales.",
    )

    class Meta:
        model = DailyFact
        fields = ["day", "units_sold", "revenue", "average_price", "units_returned", "units_received", "units_flagged"]


class DailySalesQuery(InputSerializer):
    """``from`` and ``to``, both included. ``from`` is a Python keyword, hence ``get_fields``."""

    to = serializers.DateField(required=False, help_text="Last day, included; default today.")

    def get_fields(self) -> dict:
        return {
            "from": serializers.DateField(
                required=False,
                help_text=f"First day, included; default {DAILY_SALES_DEFAULT_DAYS - 1} days before `to`.",
            ),
            **super().get_fields(),
        }

    def validate(self, attrs: dict) -> dict:
        day_to: date = attrs.get("to") or self.context["today"]
        if day_to < EARLIEST_DATE:
            raise serializers.ValidationError({"to": f"Expected a day from {EARLIEST_DATE} on."})
        day_from: date = attrs.get("from") or day_to - timedelta(days=DAILY_SALES_DEFAULT_DAYS - 1)
        if day_from > day_to:
            raise serializers.ValidationError({"from": "The first day must not be after the last (`to`)."})
        if (day_to - day_from).days >= DAILY_SALES_MAX_DAYS:
            raise serializers.ValidationError(
                {"from": f"At most {DAILY_SALES_MAX_DAYS} days at a time; ask for the rest in further windows."}
            )
        return {"day_from": day_from, "day_to": day_to}


class DailySalesWindowOutput(serializers.Serializer):
    position = serializers.IntegerField(help_text="The position's id.")
    to = serializers.DateField(help_text="Last day of the window, included.")
    days = DailyFactOutput(many=True, help_text="One entry per day that has facts, oldest first.")

    def get_fields(self) -> dict:
        fields = super().get_fields()
        return {
            "position": fields.pop("position"),
            "from": serializers.DateField(help_text="First day of the window, included."),
            **fields,
        }
