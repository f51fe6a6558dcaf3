"""Inventory endpoints under /api/v1/tenants/{tenant_slug}/."""

from django.urls import include, path

urlpatterns = [
    path("", include("api.inventory.master_urls")),
    path("", include("api.inventory.stock_urls")),
    path("", include("api.inventory.ingest_urls")),
]
