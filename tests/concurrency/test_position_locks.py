"""A writer's lock on positions does not hold up another transaction's commit.

Alerts and readings point at their position through a foreign key that PostgreSQL checks at
COMMIT, taking FOR KEY SHARE on the position. Writers lock positions FOR NO KEY UPDATE (none
changes a key), which lets that check through: with FOR UPDATE, an engine chunk committing a
reading waited for a push that held the position, and a push waiting for one of the chunk's
positions made it a deadlock.
"""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.alerts.engine import chunk_evaluate
from core.alerts.models import IndicatorReading
from core.inventory.ingestion import positions_lock
from core.inventory.models import Position
from tests.support.ingest import push_rows, ts

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_a_chunk_commits_its_reading_of_a_position_a_push_holds(shop) -> None:
    slug, today = shop.tenant.slug, timezone.now().date()
    line = {"kind": "receipt", "sku": "S", "warehouse": "W", "quantity": 5, "occurred_at": ts(1), "external_ref": "r"}
    assert push_rows(shop.admin, slug, "movements", [line]).status_code == 201
    position = Position.objects.get(tenant=shop.tenant, sku__code="S")
    # As when a push commits between the chunk's locking of the dirty positions and its read: the
    # chunk did not lock this position, and writes it a reading all the same.
    Position.objects.filter(pk=position.pk).update(dirty_since=None)
    held, release, evaluated = threading.Event(), threading.Event(), threading.Event()

    def push_holding_the_position() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                positions_lock(cursor, shop.tenant, [position.sku_id], [position.warehouse_id])
                held.set()
                release.wait(timeout=15)
        finally:
            connection.close()

    def evaluate() -> None:
        try:
            chunk_evaluate(tenant=shop.tenant, position_ids=[position.pk], today=today, actor="test")
            evaluated.set()
        finally:
            connection.close()

    holder = threading.Thread(target=push_holding_the_position)
    holder.start()
    assert held.wait(timeout=10)
    chunk = threading.Thread(target=evaluate)
    chunk.start()
    try:
        assert evaluated.wait(timeout=5), "the chunk's commit waited for the push's lock on the position"
    finally:
        release.set()
        holder.join(timeout=20)
        chunk.join(timeout=20)
    assert IndicatorReading.objects.filter(position=position).exists()
