"""Housekeeping of bulk ingestion."""

from celery import shared_task

from core.inventory.idempotency import idempotency_prune


@shared_task(name="tripline.ingestion.idempotency_prune", acks_late=True, time_limit=300, soft_time_limit=240)
def prune_idempotency_keys() -> int:
    """Delete Idempotency-Keys past their retention; safe to run twice."""
    return idempotency_prune()
