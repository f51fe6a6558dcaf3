"""Webhook tasks: the relay from the outbox, one attempt of a delivery, the due sweep, pruning."""

from celery import shared_task

from core.webhooks import delivery, relay


@shared_task(name="tripline.webhooks.relay", acks_late=True, time_limit=120, soft_time_limit=100)
def webhooks_relay() -> int:
    """Fan new outbox events out to deliveries; events are claimed with SKIP LOCKED, so twice is safe."""
    return relay.outbox_drain()


@shared_task(name="tripline.webhooks.deliver", acks_late=True, time_limit=60, soft_time_limit=50)
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
