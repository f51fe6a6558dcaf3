"""Promotions: the marketing calendar the forecast reads (list with filters, create, read, change,
delete). Staff and the ERP (which pushes the calendar) write; a distributor reads those touching
its warehouses."""

from __future__ import annotations

from datetime import date

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.filters import DateFilter, FilterSet
from api.forecasting import promotion_serializers as s
from api.pagination import CreatedCursorPagination
from api.permissions import PROMOTION_READERS, PROMOTION_REMOVERS, PROMOTION_WRITERS
from api.tenant_scope import TenantScopedView
from core.forecasting import promotion_selectors as selectors
from core.forecasting import promotions as services
from core.forecasting.models import Promotion
from core.inventory.models import Warehouse


class PromotionFilter(FilterSet):
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    warehouse = django_filters.CharFilter(
        method="filter_warehouse", help_text="A warehouse code: the promotions running there (all-warehouse ones too)."
    )
    active_on = DateFilter(method="filter_active_on", help_text="Running on this day.")

    class Meta:
        model = Promotion
        fields: list[str] = []

    def filter_warehouse(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The rows are one tenant's: its warehouse of that code.
        ids = list(
            Warehouse.objects.filter(tenant_id__in=queryset.values("tenant_id")[:1], code=value).values_list(
                "id", flat=True
            )
        )
        return queryset.filter(Q(all_warehouses=True) | Q(warehouse_ids__overlap=ids)) if ids else queryset.none()

    def filter_active_on(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


# ``from`` and ``to`` are Python keywords: declared by name. Together: promotions sharing a day with [from, to].
PromotionFilter.base_filters["from"] = DateFilter(
    field_name="ends_on", lookup_expr="gte", help_text="Running on this day or after it."
)
PromotionFilter.base_filters["to"] = DateFilter(
    field_name="starts_on", lookup_expr="lte", help_text="Running on this day or before it."
)


def _context(view: TenantScopedView) -> dict:
    visible = selectors.visible_warehouse_ids(view.principal)
    codes = Warehouse.objects.filter(tenant=view.tenant)
    if visible is not None:
        codes = codes.filter(id__in=visible)
    return {"visible": visible, "codes": dict(codes.values_list("id", "code"))}


class PromotionListView(TenantScopedView):
    """The tenant's promotions, past and coming, by when they were made; the forecast scales its
    promotion days by each one's uplift (docs/forecasting.md, Promotions)."""

    access = {"GET": PROMOTION_READERS, "POST": PROMOTION_WRITERS}
    queryset = Promotion.objects.none()
    filterset_class = PromotionFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.promotion_list(principal=self.principal)

    @extend_schema(responses=s.PromotionOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.PromotionOutput, context=_context(self))

    @extend_schema(
        request=s.PromotionInput,
        responses={201: s.PromotionOutput},
        description="Make a promotion of a SKU in some warehouses (or all) from one day through another. "
        "400 with field errors, and nothing written, for unknown codes, an end before the start, a discount "
        "outside 0-95 % or a promotion of the SKU sharing a day with another in a warehouse.",
    )
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = s.PromotionInput(data=request.data)
        data.is_valid(raise_exception=True)
        promotion = services.promotion_create(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.PromotionOutput(promotion, context=_context(self)).data, status=status.HTTP_201_CREATED)


class PromotionDetailView(TenantScopedView):
    access = {"GET": PROMOTION_READERS, "PATCH": PROMOTION_WRITERS, "DELETE": PROMOTION_REMOVERS}

    def get_object(self) -> Promotion:
        return selectors.promotion_get(principal=self.principal, promotion_id=self.kwargs["promotion_id"])

    @extend_schema(responses=s.PromotionOutput)
    def get(self, request: Request, tenant_slug: str, promotion_id: str) -> Response:
        return Response(s.PromotionOutput(self.get_object(), context=_context(self)).data)

    @extend_schema(
        request=s.PromotionPatchInput,
        responses=s.PromotionOutput,
        description="Change some fields; the same checks as on creation, against the promotion as changed.",
    )
    def patch(self, request: Request, tenant_slug: str, promotion_id: str) -> Response:
        promotion = self.get_object()
        data = s.PromotionPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        promotion = services.promotion_update(promotion=promotion, actor=self.principal, **data.validated_data)
        return Response(s.PromotionOutput(promotion, context=_context(self)).data)

    @extend_schema(responses={204: OpenApiResponse(description="Deleted.")})
    def delete(self, request: Request, tenant_slug: str, promotion_id: str) -> Response:
        services.promotion_delete(promotion=self.get_object(), actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)
