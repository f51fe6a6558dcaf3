"""The relay: new outbox events become deliveries, one per subscribed endpoint allowed to see them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.task_requests import task_request
from core.webhooks.audience import partner_grants
from core.webhooks.models import Delivery, OutboxEvent, WebhookEndpoint
from core.webhooks.outbox import RELAY_PENDING_KEY
from tenants.models import PartnerKind

DELIVER_TASK = "tripline.webhooks.deliver"


def _grants(endpoint: WebhookEndpoint) -> tuple[set | None, set | None]:
    """The SKUs and warehouses an endpoint's partner may hear of; None means no limit."""
    return partner_grants(endpoint.partner)


def _visible(event: OutboxEvent, endpoint: WebhookEndpoint, grants: tuple[set | None, set | None]) -> bool:
    if endpoint.partner_id is not None and endpoint.partner.kind not in event.partner_payloads:
        return False  # nothing of it was shaped for this partner kind
    if event.staff_only or event.recipient_id is not None:
        # Addressed events: the tenant's own endpoints (and its ERP's) hear all of them, another
        # partner only those addressed to it.
        if endpoint.partner_id is None or endpoint.partner.kind == PartnerKind.ERP:
            return True
        return not event.staff_only and endpoint.partner_id == event.recipient_id
    skus, warehouses = grants
    if skus is not None:
        return event.sku_id is not None and event.sku_id in skus
    if warehouses is not None:
        return event.warehouse_id is not None and event.warehouse_id in warehouses
    return True


def outbox_relay(*, limit: int = 2000) -> int:
    """Fan out up to ``limit`` unrelayed events; answer how many deliveries were created."""
    return _relay_batch(limit)[1]


def _relay_batch(limit: int) -> tuple[int, int]:
    """(events relayed, deliveries created) of one batch."""
    cache.delete(RELAY_PENDING_KEY)
    now = timezone.now()
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.filter(relayed_at__isnull=True)
            .order_by("id")
            .select_for_update(skip_locked=True)[:limit]
        )
        if not events:
            return 0, 0
        endpoints: dict[object, list] = {}
        for endpoint in WebhookEndpoint.objects.filter(
            tenant_id__in={event.tenant_id for event in events}, is_active=True
        ).select_related("partner__group"):
            endpoints.setdefault(endpoint.tenant_id, []).append((endpoint, _grants(endpoint)))
        deliveries = [
            Delivery(tenant_id=event.tenant_id, endpoint=endpoint, event=event, next_attempt_at=now)
            for event in events
            for endpoint, grants in endpoints.get(event.tenant_id, [])
            if event.type in endpoint.event_types and _visible(event, endpoint, grants)
        ]
        created = Delivery.objects.bulk_create(deliveries, batch_size=2000, ignore_conflicts=True)
        OutboxEvent.objects.filter(id__in=[event.id for event in events]).update(relayed_at=now)
        deliveries_enqueue([str(delivery.pk) for delivery in created])
        _consumers_request(events)
    return len(events), len(created)


def _consumers_request(events: list[OutboxEvent]) -> None:
    """Hand the events in-house consumers follow to their tasks once the batch commits. A lost
    hand-off is caught by the consumer's own sweep, so this stays best-effort."""
    for task_name, types in settings.OUTBOX_CONSUMERS.items():
        ids = [event.id for event in events if event.type in types]
        if ids:
            transaction.on_commit(lambda name=task_name, ids=ids: task_request(name, args=[ids]), robust=True)


def outbox_drain(*, batch: int = 2000, max_batches: int = 100) -> int:
    """Relay batch after batch until a batch comes up short: a big commit is not left to the beat."""
    total = 0
    for _ in range(max_batches):
        events, deliveries = _relay_batch(batch)
        total += deliveries
        if events < batch:
            break
    return total


def deliveries_enqueue(delivery_ids: list[str], countdown: float = 0) -> None:
    """Queue one attempt of each delivery once the current transaction commits.

    Each is marked queued (for the countdown and WEBHOOK_QUEUE_LEASE_SECONDS) in the transaction,
    so a sweep running meanwhile does not queue it a second time.
    """
    if not delivery_ids:
        return
    until = timezone.now() + timedelta(seconds=countdown + settings.WEBHOOK_QUEUE_LEASE_SECONDS)
    Delivery.objects.filter(pk__in=delivery_ids).update(queued_until=until)
    transaction.on_commit(lambda: _deliveries_send(delivery_ids, countdown), robust=True)


def _deliveries_send(delivery_ids: list[str], countdown: float) -> None:
    for index, delivery_id in enumerate(delivery_ids):
        if not task_request(DELIVER_TASK, args=[delivery_id], countdown=countdown):
            # The broker is out of reach: what was not sent is the next sweep's to send.
            Delivery.objects.filter(pk__in=delivery_ids[index:]).update(queued_until=None)
            return
