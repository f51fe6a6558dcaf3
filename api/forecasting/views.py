"""Forecasting endpoints under /api/v1/tenants/{tenant_slug}/."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from api.forecasting import serializers as s
from api.permissions import FORECAST_ACCURACY_READERS
from api.tenant_scope import TenantScopedView
from core.forecasting.backtest import forecast_backtest_latest


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
