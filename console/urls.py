"""``/console/``: sign-in, the tenant chooser, and each tenant's pages under ``/console/{tenant_slug}/``."""

from django.urls import include, path

from console import alert_page, entry, heatmap, inbox, overview, plans, position_page, sandbox, stock_moves

app_name = "console"

tenant_pages = [
    path("", overview.OverviewPage.as_view(), name="overview"),
    path("heatmap/", heatmap.HeatmapPage.as_view(), name="heatmap"),
    path("alerts/", inbox.InboxPage.as_view(), name="inbox"),
    path("alerts/rows/", inbox.InboxRowsPage.as_view(), name="inbox-rows"),
    path("alerts/bulk/", inbox.InboxBulkPage.as_view(), name="inbox-bulk"),
    path("alerts/<uuid:alert_id>/", alert_page.AlertPage.as_view(), name="alert"),
    path("positions/<int:position_id>/", position_page.PositionPage.as_view(), name="position"),
    path("transfer-plans/", plans.PlanListPage.as_view(), name="plans"),
    path("transfer-plans/<uuid:plan_id>/", plans.PlanPage.as_view(), name="plan"),
    path("transfer-plans/<uuid:plan_id>/accept/", plans.PlanAcceptPage.as_view(), name="plan-accept"),
    path("sandbox/", sandbox.SandboxPage.as_view(), name="sandbox"),
    path("transfers/draft/", stock_moves.TransferDraftPage.as_view(), name="transfer-draft"),
]

urlpatterns = [
    path("", entry.home, name="home"),
    path("login/", entry.LoginView.as_view(), name="login"),
    path("logout/", entry.LogoutView.as_view(), name="logout"),
    path("<slug:tenant_slug>/", include(tenant_pages)),
]
