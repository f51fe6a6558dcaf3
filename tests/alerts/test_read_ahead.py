"""A full run reads the next chunk ahead of its locks; what changed in between is read again."""

import pytest
from django.utils import timezone

from core.alerts.engine import ReadAhead, chunk_evaluate, rows_prefetch
from core.alerts.models import IndicatorReading
from core.inventory.models import Position
from tests.support.ingest import push_rows, ts
from workers.tasks.evaluation import evaluation_incremental

pytestmark = pytest.mark.usefixtures("transactional_db")


def _line(kind: str, quantity: int, days_ago: int, ref: str) -> dict:
    return {
        "kind": kind,
        "sku": "S",
        "warehouse": "W",
        "quantity": quantity,
        "occurred_at": ts(days_ago),
        "external_ref": ref,
    }


def test_a_push_between_the_read_ahead_and_the_chunk_is_not_lost(shop) -> None:
    slug, today = shop.tenant.slug, timezone.now().date()
    assert push_rows(shop.admin, slug, "movements", [_line("receipt", 100, 10, "r1")]).status_code == 201
    ids = list(Position.objects.filter(tenant=shop.tenant).order_by("id").values_list("id", flat=True))
    chunk_evaluate(tenant=shop.tenant, position_ids=ids, today=today, actor="test")
    position = Position.objects.get(tenant=shop.tenant, sku__code="S")
    ahead = rows_prefetch(tenant=shop.tenant, position_ids=ids, today=today)
    assert {row["id"]: row["on_hand"] for row in ahead.rows}[position.pk] == 100
    assert ahead.readings[position.pk]["on_hand"] == 100  # graded ahead too
    # The push lands after the read-ahead and before the chunk takes its locks.
    assert push_rows(shop.admin, slug, "movements", [_line("sale", 60, 0, "s1")]).status_code == 201
    counts = chunk_evaluate(tenant=shop.tenant, position_ids=ids, today=today, actor="test", prefetched=ahead)
    assert counts["positions"] == len(ids)
    reading = IndicatorReading.objects.get(position=position)
    assert (reading.on_hand, reading.ads_7) == (40, round(60 / 7, 4))
    assert not Position.objects.filter(pk=position.pk, dirty_since__isnull=False).exists()


def test_positions_the_read_ahead_did_not_see_are_read_in_the_chunk(shop) -> None:
    slug, today = shop.tenant.slug, timezone.now().date()
    assert push_rows(shop.admin, slug, "movements", [_line("receipt", 5, 3, "r1")]).status_code == 201
    ids = list(Position.objects.filter(tenant=shop.tenant).order_by("id").values_list("id", flat=True))
    ahead = ReadAhead(rows=[], readings={}, trips={}, started_at=timezone.now(), today=today)
    counts = chunk_evaluate(tenant=shop.tenant, position_ids=ids, today=today, actor="test", prefetched=ahead)
    assert counts["positions"] == len(ids)
    assert IndicatorReading.objects.filter(position_id__in=ids).count() == len(ids)


def test_an_incremental_pass_between_the_read_ahead_and_the_chunk_wins(shop) -> None:
    slug, today = shop.tenant.slug, timezone.now().date()
    assert push_rows(shop.admin, slug, "movements", [_line("receipt", 100, 10, "r1")]).status_code == 201
    ids = list(Position.objects.filter(tenant=shop.tenant).order_by("id").values_list("id", flat=True))
    chunk_evaluate(tenant=shop.tenant, position_ids=ids, today=today, actor="test")
    ahead = rows_prefetch(tenant=shop.tenant, position_ids=ids, today=today)
    # A push and the incremental pass it triggers both commit before the chunk locks: the
    # position is clean again, but the rows read ahead are older than what the pass wrote.
    assert push_rows(shop.admin, slug, "movements", [_line("sale", 60, 0, "s1")]).status_code == 201
    evaluation_incremental(str(shop.tenant.pk))
    chunk_evaluate(tenant=shop.tenant, position_ids=ids, today=today, actor="test", prefetched=ahead)
    assert IndicatorReading.objects.get(position__sku__code="S", tenant=shop.tenant).on_hand == 40
