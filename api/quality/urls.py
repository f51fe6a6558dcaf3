"""Quality endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.quality import views

urlpatterns = [
    path("warning-backtests/", views.BacktestListView.as_view(), name="warning-backtests"),
    path("warning-backtests/<uuid:backtest_id>/", views.BacktestDetailView.as_view(), name="warning-backtest-detail"),
    path(
        "warning-backtests/<uuid:backtest_id>/compare/",
        views.BacktestCompareView.as_view(),
        name="warning-backtest-compare",
    ),
]
