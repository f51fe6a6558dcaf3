"""Webhook tasks: the relay from the outbox, an endpoint's due deliveries in batches, one named
delivery, the due sweep, pruning."""

from celery import shared_task
from django.conf import settings

from core.webhooks import delivery, relay

# A delivery task sends for WEBHOOK_BATCH_SECONDS and its last requests may take the timeout (twice,
# on a kept connection that turned out closed); the rest is recording. Below the lease a claimed
# delivery carries (batch + 4 x timeout), so a task is stopped before its deliveries are sent again.
_DELIVERY_SOFT_LIMIT = settings.WEBHOOK_BATCH_SECONDS + settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 10
_DELIVERY_LIMIT = _DELIVERY_SOFT_LIMIT + 10


@shared_task(name="tripline.webhooks.relay", acks_late=True, time_limit=120, soft_time_limit=100)
def webhooks_relay() -> int:
    """Fan new outbox events out to deliveries; events are claimed with SKIP LOCKED, so twice is safe."""
    return relay.outbox_drain()


@shared_task(
    name="tripline.webhooks.deliver_endpoint",
    acks_late=True,
    time_limit=_DELIVERY_LIMIT,
    soft_time_limit=_DELIVERY_SOFT_LIMIT,
)
def webhooks_deliver_endpoint(endpoint_id: str) -> int:
    """The endpoint's due deliveries, in batches over kept connections; answers how many attempts.
    Deliveries are claimed with SKIP LOCKED and the endpoint held by one task at a time, so twice is safe."""
    return delivery.endpoint_deliver(endpoint_id=endpoint_id)


@shared_task(
    name="tripline.webhooks.deliver", acks_late=True, time_limit=_DELIVERY_LIMIT, soft_time_limit=_DELIVERY_SOFT_LIMIT
)
def webhooks_deliver(delivery_id: str) -> None:
    """One attempt of a due delivery; a delivery not due (or taken) is left alone."""
    delivery.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="tripline.webhooks.sweep", time_limit=60, soft_time_limit=50)
def webhooks_sweep() -> int:
    """Relay what no commit hook relayed (Redis was down) and queue due deliveries that no queued
    message covers; answer how many were queued."""
    relay.outbox_drain()
    return delivery.deliveries_due_enqueue()


@shared_task(name="tripline.webhooks.prune", time_limit=300, soft_time_limit=240)
def webhooks_prune() -> int:
    return delivery.deliveries_prune()
