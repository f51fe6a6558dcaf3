"""The KPIs of a month (staff only), and the closed months' reports, as JSON or as a CSV download."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import renderers
from rest_framework.request import Request
from rest_framework.response import Response

from api.kpis import serializers as s
from api.pagination import CheckedCursorPagination
from api.permissions import ANY_STAFF
from api.tenant_scope import TenantScopedView
from core.exceptions import NotFound
from core.quality.kpi_reports import kpi_report_get, kpi_report_list
from core.quality.kpis import kpis_for_month
from core.quality.models import KpiMonthlyReport


class KpiView(TenantScopedView):
    """The month's KPIs, overall and per rule, category or warehouse (docs/kpis.md defines each)."""

    access = {"GET": ANY_STAFF}

    @extend_schema(parameters=[s.KpiQuery], responses=s.KpiOutput)
    def get(self, request: Request, tenant_slug: str) -> Response:
        # ``format`` picks the renderer (the browsable API's links carry it); the rest is the query.
        params = {name: value for name, value in request.query_params.items() if name != "format"}
        query = s.KpiQuery(data=params, context={"today": timezone.now().date()})
        query.is_valid(raise_exception=True)
        figures = kpis_for_month(tenant=self.tenant, **query.validated_data)
        return Response(s.KpiOutput(figures).data)


class KpiReportPagination(CheckedCursorPagination):
    """Latest month first: one report per month."""

    ordering = ("-month", "id")


class KpiReportListView(TenantScopedView):
    """The closed months' reports, latest month first."""

    access = {"GET": ANY_STAFF}
    queryset = KpiMonthlyReport.objects.none()  # the model, for the schema
    pagination_class = KpiReportPagination

    def get_queryset(self):  # noqa: ANN201
        return kpi_report_list(tenant=self.tenant)

    @extend_schema(responses=s.KpiReportOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.KpiReportOutput([s.report_data(r) for r in page], many=True).data)


class CsvRenderer(renderers.BaseRenderer):
    """Lets ``?format=csv`` through content negotiation; the view writes the CSV itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data: object, accepted_media_type: str | None = None, renderer_context: dict | None = None):  # noqa: ANN201
        return renderers.JSONRenderer().render(data)


def _cell(value: object) -> object:
    return "" if value is None else value


def report_csv(data: dict) -> str:
    """One line per figure (spreads as their count, median and p90; the replay's three figures):
    the figure, the month's value, the month before's and the change where the report states one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["figure", data["month"], "previous", "change"])
    previous = data["previous"] or {}
    for name, value in data["figures"].items():
        before = previous.get(name)
        if isinstance(value, dict) or (value is None and isinstance(before, dict)):
            keys = (value or before or {}).keys()
            for key in keys:
                path = f"{name}.{key}"
                writer.writerow(
                    [
                        path,
                        _cell((value or {}).get(key)),
                        _cell((before or {}).get(key)),
                        _cell(data["changes"].get(path)),
                    ]
                )
            continue
        writer.writerow([name, _cell(value), _cell(before), _cell(data["changes"].get(name))])
    return out.getvalue()


class KpiReportDetailView(TenantScopedView):
    """A closed month's report: JSON, or CSV with ``?format=csv`` or at ``kpis/reports/{month}.csv``."""

    access = {"GET": ANY_STAFF}
    renderer_classes = [*TenantScopedView.renderer_classes, CsvRenderer]
    as_csv = False

    def handle_exception(self, exc: Exception) -> Response:
        # Errors keep the API's one format, in JSON, even when CSV was asked for.
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        responses={(200, "application/json"): s.KpiReportOutput, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request, tenant_slug: str, month: str) -> Response | HttpResponse:
        first_day = s.month_parse(month)
        if first_day is None:
            raise NotFound
        data = s.report_data(kpi_report_get(tenant=self.tenant, month=first_day))
        if self.as_csv or request.accepted_renderer.format == "csv":
            response = HttpResponse(report_csv(data), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="kpis-{self.tenant.slug}-{month}.csv"'
            return response
        return Response(s.KpiReportOutput(data).data)
