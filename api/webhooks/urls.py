"""Webhook endpoints and deliveries under /api/v1/tenants/{tenant_slug}/."""

from django.urls import path

from api.webhooks import views

urlpatterns = [
    path("webhook-endpoints/", views.EndpointListView.as_view(), name="webhook-endpoints"),
    path("webhook-endpoints/<uuid:endpoint_id>/", views.EndpointDetailView.as_view(), name="webhook-endpoint"),
    path(
        "webhook-endpoints/<uuid:endpoint_id>/rotate-secret/",
        views.EndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path("webhook-endpoints/<uuid:endpoint_id>/test/", views.EndpointTestView.as_view(), name="webhook-endpoint-test"),
    path("webhook-deliveries/", views.DeliveryListView.as_view(), name="webhook-deliveries"),
    path("webhook-deliveries/<uuid:delivery_id>/", views.DeliveryDetailView.as_view(), name="webhook-delivery"),
    path(
        "webhook-deliveries/<uuid:delivery_id>/redeliver/",
        views.DeliveryRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
