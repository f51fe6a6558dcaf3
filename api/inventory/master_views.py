"""Warehouses, categories and SKUs: staff read them, planners and admins keep them.

The ERP partner reads them too: it pushes movements by these codes and has to know which exist.
"""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ErrorResponseSerializer
from api.filters import DateFilter, FilterSet
from api.inventory import master_serializers as s
from api.permissions import INVENTORY_READERS, STAFF_WRITERS
from api.tenant_scope import TenantScopedView
from core.inventory import master_services as services
from core.inventory import selectors
from core.inventory.models import Category, IndustryProfile, Sku, Warehouse

# Who may read inventory master data and stock; the stock views use it too.


def _delete_responses(conflict: str) -> dict:
    return {
        204: OpenApiResponse(description="Deleted."),
        409: OpenApiResponse(ErrorResponseSerializer, description=conflict),
    }


class WarehouseFilter(FilterSet):
    class Meta:
        model = Warehouse
        fields = ["region", "kind", "is_active"]


class CategoryFilter(FilterSet):
    class Meta:
        model = Category
        fields = ["profile"]


class SkuFilter(FilterSet):
    category = django_filters.CharFilter(field_name="category__code", help_text="A category code.")
    profile = django_filters.ChoiceFilter(
        field_name="category__profile", choices=IndustryProfile.choices, help_text="The category's profile."
    )
    successor = django_filters.CharFilter(field_name="successor__code", help_text="The successor's SKU code.")
    end_of_life_before = DateFilter(
        field_name="end_of_life_on", lookup_expr="lt", help_text="SKUs whose last selling day is before this day."
    )
    season_ends_before = DateFilter(
        field_name="season_ends_on", lookup_expr="lt", help_text="SKUs whose season ends before this day."
    )

    class Meta:
        model = Sku
        fields = ["category", "status", "velocity_class"]


# Warehouses


class WarehouseListView(TenantScopedView):
    access = {"GET": INVENTORY_READERS, "POST": STAFF_WRITERS}
    serializer_class = s.WarehouseOutput
    queryset = Warehouse.objects.none()  # the model, for the schema; rows come from get_queryset
    filterset_class = WarehouseFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.warehouse_list(tenant=self.tenant)

    @extend_schema(responses=s.WarehouseOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.WarehouseOutput)

    @extend_schema(request=s.WarehouseCreateInput, responses={201: s.WarehouseOutput})
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = s.WarehouseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        warehouse = services.warehouse_create(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.WarehouseOutput(warehouse).data, status=status.HTTP_201_CREATED)


class WarehouseDetailView(TenantScopedView):
    access = {"GET": INVENTORY_READERS, "PATCH": STAFF_WRITERS, "DELETE": STAFF_WRITERS}
    serializer_class = s.WarehouseOutput

    def get_object(self) -> Warehouse:
        return selectors.warehouse_get(tenant=self.tenant, warehouse_id=self.kwargs["warehouse_id"])

    def get(self, request: Request, tenant_slug: str, warehouse_id: str) -> Response:
        return Response(s.WarehouseOutput(self.get_object()).data)

    @extend_schema(request=s.WarehouseUpdateInput, responses=s.WarehouseOutput)
    def patch(self, request: Request, tenant_slug: str, warehouse_id: str) -> Response:
        warehouse = self.get_object()
        data = s.WarehouseUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        warehouse = services.warehouse_update(warehouse=warehouse, actor=self.principal, **data.validated_data)
        return Response(s.WarehouseOutput(warehouse).data)

    @extend_schema(responses=_delete_responses("It has stock positions: set is_active to false instead."))
    def delete(self, request: Request, tenant_slug: str, warehouse_id: str) -> Response:
        services.warehouse_delete(warehouse=self.get_object(), actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Categories


class CategoryListView(TenantScopedView):
    access = {"GET": INVENTORY_READERS, "POST": STAFF_WRITERS}
    serializer_class = s.CategoryOutput
    queryset = Category.objects.none()  # the model, for the schema
    filterset_class = CategoryFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.category_list(tenant=self.tenant)

    @extend_schema(responses=s.CategoryOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.CategoryOutput)

    @extend_schema(request=s.CategoryCreateInput, responses={201: s.CategoryOutput})
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = s.CategoryCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.CategoryOutput(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailView(TenantScopedView):
    access = {"GET": INVENTORY_READERS, "PATCH": STAFF_WRITERS, "DELETE": STAFF_WRITERS}
    serializer_class = s.CategoryOutput

    def get_object(self) -> Category:
        return selectors.category_get(tenant=self.tenant, category_id=self.kwargs["category_id"])

    def get(self, request: Request, tenant_slug: str, category_id: str) -> Response:
        return Response(s.CategoryOutput(self.get_object()).data)

    @extend_schema(request=s.CategoryUpdateInput, responses=s.CategoryOutput)
    def patch(self, request: Request, tenant_slug: str, category_id: str) -> Response:
        category = self.get_object()
        data = s.CategoryUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_update(category=category, actor=self.principal, **data.validated_data)
        return Response(s.CategoryOutput(category).data)

    @extend_schema(responses=_delete_responses("SKUs are still in it: move them to another category first."))
    def delete(self, request: Request, tenant_slug: str, category_id: str) -> Response:
        services.category_delete(category=self.get_object(), actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)


# SKUs


class SkuListView(TenantScopedView):
    access = {"GET": INVENTORY_READERS, "POST": STAFF_WRITERS}
    serializer_class = s.SkuOutput
    queryset = Sku.objects.none()  # the model, for the schema
    filterset_class = SkuFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.sku_list(tenant=self.tenant)

    @extend_schema(responses=s.SkuOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.SkuOutput)

    @extend_schema(request=s.SkuCreateInput, responses={201: s.SkuOutput})
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = s.SkuCreateInput(data=request.data, context={"tenant": self.tenant})
        data.is_valid(raise_exception=True)
        sku = services.sku_create(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.SkuOutput(sku).data, status=status.HTTP_201_CREATED)


class SkuDetailView(TenantScopedView):
    access = {"GET": INVENTORY_READERS, "PATCH": STAFF_WRITERS, "DELETE": STAFF_WRITERS}
    serializer_class = s.SkuOutput

    def get_object(self) -> Sku:
        return selectors.sku_get(tenant=self.tenant, sku_id=self.kwargs["sku_id"])

    def get(self, request: Request, tenant_slug: str, sku_id: str) -> Response:
        return Response(s.SkuOutput(self.get_object()).data)

    @extend_schema(request=s.SkuUpdateInput, responses=s.SkuOutput)
    def patch(self, request: Request, tenant_slug: str, sku_id: str) -> Response:
        sku = self.get_object()
        data = s.SkuUpdateInput(data=request.data, context={"tenant": self.tenant})
        data.is_valid(raise_exception=True)
        sku = services.sku_update(sku=sku, actor=self.principal, **data.validated_data)
        return Response(s.SkuOutput(sku).data)

    @extend_schema(responses=_delete_responses("It has stock positions: set its status to discontinued instead."))
    def delete(self, request: Request, tenant_slug: str, sku_id: str) -> Response:
        services.sku_delete(sku=self.get_object(), actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)
