"""Forecasting endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.forecasting import promotion_views, views

urlpatterns = [
    path("forecasts/", views.ForecastListView.as_view(), name="forecasts"),
    path("forecasts/<int:position_id>/", views.ForecastDetailView.as_view(), name="forecast-detail"),
    path("forecast-accuracy/", views.ForecastAccuracyView.as_view(), name="forecast-accuracy"),
    path("promotions/", promotion_views.PromotionListView.as_view(), name="promotions"),
    path("promotions/<uuid:promotion_id>/", promotion_views.PromotionDetailView.as_view(), name="promotion-detail"),
]
