"""Stored forecasts (the list, filters as on indicators/, and one position's daily series) and the
latest forecast backtest."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from api.filters import ChoicesFilter, FilterSet
from api.forecasting import serializers as s
from api.pagination import KeysetPagination
from api.permissions import FORECAST_ACCURACY_READERS, FORECAST_READERS
from api.tenant_scope import TenantScopedView
from core.forecasting import selectors
from core.forecasting.backtest import forecast_backtest_latest
from core.forecasting.demand_class import DemandClass
from core.forecasting.fitting import FALLBACK_MODEL, MODELS
from core.forecasting.models import Forecast
from core.inventory.models import VelocityClass

MODEL_CHOICES = [(name, name) for name in (*MODELS, FALLBACK_MODEL)]


class ForecastFilter(FilterSet):
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="A warehouse code.")
    region = django_filters.CharFilter(field_name="warehouse__region")
    category = django_filters.CharFilter(field_name="sku__category__code", help_text="A category code.")
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    velocity_class = ChoicesFilter(field_name="sku__velocity_class", choices=VelocityClass.choices)
    demand_class = ChoicesFilter(choices=[(c.value, c.value) for c in DemandClass])
    model = ChoicesFilter(choices=MODEL_CHOICES, help_text="One or more models (repeat the parameter).")

    class Meta:
        model = Forecast
        fields: list[str] = []


class ForecastPagination(KeysetPagination):
    """By position id: one forecast per position."""

    tiebreaker = "position_id"


class ForecastListView(TenantScopedView):
    """Every position's stored forecast the caller may see, by position id; numbers are null where
    the access registry hides the position's quantities."""

    access = {"GET": FORECAST_READERS}
    queryset = Forecast.objects.none()
    filterset_class = ForecastFilter
    pagination_class = ForecastPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.forecast_list(principal=self.principal)

    @extend_schema(responses=s.ForecastOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.ForecastOutput)


class ForecastDetailView(TenantScopedView):
    """One position's forecast: the daily series with P50, the service-level quantile and its
    cumulative form, the model and demand class, and that class's backtest accuracy."""

    access = {"GET": FORECAST_READERS}

    @extend_schema(responses=s.ForecastDetailOutput)
    def get(self, request: Request, tenant_slug: str, position_id: int) -> Response:
        forecast = selectors.forecast_get(principal=self.principal, position_id=position_id)
        accuracy = selectors.class_accuracy(forecast=forecast)
        return Response(s.ForecastDetailOutput(forecast, context={"accuracy": accuracy}).data)


class ForecastAccuracyView(TenantScopedView):
    """The tenant's latest forecast backtest: accuracy per demand class, velocity class and overall
    against the two baselines, and the inventory replay of both safety stocks."""

    access = {"GET": FORECAST_ACCURACY_READERS}

    @extend_schema(responses=s.ForecastAccuracyOutput)
    def get(self, request: Request, tenant_slug: str) -> Response:
        latest = forecast_backtest_latest(tenant=self.tenant)
        if latest is None:
            raise exceptions.NotFound(
                "No forecast backtest for this tenant yet: run `manage.py forecast_backtest --tenant "
                f"{self.tenant.slug}`."
            )
        return Response(s.ForecastAccuracyOutput(latest).data)
