"""Threshold tuner endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.tuning import views

urlpatterns = [
    path("tuning/settings/", views.TuningSettingsView.as_view(), name="tuning-settings"),
    path("tuning/runs/", views.TuningRunView.as_view(), name="tuning-runs"),
    path("tuning/proposals/", views.ProposalListView.as_view(), name="tuning-proposals"),
    path("tuning/proposals/<uuid:proposal_id>/", views.ProposalDetailView.as_view(), name="tuning-proposal-detail"),
    path(
        "tuning/proposals/<uuid:proposal_id>/accept/", views.ProposalAcceptView.as_view(), name="tuning-proposal-accept"
    ),
    path(
        "tuning/proposals/<uuid:proposal_id>/reject/", views.ProposalRejectView.as_view(), name="tuning-proposal-reject"
    ),
]
