"""Endpoints (create, change, rotate the secret, test, delete) and redelivery; every write audited."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.exceptions import Conflict, NotFound
from core.webhooks.events import WEBHOOK_PING
from core.webhooks.models import Delivery, DeliveryState, OutboxEvent, WebhookEndpoint
from core.webhooks.outbox import EVENT_TYPES, event_id_new
from core.webhooks.relay import delivery_enqueue
from core.webhooks.signing import secret_new
from core.webhooks.url_safety import UnsafeUrl, url_resolve
from tenants.models import Partner, Tenant
from tenants.principals import Principal
from tenants.services import audit_record


def _checked(url: str | None, event_types: list[str] | None) -> None:
    errors: dict[str, list[str]] = {}
    if url is not None:
        try:
            url_resolve(url)
        except UnsafeUrl as exc:
            errors["url"] = [str(exc)]
    if event_types is not None:
        unknown = sorted(set(event_types) - EVENT_TYPES.keys())
        if unknown:
            errors["event_types"] = [
                f"Not in the event catalog: {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}."
            ]
        if not event_types:
            errors["event_types"] = ["Subscribe to at least one event type."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def endpoint_create(
    *,
    tenant: Tenant,
    actor: Principal,
    url: str,
    event_types: list[str],
    description: str = "",
    partner: Partner | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which is shown this once."""
    _checked(url, event_types)
    if partner is not None and partner.tenant_id != tenant.pk:
        raise ValidationError({"partner": "Not a partner of this tenant."})
    secret = secret_new()
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        partner=partner,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        secret=secret,
    )
    audit_record(tenant=tenant, actor=actor, action="webhook_endpoint.created", target=endpoint, data={"url": url})
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, actor: Principal, **values: object) -> WebhookEndpoint:
    """Change URL, event types, description or the active flag; re-activating clears the failure."""
    _checked(values.get("url"), values.get("event_types"))
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    for name, value in values.items():
        setattr(endpoint, name, sorted(set(value)) if name == "event_types" else value)
    if values.get("is_active"):
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
    endpoint.save()
    changed = {"fields": sorted(values)}
    audit_record(tenant=endpoint.tenant, actor=actor, action="webhook_endpoint.updated", target=endpoint, data=changed)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: Principal) -> tuple[WebhookEndpoint, str]:
    """A new secret, shown once; the old one keeps signing alongside it for the grace period."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = secret_new()
    endpoint.previous_secret, endpoint.secret = endpoint.secret, secret
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    audit_record(tenant=endpoint.tenant, actor=actor, action="webhook_endpoint.secret_rotated", target=endpoint)
    return endpoint, secret


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, actor: Principal) -> None:
    audit_record(
        tenant=endpoint.tenant,
        actor=actor,
        action="webhook_endpoint.deleted",
        target=endpoint,
        data={"url": endpoint.url},
    )
    endpoint.delete()


@transaction.atomic
def endpoint_test(*, endpoint: WebhookEndpoint, actor: Principal) -> Delivery:
    """Send a ``webhook.ping`` to this endpoint alone, now."""
    if not endpoint.is_active:
        raise Conflict("The endpoint is disabled; re-activate it first (PATCH is_active).")
    now = timezone.now()
    event = OutboxEvent.objects.create(
        tenant_id=endpoint.tenant_id,
        event_id=event_id_new(),
        type=WEBHOOK_PING.name,
        data={"endpoint_id": str(endpoint.pk)},
        # Addressed to this endpoint alone: its own id, whoever holds it.
        partner_payloads={endpoint.partner.kind: {"endpoint_id": str(endpoint.pk)}} if endpoint.partner_id else {},
        created_at=now,
        relayed_at=now,
    )
    delivery = Delivery.objects.create(
        tenant_id=endpoint.tenant_id, endpoint=endpoint, event=event, next_attempt_at=now
    )
    audit_record(tenant=endpoint.tenant, actor=actor, action="webhook_endpoint.tested", target=endpoint)
    delivery_enqueue(str(delivery.pk))
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery, actor: Principal) -> Delivery:
    """Send the event again (same webhook-id), whatever came of the earlier attempts."""
    delivery = Delivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.is_active:
        raise Conflict("The endpoint is disabled; re-activate it first (PATCH is_active).")
    delivery.state, delivery.next_attempt_at = DeliveryState.PENDING, timezone.now()
    delivery.save(update_fields=["state", "next_attempt_at", "updated_at"])
    audit_record(tenant=delivery.tenant, actor=actor, action="webhook_delivery.redelivered", target=delivery)
    delivery_enqueue(str(delivery.pk))
    return delivery


# --- Reads ------------------------------------------------------------------------------------


def endpoint_list(*, principal: Principal) -> QuerySet[WebhookEndpoint]:
    """Staff see every endpoint of the tenant; a partner only its own."""
    endpoints = WebhookEndpoint.objects.filter(tenant=principal.tenant).select_related("partner")
    if principal.partner is not None:
        endpoints = endpoints.filter(partner=principal.partner)
    return endpoints.order_by("created_at", "id")


def endpoint_get(*, principal: Principal, endpoint_id: object) -> WebhookEndpoint:
    endpoint = endpoint_list(principal=principal).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound
    return endpoint


def delivery_list(*, principal: Principal) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.filter(tenant=principal.tenant).select_related("event", "endpoint")
    if principal.partner is not None:
        deliveries = deliveries.filter(endpoint__partner=principal.partner)
    return deliveries.prefetch_related("attempt_log").order_by("created_at", "id")


def delivery_get(*, principal: Principal, delivery_id: object) -> Delivery:
    delivery = delivery_list(principal=principal).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound
    return delivery
