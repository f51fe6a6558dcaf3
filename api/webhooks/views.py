"""Webhook endpoints (staff manage all, a partner its own), their secret and test, and the delivery log."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import throttling
from api.errors import ErrorResponseSerializer
from api.filters import FilterSet, UUIDFilter
from api.input import InputSerializer
from api.pagination import CreatedCursorPagination
from api.permissions import ADMINS, ANY_STAFF, WEBHOOK_KEEPERS
from api.tenant_scope import TenantScopedView
from core.exceptions import NotFound
from core.webhooks import services
from core.webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from core.webhooks.outbox import EVENT_TYPES
from tenants.selectors import partner_get

READERS = ANY_STAFF | WEBHOOK_KEEPERS
WRITERS = ADMINS | WEBHOOK_KEEPERS  # admins for any endpoint, a partner for its own


class EndpointOutput(serializers.ModelSerializer):
    partner_id = serializers.UUIDField(allow_null=True)
    previous_secret_valid_until = serializers.DateTimeField(source="previous_secret_expires_at", allow_null=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "partner_id",
            "previous_secret_valid_until",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(help_text="Shown this once: store it to verify signatures.")

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]


class EndpointCreateInput(InputSerializer):
    url = serializers.URLField(max_length=2000)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)), min_length=1)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    partner_id = serializers.UUIDField(required=False, help_text="Admins only: whose endpoint it is.")


class EndpointUpdateInput(InputSerializer):
    url = serializers.URLField(max_length=2000, required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)), min_length=1, required=False
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict:
    endpoint.secret = secret
    return EndpointWithSecretOutput(endpoint).data


class EndpointListView(TenantScopedView):
    """Endpoints that receive signed events; the secret is in the creation answer only."""

    access = {"GET": READERS, "POST": WRITERS}
    queryset = WebhookEndpoint.objects.none()
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return services.endpoint_list(principal=self.principal)

    @extend_schema(responses=EndpointOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(EndpointOutput)

    @extend_schema(request=EndpointCreateInput, responses={201: EndpointWithSecretOutput})
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = EndpointCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        partner_id = values.pop("partner_id", None)
        if self.principal.partner is not None:
            if partner_id not in (None, self.principal.partner.pk):
                raise serializers.ValidationError({"partner_id": ["A partner creates endpoints for itself only."]})
            partner = self.principal.partner
        else:
            partner = self._partner(partner_id) if partner_id else None
        endpoint, secret = services.endpoint_create(tenant=self.tenant, actor=self.principal, partner=partner, **values)
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)

    def _partner(self, partner_id: object) -> object:
        try:
            return partner_get(tenant=self.tenant, partner_id=partner_id)
        except NotFound:
            raise serializers.ValidationError({"partner_id": ["No such partner in this tenant."]}) from None


class _EndpointView(TenantScopedView):
    """An endpoint's views: the endpoint the caller may see, by the id in the path."""

    def get_object(self) -> WebhookEndpoint:
        return services.endpoint_get(principal=self.principal, endpoint_id=self.kwargs["endpoint_id"])


class EndpointDetailView(_EndpointView):
    access = {"GET": READERS, "PATCH": WRITERS, "DELETE": WRITERS}

    @extend_schema(responses=EndpointOutput)
    def get(self, request: Request, tenant_slug: str, endpoint_id: str) -> Response:
        return Response(EndpointOutput(self.get_object()).data)

    @extend_schema(request=EndpointUpdateInput, responses=EndpointOutput)
    def patch(self, request: Request, tenant_slug: str, endpoint_id: str) -> Response:
        endpoint = self.get_object()
        data = EndpointUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, actor=self.principal, **data.validated_data)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(responses={204: OpenApiResponse(description="Deleted with its delivery log.")})
    def delete(self, request: Request, tenant_slug: str, endpoint_id: str) -> Response:
        services.endpoint_delete(endpoint=self.get_object(), actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretView(_EndpointView):
    """A new secret, shown once; the old one also signs for WEBHOOK_SECRET_GRACE_HOURS."""

    access = {"POST": WRITERS}

    @extend_schema(request=None, responses=EndpointWithSecretOutput)
    def post(self, request: Request, tenant_slug: str, endpoint_id: str) -> Response:
        endpoint, secret = services.endpoint_rotate_secret(endpoint=self.get_object(), actor=self.principal)
        return Response(_with_secret(endpoint, secret))


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["attempted_at", "status_code", "duration_ms", "response_body", "error"]


class DeliveryOutput(serializers.ModelSerializer):
    endpoint_id = serializers.UUIDField()
    webhook_id = serializers.CharField(source="event.event_id", help_text="The webhook-id header of every attempt.")
    event_type = serializers.CharField(source="event.type")
    attempt_log = AttemptOutput(many=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "endpoint_id",
            "webhook_id",
            "event_type",
            "state",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "succeeded_at",
            "attempt_log",
            "created_at",
        ]


class EndpointTestView(_EndpointView):
    """Send a ``webhook.ping`` event to this endpoint now (a few a minute); follow it in webhook-deliveries/."""

    access = {"POST": WRITERS}

    @extend_schema(request=None, responses={202: DeliveryOutput, 409: ErrorResponseSerializer})
    def post(self, request: Request, tenant_slug: str, endpoint_id: str) -> Response:
        endpoint = self.get_object()
        # Counted once the endpoint is found: only its own tenant's callers use up its pings.
        throttling.limit_enforce(scope="test_ping", ident=str(endpoint.pk))
        delivery = services.endpoint_test(endpoint=endpoint, actor=self.principal)
        delivery = services.delivery_get(principal=self.principal, delivery_id=delivery.pk)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryFilter(FilterSet):
    # By id: the endpoint's foreign key would be a choice among every endpoint, 400 for any other id.
    endpoint = UUIDFilter(field_name="endpoint_id", help_text="An endpoint's id.")

    class Meta:
        model = Delivery
        fields = {"event__type": ["exact"], "state": ["exact"]}


class DeliveryListView(TenantScopedView):
    """Every delivery with its attempts; filter by endpoint, event type and state."""

    access = {"GET": READERS}
    queryset = Delivery.objects.none()
    pagination_class = CreatedCursorPagination
    filterset_class = DeliveryFilter

    def get_queryset(self):  # noqa: ANN201
        return services.delivery_list(principal=self.principal)

    @extend_schema(responses=DeliveryOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(DeliveryOutput)


class DeliveryDetailView(TenantScopedView):
    access = {"GET": READERS}

    @extend_schema(responses=DeliveryOutput)
    def get(self, request: Request, tenant_slug: str, delivery_id: str) -> Response:
        return Response(DeliveryOutput(services.delivery_get(principal=self.principal, delivery_id=delivery_id)).data)


class DeliveryRedeliverView(TenantScopedView):
    """Send the event again with the same webhook-id."""

    access = {"POST": WRITERS}

    @extend_schema(request=None, responses={202: DeliveryOutput, 409: ErrorResponseSerializer})
    def post(self, request: Request, tenant_slug: str, delivery_id: str) -> Response:
        delivery = services.delivery_get(principal=self.principal, delivery_id=delivery_id)
        services.delivery_redeliver(delivery=delivery, actor=self.principal)
        delivery = services.delivery_get(principal=self.principal, delivery_id=delivery_id)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
