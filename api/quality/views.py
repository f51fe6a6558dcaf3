"""Warning backtests: start one on the worker, follow it, read its report, compare two. Staff only."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ErrorResponseSerializer
from api.pagination import CreatedCursorPagination
from api.permissions import ANY_STAFF, STAFF_WRITERS
from api.quality import serializers as s
from api.tenant_scope import TenantScopedView
from core.quality import backtests
from core.quality.models import WarningBacktest


class BacktestListView(TenantScopedView):
    """Stored warning backtests, oldest first; POST starts one on the worker (202) and answers it with
    its progress, to follow at ``{id}/``."""

    access = {"GET": ANY_STAFF, "POST": STAFF_WRITERS}
    queryset = WarningBacktest.objects.none()
    filterset_fields = ["status"]
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return backtests.warning_backtest_list(tenant=self.tenant)

    @extend_schema(responses=s.BacktestOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.BacktestOutput)

    @extend_schema(
        request=s.BacktestInput,
        responses={
            202: s.BacktestOutput,
            400: OpenApiResponse(
                ErrorResponseSerializer,
                description="Dates missing or malformed, the period reversed, outside the tenant's ledger (before "
                "its first daily fact or after today) or longer than QUALITY_BACKTEST_MAX_DAYS.",
            ),
        },
    )
    def post(self, request: Request, tenant_slug: str) -> Response:
        body = s.BacktestInput(data=request.data)
        body.is_valid(raise_exception=True)
        backtest = backtests.warning_backtest_start(tenant=self.tenant, actor=self.principal, **body.validated_data)
        return Response(s.BacktestOutput(backtest).data, status=status.HTTP_202_ACCEPTED)


class BacktestDetailView(TenantScopedView):
    """A backtest's status and progress, and once it succeeded its report."""

    access = {"GET": ANY_STAFF}

    @extend_schema(responses=s.BacktestDetailOutput)
    def get(self, request: Request, tenant_slug: str, backtest_id: str) -> Response:
        backtest = backtests.warning_backtest_get(tenant=self.tenant, backtest_id=backtest_id)
        return Response(s.BacktestDetailOutput(backtest).data)


class BacktestCompareView(TenantScopedView):
    """This backtest (``base``) and the one named by ``with`` (``other``): their key figures side by
    side, overall, per rule and per grade, with other minus base."""

    access = {"GET": ANY_STAFF}

    @extend_schema(
        parameters=[s.CompareQuery],
        responses={
            200: s.CompareOutput,
            409: OpenApiResponse(ErrorResponseSerializer, description="Either backtest has no report yet."),
        },
    )
    def get(self, request: Request, tenant_slug: str, backtest_id: str) -> Response:
        base = backtests.warning_backtest_get(tenant=self.tenant, backtest_id=backtest_id)
        query = s.CompareQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        other = backtests.warning_backtest_get(tenant=self.tenant, backtest_id=query.validated_data["with"])
        return Response(s.CompareOutput(backtests.warning_backtests_compare(base=base, other=other)).data)
