"""Shapes of the shared stock view, grants, transfer requests, the policy, lanes and plans."""

from decimal import Decimal

from rest_framework import serializers

from api.input import InputSerializer
from core.access import registry as access
from core.access import views
from core.inventory.bulk_rows import MAX_QUANTITY
from core.inventory.grants import GRANT_MODES
from core.inventory.models import Position, Warehouse
from core.transfers.models import (
    TransferLane,
    TransferLine,
    TransferPlan,
    TransferPlanMove,
    TransferPolicy,
    TransferRequest,
)
from tenants.principals import Principal


class SharedStockOutput(serializers.ModelSerializer):
    """Quantities are null where the grant shows bands only."""

    sku = serializers.CharField(source="sku.code")
    sku_name = serializers.CharField(source="sku.name")
    warehouse = serializers.CharField(source="warehouse.code")
    region = serializers.CharField(source="warehouse.region")
    band = serializers.ChoiceField(choices=["available", "low", "out"])
    exact = serializers.BooleanField(help_text="Whether the quantities are shown (else bands only).")
    available = serializers.SerializerMethodField()
    in_transit = serializers.SerializerMethodField()

    class Meta:
        model = Position
        fields = ["id", "sku", "sku_name", "warehouse", "region", "band", "exact", "available", "in_transit"]

    def get_available(self, position: Position) -> int | None:
        return position.available if position.exact else None

    def get_in_transit(self, position: Position) -> int | None:
        return position.in_transit if position.exact else None


SHARED_ROW = [
    "id",
    "sku__code",
    "sku__name",
    "warehouse__code",
    "warehouse__region",
    "band",
    "grant",
    "available",
    "in_transit",
]


def shared_row(row: dict, *, principal: Principal) -> dict | None:
    """``SharedStockOutput`` of a ``SHARED_ROW`` values row, without model instances; the access
    registry says, by the grant level of the row's warehouse, whether its quantities show (and
    whether the row shows at all)."""
    caps = access.of(principal, row["grant"])
    if not caps.sees:
        return None
    return {
        "id": row["id"],
        "sku": row["sku__code"],
        "sku_name": row["sku__name"],
        "warehouse": row["warehouse__code"],
        "region": row["warehouse__region"],
        "band": row["band"],
        **views.stock_quantities(row, caps),
    }


class RegionTotalsOutput(serializers.Serializer):
    region = serializers.CharField(source="warehouse__region")
    warehouses = serializers.IntegerField()
    positions = serializers.IntegerField()
    available_units = serializers.IntegerField(allow_null=True, help_text="Over the positions with exact grants.")
    exact_positions = serializers.IntegerField()
    band_available = serializers.IntegerField()
    band_low = serializers.IntegerField()
    band_out = serializers.IntegerField()


class GrantOutput(serializers.ModelSerializer):
    warehouse_id = serializers.UUIDField(source="id")
    warehouse = serializers.CharField(source="code")
    quantities = serializers.SerializerMethodField()

    class Meta:
        model = Warehouse
        fields = ["warehouse_id", "warehouse", "name", "region", "quantities"]

    def get_quantities(self, warehouse: Warehouse) -> str:
        return "exact" if warehouse.exact else "bands"


class GrantInput(InputSerializer):
    warehouses = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=1000, help_text="Warehouse codes."
    )
    quantities = serializers.ChoiceField(choices=GRANT_MODES, default="exact")


class GrantResultOutput(serializers.Serializer):
    newly_granted = serializers.IntegerField()


class ActorsWorded:
    """Who acted, as the access registry lets the viewing principal (``context["principal"]``) see
    it: by name for staff, as a role for partners; as a role too when no principal is given."""

    actor_fields: tuple[str, ...] = ()

    def to_representation(self, instance: object) -> dict:
        data = super().to_representation(instance)
        principal = self.context.get("principal")
        caps = access.of(principal) if principal is not None else access.NOTHING
        viewer = getattr(getattr(principal, "partner", None), "pk", None)
        for name in self.actor_fields:
            if data[name]:
                data[name] = views.actor_word(data[name], caps, viewer)
        return data


_ACTOR_HELP = "Who: `user:<name>` for staff; for partners a role (`staff`, `system`, `you`, `partner`)."


