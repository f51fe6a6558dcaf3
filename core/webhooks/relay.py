"""The relay: new outbox events become deliveries, one per subscribed endpoint allowed to see them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from core.task_requests import task_request
from core.webhooks.audience import partner_grants
from core.webhooks.models import Delivery, OutboxEvent, WebhookEndpoint
from core.webhooks.outbox import RELAY_PENDING_KEY

DELIVER_TASK = "tripline.webhooks.deliver"
DELIVER_ENDPOINT_TASK = "tripline.webhooks.deliver_endpoint"


def _grants(endpoint: WebhookEndpoint) -> tuple[set | None, set | None]:
    """The SKUs and warehouses an endpoint's partner may hear of; None means no limit."""
    return partner_grants(endpoint.partner)


def _visible(event: OutboxEvent, endpoint: WebhookEndpoint, grants: tuple[set | None, set | None]) -> bool:
    if endpoint.partner_id is not None and endpoint.partner.kind not in event.partner_payloads:
        return False  # nothing of it was shaped for this partner kind
    if event.staff_only or event.recipient_id is not None:
        # Addressed events: the tenant's own endpoints (and those of a partner that sees the whole
        # tenant, the ERP) hear all of them, another partner only those addressed to it.
        if grants == (None, None):
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


def commit_unflushed() -> None:
    """Let the current transaction commit without waiting for its WAL to reach the disk.

    For writes whose loss in a database crash only sends something again: the relay (lost with its
    deliveries, the event is relayed again), a claim or an endpoint's hold (run out, the delivery is
    sent again with the same id). Under write load the flush was most of the time between a commit
    and its webhook. ``SET LOCAL`` ends with the transaction, so a pooled connection keeps nothing.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def _relay_batch(limit: int) -> tuple[int, int]:
    """(events relayed, deliveries created) of one batch."""
    cache.delete(RELAY_PENDING_KEY)
    now = timezone.now()
    with transaction.atomic():
        commit_unflushed()
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
        # Written as queued: a message per endpoint is sent once this commits (deliveries_enqueue).
        queued_until = now + timedelta(seconds=settings.WEBHOOK_QUEUE_LEASE_SECONDS)
        deliveries = [
            Delivery(
                tenant_id=event.tenant_id,
                endpoint=endpoint,
                event=event,
                next_attempt_at=now,
                queued_until=queued_until,
            )
            for event in events
            for endpoint, grants in endpoints.get(event.tenant_id, [])
            if event.type in endpoint.event_types and _visible(event, endpoint, grants)
        ]
        created = Delivery.objects.bulk_create(deliveries, batch_size=2000, ignore_conflicts=True)
        OutboxEvent.objects.filter(id__in=[event.id for event in events]).update(relayed_at=now)
        ids = [str(delivery.pk) for delivery in created]
        endpoint_ids = sorted({str(delivery.endpoint_id) for delivery in created})
        transaction.on_commit(lambda: _endpoints_send(endpoint_ids, 0, ids), robust=True)
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
    """Queue one message per endpoint of these deliveries once the current transaction commits; a
    message has its endpoint's due deliveries sent, these among them.

    Each is marked queued (for the countdown and WEBHOOK_QUEUE_LEASE_SECONDS) in the transaction,
    so a sweep running meanwhile does not queue it a second time.
    """
    if not delivery_ids:
        return
    until = timezone.now() + timedelta(seconds=countdown + settings.WEBHOOK_QUEUE_LEASE_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET queued_until = %s WHERE id = ANY(%s::uuid[]) RETURNING endpoint_id",  # noqa: S608 - the table name is code
            [until, delivery_ids],
        )
        endpoint_ids = sorted({str(row[0]) for row in cursor.fetchall()})
    transaction.on_commit(lambda: _endpoints_send(endpoint_ids, countdown, delivery_ids), robust=True)


def endpoints_enqueue(endpoint_ids: list[object], countdown: float = 0) -> None:
    """Queue a message for each endpoint, whose due deliveries are already marked queued (what a
    delivery task left when its time ran out): at once when outside a transaction."""
    ids = [str(endpoint_id) for endpoint_id in endpoint_ids]
    transaction.on_commit(lambda: _endpoints_send(ids, countdown, None), robust=True)


def _endpoints_send(endpoint_ids: list[str], countdown: float, delivery_ids: list[str] | None) -> None:
    for index, endpoint_id in enumerate(endpoint_ids):
        if not task_request(DELIVER_ENDPOINT_TASK, args=[endpoint_id], countdown=countdown):
            # The broker is out of reach: what was not sent is the next sweep's to send.
            if delivery_ids is not None:
                Delivery.objects.filter(pk__in=delivery_ids, endpoint_id__in=endpoint_ids[index:]).update(
                    queued_until=None
                )
            return


def delivery_enqueue(delivery_id: str) -> None:
    """Queue an attempt of this one delivery (a test ping, a redelivery: asked for by a person, so it
    does not wait behind the endpoint's backlog) once the current transaction commits."""
    until = timezone.now() + timedelta(seconds=settings.WEBHOOK_QUEUE_LEASE_SECONDS)
    Delivery.objects.filter(pk=delivery_id).update(queued_until=until)

    def send() -> None:
        if not task_request(DELIVER_TASK, args=[delivery_id]):
            Delivery.objects.filter(pk=delivery_id).update(queued_until=None)

    transaction.on_commit(send, robust=True)
