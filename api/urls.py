from django.urls import include, path

from api.tenants import views as tenant_views

urlpatterns = [
    path("tenants/", tenant_views.TenantListView.as_view(), name="tenants"),
    path("tenants/<slug:tenant_slug>/", include("api.tenants.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.inventory.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.alerts.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.forecasting.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.webhooks.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.procurement.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.transfers.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.kpis.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.tuning.urls")),
    path("tenants/<slug:tenant_slug>/", include("api.quality.urls")),
]