class TransferLineOutput(ActorsWorded, serializers.ModelSerializer):
    position_id = serializers.IntegerField(allow_null=True)
    movement_id = serializers.IntegerField(allow_null=True)
    actor = serializers.CharField(help_text=_ACTOR_HELP)
    actor_fields = ("actor",)

    class Meta:
        model = TransferLine
        fields = ["kind", "quantity", "position_id", "movement_id", "actor", "created_at"]


class TransferOutput(ActorsWorded, serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    source = serializers.CharField(source="source.code")
    destination = serializers.CharField(source="destination.code", allow_null=True)
    requester_id = serializers.UUIDField(allow_null=True)
    recommendation_id = serializers.UUIDField(allow_null=True)
    requested_by = serializers.CharField(help_text=_ACTOR_HELP)
    decided_by = serializers.CharField(help_text=_ACTOR_HELP)
    actor_fields = ("requested_by", "decided_by")

    class Meta:
        model = TransferRequest
        fields = [
            "id",
            "reference",
            "status",
            "sku",
            "source",
            "destination",
            "destination_location",
            "quantity",
            "needed_by",
            "note",
            "requester_id",
            "requested_by",
            "approval",
            "decided_by",
            "decided_at",
            "decision_note",
            "shipped_at",
            "received_at",
            "cancelled_at",
            "recommendation_id",
            "created_at",
            "updated_at",
        ]


class TransferDetailOutput(TransferOutput):
    lines = TransferLineOutput(many=True, read_only=True)

    class Meta(TransferOutput.Meta):
        fields = [*TransferOutput.Meta.fields, "lines"]


class TransferInput(InputSerializer):
    sku = serializers.CharField(max_length=64)
    source = serializers.CharField(max_length=64, help_text="A warehouse code you can see.")
    destination = serializers.CharField(max_length=64, required=False, help_text="A warehouse code you can see.")
    destination_location = serializers.CharField(
        max_length=300, required=False, help_text="Instead of a warehouse: your own location."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=10_000_000)
    needed_by = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=1000, required=False, default="", allow_blank=True)


class NoteInput(InputSerializer):
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class TransferPolicyOutput(serializers.ModelSerializer):
    class Meta:
        model = TransferPolicy
        fields = [
            "auto_approve_max_quantity",
            "auto_approve_requires_overstock",
            "low_cover_days",
            "cost_per_unit_km",
            "shortage_penalty_per_unit",
            "updated_at",
        ]


class TransferPolicyInput(InputSerializer):
    auto_approve_max_quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, allow_null=True, required=False
    )
    auto_approve_requires_overstock = serializers.BooleanField(required=False)
    low_cover_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    cost_per_unit_km = serializers.DecimalField(max_digits=10, decimal_places=6, min_value=Decimal("0"), required=False)
    shortage_penalty_per_unit = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal("0"), required=False
    )


class LaneOutput(serializers.ModelSerializer):
    source = serializers.CharField(source="source.code")
    destination = serializers.CharField(source="destination.code")

    class Meta:
        model = TransferLane
        fields = ["id", "source", "destination", "cost_per_unit_km", "updated_at"]


class LaneInput(InputSerializer):
    source = serializers.CharField(max_length=64)
    destination = serializers.CharField(max_length=64)
    cost_per_unit_km = serializers.DecimalField(max_digits=10, decimal_places=6, min_value=Decimal("0"))


class PlanOutput(serializers.ModelSerializer):
    class Meta:
        model = TransferPlan
        fields = ["id", "status", "requested_by", "summary", "error", "started_at", "finished_at", "created_at"]


class MoveOutput(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    source = serializers.CharField(source="source.code")
    destination = serializers.CharField(source="destination.code")
    supply_alert_id = serializers.UUIDField(allow_null=True)
    demand_alert_id = serializers.UUIDField(allow_null=True)
    transfer_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = TransferPlanMove
        fields = [
            "id",
            "sku",
            "source",
            "destination",
            "quantity",
            "distance_km",
            "unit_cost",
            "cost",
            "supply_alert_id",
            "demand_alert_id",
            "status",
            "transfer_id",
        ]


class AcceptInput(InputSerializer):
    move_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=100_000,
        help_text="The moves to accept; all proposed moves when left out.",
    )
