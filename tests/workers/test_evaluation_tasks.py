"""The warning engine on a real worker: a push is evaluated shortly after it commits, a burst of
pushes makes few passes, and a run whose worker died is picked up again without duplicates."""

import uuid
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from core.alerts.models import Alert, EvaluationRun, EvaluationStatus, EvaluationTrigger
from core.inventory.models import Position
from tests.support.ingest import push_rows, ts
from tests.support.waiting import wait_for
from workers.app import app
from workers.tasks.evaluation import evaluation_recover

pytestmark = pytest.mark.usefixtures("transactional_db")


def _stale_stock(world, sku: str, ref: str) -> None:
    """Stock received 200 days ago and never sold: overstock red once evaluated."""
    slug = world.tenant.slug
    response = push_rows(
        world.admin,
        slug,
        "skus",
        [{"code": sku, "name": sku, "category": world.category.code, "unit_cost": "1", "list_price": "2"}],
    )
    assert response.status_code == 201, response.json()
    rows = [
        {
            "kind": "receipt",
            "sku": sku,
            "warehouse": world.warehouse.code,
            "quantity": 40,
            "occurred_at": ts(200),
            "external_ref": ref,
        }
    ]
    response = push_rows(world.admin, slug, "movements", rows)
    assert response.status_code == 201, response.json()


def test_a_push_is_evaluated_by_the_worker_shortly_after_it_commits(world, celery_worker_process) -> None:
    _stale_stock(world, "SKU-STALE", "stale-1")
    url = f"/api/v1/tenants/{world.tenant.slug}/alerts/?sku=SKU-STALE"
    alerts = wait_for(lambda: world.planner.client.get(url).json()["results"])
    assert [(a["rule"], a["grade"], a["status"]) for a in alerts] == [("overstock", "red", "open")]
    detail = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/alerts/{alerts[0]['id']}/").json()
    run = EvaluationRun.objects.get(tenant=world.tenant, trigger=EvaluationTrigger.INCREMENTAL)
    assert detail["timeline"][0]["kind"] == "opened"
    assert detail["timeline"][0]["actor"] == f"system:evaluation {run.pk}"
    wait_for(lambda: EvaluationRun.objects.filter(pk=run.pk, status=EvaluationStatus.SUCCEEDED).exists())
    assert not Position.objects.filter(tenant=world.tenant, dirty_since__isnull=False).exists()


def test_a_burst_of_pushes_makes_fewer_passes_than_pushes(world, celery_worker_process) -> None:
    for number in range(6):
        _stale_stock(world, f"SKU-B{number}", f"burst-{number}")
    wait_for(lambda: Alert.objects.filter(tenant=world.tenant, sku__code__startswith="SKU-B").count() == 6)
    wait_for(lambda: not Position.objects.filter(tenant=world.tenant, dirty_since__isnull=False).exists())
    passes = EvaluationRun.objects.filter(tenant=world.tenant, trigger=EvaluationTrigger.INCREMENTAL).count()
    # Twelve commits (a SKU and a receipt each time): debounced into far fewer passes.
    assert 1 <= passes < 6, passes


def test_a_run_whose_worker_died_is_resumed_without_duplicate_alerts(world, celery_worker_process) -> None:
    for number in range(3):
        _stale_stock(world, f"SKU-K{number}", f"killed-{number}")
    wait_for(lambda: Alert.objects.filter(tenant=world.tenant, sku__code__startswith="SKU-K").count() == 3)
    first = Position.objects.filter(tenant=world.tenant).order_by("id").first()
    # What a worker killed mid-run leaves behind: running, a lease, one chunk done, a silent heartbeat.
    dead = EvaluationRun.objects.create(
        tenant=world.tenant,
        trigger=EvaluationTrigger.MANUAL,
        status=EvaluationStatus.RUNNING,
        requested_by="test",
        as_of=timezone.now().date(),
        positions_total=Position.objects.filter(tenant=world.tenant).count(),
        positions_done=1,
        cursor=first.pk,
        attempts=1,
        lease=uuid.uuid4(),
        heartbeat_at=timezone.now() - timedelta(minutes=10),
        started_at=timezone.now() - timedelta(minutes=11),
    )
    evaluation_recover.delay()
    wait_for(lambda: EvaluationRun.objects.filter(pk=dead.pk, status=EvaluationStatus.SUCCEEDED).exists())
    dead.refresh_from_db()
    assert dead.attempts == 2
    assert dead.positions_done == dead.positions_total
    duplicates = (
        Alert.objects.filter(tenant=world.tenant, active=True)
        .values("position_id", "rule")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert Alert.objects.filter(tenant=world.tenant, sku__code__startswith="SKU-K", active=True).count() == 3


def test_the_sweep_and_the_watchdog_are_on_the_beat_schedule() -> None:
    entries = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"tripline.evaluation.sweep", "tripline.evaluation.recover"} <= entries
