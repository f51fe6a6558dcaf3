"""Idempotency keys for bulk pushes.

A push claims its key in a committed row before any work, so a concurrent duplicate sees it
(409). The push's own transaction completes the row together with the data it writes, so a
stored response always matches what was written. A retried push with the same key and body gets
the stored response and writes nothing; the same key with another body is refused (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import Conflict
from core.inventory.models import IdempotencyRecord
from tenants.models import Tenant


class IdempotencyKeyReused(Exception):
    """The key was used for a different request body (422)."""


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict


def idempotency_claim(
    *, tenant: Tenant, source: str, key: str, endpoint: str, request_hash: str
) -> IdempotencyRecord | Replay:
    """Claim ``key`` of ``source`` for this request, or answer how an earlier request with it ended."""
    stale_before = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS)
    for _ in range(2):
        existing = IdempotencyRecord.objects.filter(tenant=tenant, source=source, key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    return IdempotencyRecord.objects.create(
                        tenant=tenant, source=source, key=key, endpoint=endpoint, request_hash=request_hash
                    )
            except IntegrityError:
                continue  # another request claimed it between our read and insert: look again
        if existing.endpoint != endpoint or existing.request_hash != request_hash:
            raise IdempotencyKeyReused
        if existing.completed_at is not None:
            return Replay(status=existing.response_status, body=existing.response_body)
        if existing.created_at >= stale_before:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry in a few seconds.")
        # The first attempt died without finishing (its transaction rolled back): take over, unless
        # another retry took over first (compare-and-swap on the claim time).
        claimed_at = timezone.now()
        updated = IdempotencyRecord.objects.filter(
            pk=existing.pk, completed_at__isnull=True, created_at=existing.created_at
        ).update(created_at=claimed_at)
        if updated:
            existing.created_at = claimed_at
            return existing
    raise Conflict("A request with this Idempotency-Key is still being processed; retry in a few seconds.")


def idempotency_complete(*, record: IdempotencyRecord, status: int, body: dict) -> None:
    """Store the response; call inside the transaction that wrote the request's data.

    Only the holder of the claim completes it: a request whose claim was taken over (it ran past
    the stale limit) fails here, and its transaction with it.
    """
    completed = IdempotencyRecord.objects.filter(
        pk=record.pk, completed_at__isnull=True, created_at=record.created_at
    ).update(completed_at=timezone.now(), response_status=status, response_body=body)
    if not completed:
        raise Conflict("This request's Idempotency-Key was taken over by a retry; its answer stands.")


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed unexpectedly, so a retry can run at once."""
    IdempotencyRecord.objects.filter(pk=record.pk, completed_at__isnull=True).delete()


def idempotency_prune() -> int:
    """Delete keys past their retention (at least 24 hours; IDEMPOTENCY_KEY_TTL_HOURS)."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
