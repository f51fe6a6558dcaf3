"""KPI endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.kpis import views

urlpatterns = [
    path("kpis/", views.KpiView.as_view(), name="kpis"),
    path("kpis/reports/", views.KpiReportListView.as_view(), name="kpi-reports"),
    path("kpis/reports/<str:month>/", views.KpiReportDetailView.as_view(), name="kpi-report"),
    path("kpis/reports/<str:month>.csv", views.KpiReportDetailView.as_view(as_csv=True), name="kpi-report-csv"),
]
