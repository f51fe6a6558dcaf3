"""Tenancy endpoints: the caller's tenants, who the caller is, partners and their API keys."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ErrorResponseSerializer
from api.permissions import ADMINS, ANY_STAFF, EVERYONE
from api.tenant_scope import TenantScopedView
from api.tenants import serializers as s
from tenants import selectors, services
from tenants.models import ApiKey, Partner


class TenantListView(ListAPIView):
    """The tenants the caller belongs to: a user's memberships, or the one tenant of an API key."""

    serializer_class = s.TenantMembershipOutput
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self) -> list[dict]:
        api_key = self.request.auth if isinstance(self.request.auth, ApiKey) else None
        return selectors.tenants_visible(user=self.request.user, api_key=api_key)


class MeView(TenantScopedView):
    """Who the caller is in this tenant: a staff role, or a partner organization."""

    access = {"GET": EVERYONE}

    @extend_schema(responses=s.MeOutput)
    def get(self, request: Request, tenant_slug: str) -> Response:
        principal = self.principal
        data = {
            "tenant": principal.tenant,
            "kind": "staff" if principal.is_staff_member else "partner",
            "role": principal.role,
            "user": principal.user if principal.is_staff_member else None,
            "partner": principal.partner,
            "api_key": principal.api_key,
        }
        return Response(s.MeOutput(data).data)


class PartnerListView(TenantScopedView):
    """Partner organizations of the tenant. Staff read; admins create."""

    access = {"GET": ANY_STAFF, "POST": ADMINS}
    serializer_class = s.PartnerOutput
    queryset = Partner.objects.none()  # the model, for the schema; rows come from get_queryset
    filterset_fields = ["kind", "is_active"]

    def get_queryset(self):  # noqa: ANN201
        return selectors.partner_list(tenant=self.tenant)

    @extend_schema(responses=s.PartnerOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.PartnerOutput)

    @extend_schema(request=s.PartnerCreateInput, responses={201: s.PartnerOutput})
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = s.PartnerCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        partner = services.partner_create(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.PartnerOutput(partner).data, status=status.HTTP_201_CREATED)


class PartnerDetailView(TenantScopedView):
    access = {"GET": ANY_STAFF, "PATCH": ADMINS, "DELETE": ADMINS}
    serializer_class = s.PartnerOutput

    def get_object(self) -> Partner:
        return selectors.partner_get(tenant=self.tenant, partner_id=self.kwargs["partner_id"])

    def get(self, request: Request, tenant_slug: str, partner_id: str) -> Response:
        return Response(s.PartnerOutput(self.get_object()).data)

    @extend_schema(request=s.PartnerUpdateInput, responses=s.PartnerOutput)
    def patch(self, request: Request, tenant_slug: str, partner_id: str) -> Response:
        partner = self.get_object()
        data = s.PartnerUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        partner = services.partner_update(partner=partner, actor=self.principal, **data.validated_data)
        return Response(s.PartnerOutput(partner).data)

    @extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(ErrorResponseSerializer, description="An award refers to it: deactivate it instead."),
        }
    )
    def delete(self, request: Request, tenant_slug: str, partner_id: str) -> Response:
        services.partner_delete(partner=self.get_object(), actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _KeyHolderMixin:
    """Whose keys a view manages: a partner of the tenant, or the calling staff user."""

    def key_holder(self) -> dict:
        if "partner_id" in self.kwargs:
            return {"partner": selectors.partner_get(tenant=self.tenant, partner_id=self.kwargs["partner_id"])}
        return {"user": self.principal.user}


class ApiKeyListView(_KeyHolderMixin, TenantScopedView):
    """API keys. The secret is returned once, in the answer to POST; lists never carry it."""

    serializer_class = s.ApiKeyOutput
    queryset = ApiKey.objects.none()  # the model, for the schema

    def get_queryset(self):  # noqa: ANN201
        return selectors.api_key_list(tenant=self.tenant, **self.key_holder())

    @extend_schema(responses=s.ApiKeyOutput(many=True))
    def get(self, request: Request, tenant_slug: str, **kwargs: str) -> Response:
        return self.list_page(s.ApiKeyOutput)

    @extend_schema(request=s.ApiKeyCreateInput, responses={201: s.ApiKeyCreatedOutput})
    def post(self, request: Request, tenant_slug: str, **kwargs: str) -> Response:
        holder = self.key_holder()
        data = s.ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, full_key = services.api_key_create(
            tenant=self.tenant, actor=self.principal, **holder, **data.validated_data
        )
        key.key = full_key
        return Response(s.ApiKeyCreatedOutput(key).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(_KeyHolderMixin, TenantScopedView):
    serializer_class = s.ApiKeyOutput

    def get(self, request: Request, tenant_slug: str, key_id: str, **kwargs: str) -> Response:
        key = selectors.api_key_get(tenant=self.tenant, key_id=key_id, **self.key_holder())
        return Response(s.ApiKeyOutput(key).data)


class ApiKeyRevokeView(_KeyHolderMixin, TenantScopedView):
    """Revoke a key at once; requests with it answer 401 from now on. Revoking twice is harmless."""

    serializer_class = s.ApiKeyOutput

    @extend_schema(request=None, responses=s.ApiKeyOutput)
    def post(self, request: Request, tenant_slug: str, key_id: str, **kwargs: str) -> Response:
        key = selectors.api_key_get(tenant=self.tenant, key_id=key_id, **self.key_holder())
        key = services.api_key_revoke(key=key, actor=self.principal)
        return Response(s.ApiKeyOutput(key).data)


class PartnerApiKeyListView(ApiKeyListView):
    access = {"GET": ADMINS, "POST": ADMINS}


class PartnerApiKeyDetailView(ApiKeyDetailView):
    access = {"GET": ADMINS}


class PartnerApiKeyRevokeView(ApiKeyRevokeView):
    access = {"POST": ADMINS}


class MyApiKeyListView(ApiKeyListView):
    """A staff user's own keys, for scripts; they act with the user's role."""

    access = {"GET": ANY_STAFF, "POST": ANY_STAFF}


class MyApiKeyDetailView(ApiKeyDetailView):
    access = {"GET": ANY_STAFF}


class MyApiKeyRevokeView(ApiKeyRevokeView):
    access = {"POST": ANY_STAFF}
