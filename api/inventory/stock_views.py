"""Stock reads for staff and the ERP partner: positions, daily sales, lots, the movement ledger.

Everything is read-only here; stock changes only through the ledger (bulk ingestion). Filters
name rows by code, as partners do; every list is one query per page whatever its size.
"""

from functools import partial

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.filters import DateFilter, FilterSet, IntegerFilter, IsoDateTimeFilter
from api.inventory import stock_serializers as s
from api.pagination import IdCursorPagination
from api.permissions import INVENTORY_READERS
from api.renderers import datetime_texts
from api.tenant_scope import TenantScopedView
from core.inventory import selectors
from core.inventory.models import Lot, Movement, MovementKind, Position


class PositionFilter(FilterSet):
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="A warehouse code.")
    region = django_filters.CharFilter(field_name="warehouse__region", help_text="The warehouse's region.")
    category = django_filters.CharFilter(field_name="sku__category__code", help_text="A category code.")
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    available_lt = IntegerFilter(field_name="available", lookup_expr="lt", help_text="Available below this.")
    available_gt = IntegerFilter(field_name="available", lookup_expr="gt", help_text="Available above this.")
    on_hand_lt = IntegerFilter(field_name="on_hand", lookup_expr="lt", help_text="On hand below this.")
    on_hand_gt = IntegerFilter(field_name="on_hand", lookup_expr="gt", help_text="On hand above this.")

    class Meta:
        model = Position
        fields: list[str] = []


class LotFilter(FilterSet):
    sku = django_filters.CharFilter(field_name="position__sku__code", help_text="A SKU code.")
    warehouse = django_filters.CharFilter(field_name="position__warehouse__code", help_text="A warehouse code.")
    expires_before = DateFilter(
        field_name="expires_on", lookup_expr="lt", help_text="Lots expiring before this day (not on it)."
    )

    class Meta:
        model = Lot
        fields: list[str] = []


class MovementFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    sku = django_filters.CharFilter(field_name="position__sku__code", help_text="A SKU code.")
    warehouse = django_filters.CharFilter(field_name="position__warehouse__code", help_text="A warehouse code.")
    # A half-open interval: consecutive windows neither overlap nor leave a gap.
    occurred_after = IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="At or after this time (ISO 8601)."
    )
    occurred_before = IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="Strictly before this time (ISO 8601)."
    )
    external_ref = django_filters.CharFilter(field_name="external_ref", help_text="The pusher's reference.")

    class Meta:
        model = Movement
        fields: list[str] = []


class PositionListView(TenantScopedView):
    """Stock positions (SKU x warehouse) in id order; filter to find what runs low or piles up."""

    access = {"GET": INVENTORY_READERS}
    serializer_class = s.PositionOutput
    queryset = Position.objects.none()  # the model, for the schema; rows come from get_queryset
    filterset_class = PositionFilter
    pagination_class = IdCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.position_list(tenant=self.tenant)

    @extend_schema(responses=s.PositionOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_rows(s.POSITION_ROW, partial(s.position_row, moment=datetime_texts()))


class PositionDetailView(TenantScopedView):
    access = {"GET": INVENTORY_READERS}
    serializer_class = s.PositionOutput

    def get(self, request: Request, tenant_slug: str, position_id: int) -> Response:
        return Response(s.PositionOutput(selectors.position_get(tenant=self.tenant, position_id=position_id)).data)


class DailySalesView(TenantScopedView):
    """The position's daily facts over a window of days, by default the last 120 up to today."""

    access = {"GET": INVENTORY_READERS}
    serializer_class = s.DailySalesWindowOutput

    @extend_schema(parameters=[s.DailySalesQuery], responses=s.DailySalesWindowOutput)
    def get(self, request: Request, tenant_slug: str, position_id: int) -> Response:
        position = selectors.position_get(tenant=self.tenant, position_id=position_id)
        query = s.DailySalesQuery(data=request.query_params, context={"today": timezone.localdate()})
        query.is_valid(raise_exception=True)
        window = query.validated_data
        days = selectors.daily_fact_list(tenant=self.tenant, position=position, **window)
        data = {"position": position.pk, "from": window["day_from"], "to": window["day_to"], "days": days}
        return Response(s.DailySalesWindowOutput(data).data)


class LotListView(TenantScopedView):
    """Lots in stock with their age and days to expiry, counted from today."""

    access = {"GET": INVENTORY_READERS}
    serializer_class = s.LotOutput
    queryset = Lot.objects.none()  # the model, for the schema
    filterset_class = LotFilter
    pagination_class = IdCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.lot_list(tenant=self.tenant)

    @extend_schema(responses=s.LotOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.LotOutput, context={"today": timezone.localdate()})


class MovementListView(TenantScopedView):
    """The append-only ledger, oldest first."""

    access = {"GET": INVENTORY_READERS}
    serializer_class = s.MovementOutput
    queryset = Movement.objects.none()  # the model, for the schema
    filterset_class = MovementFilter
    pagination_class = IdCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.movement_list(tenant=self.tenant)

    @extend_schema(responses=s.MovementOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.MovementOutput)
