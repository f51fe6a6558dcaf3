"""Idempotency keys are kept at least 24 hours, then pruned by the beat-scheduled task."""

from datetime import timedelta

from django.utils import timezone

from core.inventory.models import IdempotencyRecord
from workers.app import app
from workers.tasks.ingestion import prune_idempotency_keys


def test_prune_deletes_only_keys_past_retention(world, settings) -> None:
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 48
    old = IdempotencyRecord.objects.create(tenant=world.tenant, key="old", endpoint="movements", request_hash="x")
    day_old = IdempotencyRecord.objects.create(tenant=world.tenant, key="day", endpoint="movements", request_hash="y")
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=49))
    IdempotencyRecord.objects.filter(pk=day_old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert prune_idempotency_keys() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["day"]


def test_pruning_is_on_the_beat_schedule() -> None:
    entries = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "tripline.ingestion.idempotency_prune" in entries
