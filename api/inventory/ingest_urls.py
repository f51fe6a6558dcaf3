from django.urls import path

from api.inventory import ingest_views as views

urlpatterns = [
    path("ingest/movements/", views.MovementIngestView.as_view(), name="ingest-movements"),
    path("ingest/categories/", views.CategoryIngestView.as_view(), name="ingest-categories"),
    path("ingest/warehouses/", views.WarehouseIngestView.as_view(), name="ingest-warehouses"),
    path("ingest/skus/", views.SkuIngestView.as_view(), name="ingest-skus"),
    path("anomalies/", views.AnomalyListView.as_view(), name="anomalies"),
    path("anomalies/<uuid:anomaly_id>/", views.AnomalyDetailView.as_view(), name="anomaly-detail"),
    path("anomalies/<uuid:anomaly_id>/confirm/", views.AnomalyConfirmView.as_view(), name="anomaly-confirm"),
    path("anomalies/<uuid:anomaly_id>/dismiss/", views.AnomalyDismissView.as_view(), name="anomaly-dismiss"),
]
