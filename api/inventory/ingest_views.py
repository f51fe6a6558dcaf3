"""Bulk ingestion endpoints (ledger lines and master data) and the anomaly review queue."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ConflictError, ErrorResponseSerializer, error_body
from api.input import InputSerializer
from api.inventory import bulk_body
from api.permissions import ANY_STAFF, INVENTORY_PUSHERS, STAFF_WRITERS
from api.tenant_scope import TenantScopedView
from core import telemetry
from core.exceptions import Conflict
from core.inventory import anomalies, idempotency
from core.inventory import bulk_rows as br
from core.inventory.ingestion import BatchRejected, movement_rows_parse, movements_ingest
from core.inventory.master_ingestion import SPECS, master_ingest, master_rows_parse
from core.inventory.models import Anomaly, AnomalyReason, AnomalyStatus

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": bulk_body.IDEMPOTENCY_KEY_PATTERN},
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "Unique per batch; a retry with the same key and body returns the first answer and writes nothing. "
        "Kept at least 24 hours."
    ),
)
REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=True,
    description="Present on the answer to a retry: the first answer, replayed; nothing was written again.",
)


def _rows_rejected(errors: br.RowErrors, rows: int) -> dict:
    fields: dict[str, list[str]] = {}
    for item in errors.sorted():
        fields.setdefault(f"rows.{item['row']}.{item['field']}".rstrip("."), []).append(item["message"])
    shown = "" if errors.total <= len(errors.items) else f" (the first {len(errors.items)} are listed)"
    message = f"{errors.total} problem(s) in {rows} row(s){shown}; nothing was written. Fix them and resend."
    return error_body("invalid_rows", message, fields)


class BulkIngestView(TenantScopedView):
    """The shared path of every bulk endpoint: read, claim the key, parse, ingest, remember."""

    access = {"POST": INVENTORY_PUSHERS}
    endpoint: str = ""

    def source(self) -> str:
        """Whose external references these are: each partner has its own namespace."""
        return f"partner:{self.principal.partner.pk}" if self.principal.partner else "staff"

    def ingest(self, request: Request, parse: Callable, write: Callable) -> Response:
        media_type, body = bulk_body.read_body(request)
        key = bulk_body.idempotency_key(request)
        try:
            claim = idempotency.idempotency_claim(
                tenant=self.tenant,
                source=self.source(),
                key=key,
                endpoint=self.endpoint,
                request_hash=bulk_body.body_hash(media_type, body),
            )
        except idempotency.IdempotencyKeyReused:
            raise bulk_body.IdempotencyKeyReusedError() from None
        except Conflict as exc:
            raise ConflictError(str(exc)) from None
        if isinstance(claim, idempotency.Replay):
            self.counted("replayed")
            return Response(claim.body, status=claim.status, headers={"Idempotent-Replayed": "true"})
        try:
            rows = bulk_body.parse_rows(media_type, body)
            columns, errors = parse(rows)
            if errors:
                # The body alone is wrong: the same body will always be, so remember the answer.
                response = _rows_rejected(errors, len(rows))
                idempotency.idempotency_complete(record=claim, status=400, body=response)
                self.counted("rejected")
                return Response(response, status=status.HTTP_400_BAD_REQUEST)
            result = write(columns=columns, idempotency_record=claim)
        except BatchRejected as rejected:
            # Refused for what the database holds (unknown codes, stock, known references): once
            # that changes, the same body may pass, so the key is released, not bound to a 400.
            idempotency.idempotency_release(record=claim)
            self.counted("rejected")
            return Response(_rows_rejected(rejected.errors, len(rows)), status=status.HTTP_400_BAD_REQUEST)
        except BaseException:
            idempotency.idempotency_release(record=claim)  # not an answer to remember: let a retry run
            raise
        self.counted("accepted", rows=int(result.get("rows", 0)))
        return Response(result, status=status.HTTP_201_CREATED)

    def counted(self, outcome: str, rows: int = 0) -> None:
        """The push in the ingestion series (docs/operations.md): its batch, and the rows it wrote."""
        tenant = telemetry.tenant_label(self.tenant.slug)
        telemetry.INGEST_BATCHES.labels(kind=self.endpoint, outcome=outcome, tenant=tenant).inc()
        if rows:
            telemetry.INGESTED_ROWS.labels(kind=self.endpoint, tenant=tenant).inc(rows)


class IngestResultOutput(serializers.Serializer):
    batch_id = serializers.UUIDField()
    rows = serializers.IntegerField()
    positions = serializers.IntegerField(help_text="Positions the batch touched.")
    created_positions = serializers.IntegerField()
    flagged = serializers.IntegerField(help_text="Sales flagged as suspicious: in the ledger, out of the indicators.")


class MasterResultOutput(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class MovementRowDoc(InputSerializer):
    """One ledger line (documentation of the bulk body; rows are validated column by column)."""

    kind = serializers.ChoiceField(choices=["receipt", "sale", "return", "adjustment", "transfer_out", "transfer_in"])
    sku = serializers.CharField(max_length=64, help_text="SKU code")
    warehouse = serializers.CharField(max_length=64, help_text="Warehouse code")
    quantity = serializers.IntegerField(
        min_value=-br.MAX_QUANTITY,
        max_value=br.MAX_QUANTITY,
        help_text="Positive; an adjustment is signed and not zero.",
    )
    occurred_at = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset")
    external_ref = serializers.CharField(max_length=128, help_text="Your line reference; unique per partner.")
    order_ref = serializers.CharField(max_length=128, required=False, help_text="Order of a sale line.")
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4, required=False)
    lot_code = serializers.CharField(max_length=64, required=False)
    expires_on = serializers.DateField(required=False)
    promised_on = serializers.DateField(required=False, help_text="Receipts: the day the goods were promised.")


_BULK_ERRORS = {
    400: OpenApiResponse(ErrorResponseSerializer, description="Bad rows: `fields` has `rows.<n>.<field>`."),
    409: OpenApiResponse(ErrorResponseSerializer, description="The same Idempotency-Key is still being processed."),
    413: OpenApiResponse(ErrorResponseSerializer, description="Over the row or byte limit per request."),
    422: OpenApiResponse(ErrorResponseSerializer, description="The Idempotency-Key was used with another body."),
}


def bulk_schema(row_doc: type[serializers.Serializer], result: type[serializers.Serializer]) -> Callable:
    return extend_schema(
        request={
            "application/json": row_doc(many=True),
            "application/x-ndjson": OpenApiTypes.STR,
            "text/csv": OpenApiTypes.STR,
        },
        parameters=[IDEMPOTENCY_HEADER, REPLAYED_HEADER],
        responses={201: result, **_BULK_ERRORS},
    )


class MovementIngestView(BulkIngestView):
    """Push ledger lines in bulk: all or nothing, idempotent, up to INGEST_MAX_ROWS per request."""

    endpoint = "movements"

    @bulk_schema(MovementRowDoc, IngestResultOutput)
    def post(self, request: Request, tenant_slug: str) -> Response:
        def write(*, columns: dict, idempotency_record: object) -> dict:
            return movements_ingest(
                tenant=self.tenant, source=self.source(), columns=columns, idempotency_record=idempotency_record
            ).as_dict()

        return self.ingest(request, movement_rows_parse, write)


# Master columns documented as something other than text (rows are validated column by column).
_MASTER_DOC_FIELDS = {
    "seasonal_coefficients": lambda: serializers.ListField(
        child=serializers.FloatField(),
        min_length=12,
        max_length=12,
        required=False,
        help_text=(
            "Apparel: 12 monthly coefficients, January first, positive, mean 1. In CSV one cell of numbers "
            "separated by semicolons."
        ),
    ),
    "successor": lambda: serializers.CharField(
        required=False, help_text="SKU code of this tenant or of this batch that replaces this SKU."
    ),
    "end_of_life_on": lambda: serializers.DateField(required=False, help_text="Electronics: the last selling day."),
    "season_ends_on": lambda: serializers.DateField(
        required=False, help_text="Apparel: the last day of the season (of full-price selling)."
    ),
}


def _master_view(spec_name: str) -> type[BulkIngestView]:
    spec = SPECS[spec_name]
    doc = type(
        f"{spec_name.title()}RowDoc",
        (InputSerializer,),
        {
            column.name: _MASTER_DOC_FIELDS[column.name]()
            if column.name in _MASTER_DOC_FIELDS
            else serializers.CharField(required=column.required)
            for column in spec.columns
        },
    )

    class MasterIngestView(BulkIngestView):
        endpoint = spec_name

        @bulk_schema(doc, MasterResultOutput)
        def post(self, request: Request, tenant_slug: str) -> Response:
            def write(*, columns: dict, idempotency_record: object) -> dict:
                return master_ingest(
                    tenant=self.tenant, spec=spec, columns=columns, idempotency_record=idempotency_record
                )

            return self.ingest(request, lambda rows: master_rows_parse(spec, rows), write)

    MasterIngestView.__name__ = MasterIngestView.__qualname__ = f"{spec_name.title()}IngestView"
    MasterIngestView.__doc__ = f"Upsert {spec_name} in bulk by code: all or nothing, idempotent."
    return MasterIngestView


CategoryIngestView = _master_view("categories")
WarehouseIngestView = _master_view("warehouses")
SkuIngestView = _master_view("skus")


# --- Anomalies ----------------------------------------------------------------------------------


class AnomalyOutput(serializers.ModelSerializer):
    movement_id = serializers.IntegerField(source="movement.id")
    external_ref = serializers.CharField(source="movement.external_ref")
    order_ref = serializers.CharField(source="movement.order_ref")
    quantity = serializers.IntegerField(source="movement.quantity")
    unit_price = serializers.DecimalField(source="movement.unit_price", max_digits=12, decimal_places=4)
    occurred_at = serializers.DateTimeField(source="movement.occurred_at")
    position_id = serializers.IntegerField(source="movement.position_id")
    sku = serializers.CharField(source="movement.position.sku.code")
    warehouse = serializers.CharField(source="movement.position.warehouse.code")

    class Meta:
        model = Anomaly
        fields = [
            "id",
            "reason",
            "detail",
            "status",
            "movement_id",
            "external_ref",
            "order_ref",
            "quantity",
            "unit_price",
            "occurred_at",
            "position_id",
            "sku",
            "warehouse",
            "reviewed_by",
            "reviewed_at",
            "created_at",
        ]


class AnomalyListView(TenantScopedView):
    """Sales flagged as suspicious, with the reason; they stay out of the indicators until dismissed."""

    access = {"GET": ANY_STAFF}
    queryset = Anomaly.objects.none()
    filterset_fields = {"status": ["exact"], "reason": ["exact"], "created_at": ["gte", "lte"]}

    def get_queryset(self):  # noqa: ANN201
        return anomalies.anomaly_list(tenant=self.tenant)

    @extend_schema(
        responses=AnomalyOutput(many=True),
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=AnomalyStatus.values),
            OpenApiParameter("reason", OpenApiTypes.STR, enum=AnomalyReason.values),
        ],
    )
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(AnomalyOutput)


class AnomalyDetailView(TenantScopedView):
    access = {"GET": ANY_STAFF}

    @extend_schema(responses=AnomalyOutput)
    def get(self, request: Request, tenant_slug: str, anomaly_id: str) -> Response:
        return Response(AnomalyOutput(anomalies.anomaly_get(tenant=self.tenant, anomaly_id=anomaly_id)).data)


class AnomalyConfirmView(TenantScopedView):
    """The sale was not real: it stays out of the indicators."""

    access = {"POST": STAFF_WRITERS}

    @extend_schema(request=None, responses={200: AnomalyOutput, 409: ErrorResponseSerializer})
    def post(self, request: Request, tenant_slug: str, anomaly_id: str) -> Response:
        anomaly = anomalies.anomaly_get(tenant=self.tenant, anomaly_id=anomaly_id)
        return Response(AnomalyOutput(anomalies.anomaly_confirm(anomaly=anomaly, actor=self.principal)).data)


class AnomalyDismissView(TenantScopedView):
    """The sale was real: its units and revenue count again."""

    access = {"POST": STAFF_WRITERS}

    @extend_schema(request=None, responses={200: AnomalyOutput, 409: ErrorResponseSerializer})
    def post(self, request: Request, tenant_slug: str, anomaly_id: str) -> Response:
        anomaly = anomalies.anomaly_get(tenant=self.tenant, anomaly_id=anomaly_id)
        return Response(AnomalyOutput(anomalies.anomaly_dismiss(anomaly=anomaly, actor=self.principal)).data)
