"""Forecasting endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.forecasting import views

urlpatterns = [
    path("forecast-accuracy/", views.ForecastAccuracyView.as_view(), name="forecast-accuracy"),
]
