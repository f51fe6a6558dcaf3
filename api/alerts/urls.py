"""Warning-engine endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.alerts import views

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="alerts"),
    path("alerts/<uuid:alert_id>/", views.AlertDetailView.as_view(), name="alert-detail"),
    path("alerts/<uuid:alert_id>/acknowledge/", views.AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("alerts/<uuid:alert_id>/resolve/", views.AlertResolveView.as_view(), name="alert-resolve"),
    path("alerts/<uuid:alert_id>/dismiss/", views.AlertDismissView.as_view(), name="alert-dismiss"),
    path("alerts/<uuid:alert_id>/snooze/", views.AlertSnoozeView.as_view(), name="alert-snooze"),
    path("indicators/", views.IndicatorListView.as_view(), name="indicators"),
    path("indicators/rollup/", views.IndicatorRollupView.as_view(), name="indicator-rollup"),
    path("indicators/<int:position_id>/", views.IndicatorDetailView.as_view(), name="indicator-detail"),
    path("alert-policies/", views.PolicyListView.as_view(), name="alert-policies"),
    path("alert-policies/rules/", views.RuleCatalogView.as_view(), name="alert-rules"),
    path("alert-policies/<uuid:policy_id>/", views.PolicyDetailView.as_view(), name="alert-policy-detail"),
    path("policy-changes/", views.PolicyChangeListView.as_view(), name="policy-changes"),
    path("policy-changes/<uuid:change_id>/", views.PolicyChangeDetailView.as_view(), name="policy-change-detail"),
    path(
        "policy-changes/<uuid:change_id>/revert/", views.PolicyChangeRevertView.as_view(), name="policy-change-revert"
    ),
    path("evaluations/", views.EvaluationListView.as_view(), name="evaluations"),
    path("evaluations/<uuid:evaluation_id>/", views.EvaluationDetailView.as_view(), name="evaluation-detail"),
    path("ingest/signals/", views.SignalIngestView.as_view(), name="ingest-signals"),
]
