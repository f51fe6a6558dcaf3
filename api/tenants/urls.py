from django.urls import path

from api.tenants import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/api-keys/", views.MyApiKeyListView.as_view(), name="my-api-keys"),
    path("me/api-keys/<uuid:key_id>/", views.MyApiKeyDetailView.as_view(), name="my-api-key-detail"),
    path("me/api-keys/<uuid:key_id>/revoke/", views.MyApiKeyRevokeView.as_view(), name="my-api-key-revoke"),
    path("partners/", views.PartnerListView.as_view(), name="partners"),
    path("partners/<uuid:partner_id>/", views.PartnerDetailView.as_view(), name="partner-detail"),
    path("partners/<uuid:partner_id>/api-keys/", views.PartnerApiKeyListView.as_view(), name="partner-api-keys"),
    path(
        "partners/<uuid:partner_id>/api-keys/<uuid:key_id>/",
        views.PartnerApiKeyDetailView.as_view(),
        name="partner-api-key-detail",
    ),
    path(
        "partners/<uuid:partner_id>/api-keys/<uuid:key_id>/revoke/",
        views.PartnerApiKeyRevokeView.as_view(),
        name="partner-api-key-revoke",
    ),
]
