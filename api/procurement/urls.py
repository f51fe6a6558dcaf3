"""Procurement endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.procurement import views

urlpatterns = [
    path("supplier-offers/", views.OfferListView.as_view(), name="supplier-offers"),
    path("supplier-offers/<uuid:offer_id>/", views.OfferDetailView.as_view(), name="supplier-offer-detail"),
    path("procurement-limits/", views.LimitsView.as_view(), name="procurement-limits"),
    path("rfqs/", views.RfqListView.as_view(), name="rfqs"),
    path("rfqs/<uuid:rfq_id>/", views.RfqDetailView.as_view(), name="rfq-detail"),
    path("rfqs/<uuid:rfq_id>/quotes/", views.RfqQuoteListView.as_view(), name="rfq-quotes"),
    path("rfqs/<uuid:rfq_id>/quotes/<uuid:quote_id>/", views.RfqQuoteDetailView.as_view(), name="rfq-quote-detail"),
    path(
        "rfqs/<uuid:rfq_id>/quotes/<uuid:quote_id>/withdraw/",
        views.RfqQuoteWithdrawView.as_view(),
        name="rfq-quote-withdraw",
    ),
    path("rfqs/<uuid:rfq_id>/award/", views.RfqAwardView.as_view(), name="rfq-award"),
    path("rfqs/<uuid:rfq_id>/cancel/", views.RfqCancelView.as_view(), name="rfq-cancel"),
    path("purchase-orders/", views.PurchaseOrderListView.as_view(), name="purchase-orders"),
    path("purchase-orders/<uuid:order_id>/", views.PurchaseOrderDetailView.as_view(), name="purchase-order-detail"),
    path("purchase-orders/<uuid:order_id>/close/", views.PurchaseOrderCloseView.as_view(), name="purchase-order-close"),
    path("recommendations/", views.RecommendationListView.as_view(), name="recommendations"),
    path(
        "recommendations/<uuid:recommendation_id>/",
        views.RecommendationDetailView.as_view(),
        name="recommendation-detail",
    ),
    path(
        "recommendations/<uuid:recommendation_id>/accept/",
        views.RecommendationAcceptView.as_view(),
        name="recommendation-accept",
    ),
    path(
        "recommendations/<uuid:recommendation_id>/reject/",
        views.RecommendationRejectView.as_view(),
        name="recommendation-reject",
    ),
]
