"""Transfer endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.transfers import views

urlpatterns = [
    path("shared-stock/", views.SharedStockView.as_view(), name="shared-stock"),
    path("shared-stock/regions/", views.SharedStockRegionsView.as_view(), name="shared-stock-regions"),
    path("partners/<uuid:partner_id>/grants/", views.GrantListView.as_view(), name="partner-grants"),
    path(
        "partners/<uuid:partner_id>/grants/<uuid:warehouse_id>/",
        views.GrantDetailView.as_view(),
        name="partner-grant-detail",
    ),
    path("transfers/", views.TransferListView.as_view(), name="transfers"),
    path("transfers/<uuid:transfer_id>/", views.TransferDetailView.as_view(), name="transfer-detail"),
    path("transfers/<uuid:transfer_id>/approve/", views.TransferApproveView.as_view(), name="transfer-approve"),
    path("transfers/<uuid:transfer_id>/reject/", views.TransferRejectView.as_view(), name="transfer-reject"),
    path("transfers/<uuid:transfer_id>/ship/", views.TransferShipView.as_view(), name="transfer-ship"),
    path("transfers/<uuid:transfer_id>/receive/", views.TransferReceiveView.as_view(), name="transfer-receive"),
    path("transfers/<uuid:transfer_id>/cancel/", views.TransferCancelView.as_view(), name="transfer-cancel"),
    path("transfer-policy/", views.TransferPolicyView.as_view(), name="transfer-policy"),
    path("transfer-lanes/", views.LaneListView.as_view(), name="transfer-lanes"),
    path("transfer-lanes/<uuid:lane_id>/", views.LaneDetailView.as_view(), name="transfer-lane-detail"),
    path("transfer-plans/", views.PlanListView.as_view(), name="transfer-plans"),
    path("transfer-plans/<uuid:plan_id>/", views.PlanDetailView.as_view(), name="transfer-plan-detail"),
    path("transfer-plans/<uuid:plan_id>/moves/", views.PlanMoveListView.as_view(), name="transfer-plan-moves"),
    path("transfer-plans/<uuid:plan_id>/accept/", views.PlanAcceptView.as_view(), name="transfer-plan-accept"),
]
