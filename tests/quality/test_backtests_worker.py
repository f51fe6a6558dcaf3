"""A backtest started over HTTP runs on a real Celery worker: its progress reaches the period's days,
its report is stored, a second delivery of its task changes nothing, and the replay writes nothing
of the live tenant (no alert, reading, RFQ, recommendation or outbox event)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from core.alerts.models import Alert, IndicatorReading
from core.playbooks.models import Recommendation
from core.procurement.models import Rfq
from core.quality.models import WarningBacktest
from core.webhooks.models import OutboxEvent
from tests.support.calls import ok, pushed, url
from tests.support.celery_worker import worker_idle_wait
from tests.support.histories import sku_with_history, weekly
from tests.support.waiting import wait_for
from workers.app import app
from workers.tasks.quality import warning_backtest_run, warning_backtests_recover

pytestmark = pytest.mark.usefixtures("transactional_db")

TODAY = timezone.now().date()


def _live_rows(world) -> dict[str, int]:
    tenant = world.tenant
    return {
        "alerts": Alert.objects.filter(tenant=tenant).count(),
        "readings": IndicatorReading.objects.filter(tenant=tenant).count(),
        "rfqs": Rfq.objects.filter(tenant=tenant).count(),
        "recommendations": Recommendation.objects.filter(tenant=tenant).count(),
        "outbox": OutboxEvent.objects.filter(tenant_id=tenant.pk).count(),
    }


def _running_out(world) -> None:
    """The world's SKU sold 10 a day from 200 received 60 days ago: out of stock from 40 days ago
    until the world's receipt of 10, 3 days ago."""
    rows = [
        {
            "kind": "receipt",
            "sku": "SKU-1",
            "warehouse": world.warehouse.code,
            "quantity": 200,
            "occurred_at": f"{TODAY - timedelta(days=60)}T08:00:00Z",
            "external_ref": "short-in",
        }
    ]
    rows += [
        {
            "kind": "sale",
            "sku": "SKU-1",
            "warehouse": world.warehouse.code,
            "quantity": 10,
            "unit_price": "2.5",
            "occurred_at": f"{TODAY - timedelta(days=60 - day)}T12:00:00Z",
            "external_ref": f"short-{day}",
        }
        for day in range(20)
    ]
    pushed(world, "movements", rows)


def test_a_backtest_runs_on_the_worker_to_its_last_day_and_writes_nothing_live(world, celery_worker_process) -> None:
    sku_with_history(world, "SKU-WEEKLY", weekly())
    _running_out(world)
    worker_idle_wait()  # the pushes' own evaluations and forecasts are done before counting
    before = _live_rows(world)
    day_from, day_to = TODAY - timedelta(days=45), TODAY - timedelta(days=1)

    started = ok(
        world.planner.client.post(
            url(world, "warning-backtests/"),
            {"day_from": day_from.isoformat(), "day_to": day_to.isoformat(), "label": "on the worker"},
            format="json",
        ),
        202,
    )
    detail = url(world, f"warning-backtests/{started['id']}/")
    done = wait_for(
        lambda: (body := ok(world.planner.client.get(detail)))["status"] in ("succeeded", "failed") and body,
        "finished backtest",
        timeout=120,
    )
    assert done["status"] == "succeeded", done["error"]
    assert done["days_total"] == (day_to - day_from).days + 1 == 45
    assert done["days_done"] == done["days_total"]
    assert done["progress"] == 1.0
    assert done["started_at"] <= done["heartbeat_at"] <= done["finished_at"]
    report = done["report"]
    assert {"overall", "by_rule", "by_grade", "by_velocity_class", "by_category", "assumptions"} <= set(report)
    assert report["seconds"] >= 0
    worker_idle_wait()
    assert _live_rows(world) == before

    # A second delivery of the same task finds it finished and leaves it as it was.
    stored = WarningBacktest.objects.get(pk=started["id"])
    warning_backtest_run.delay(started["id"])
    worker_idle_wait()
    again = WarningBacktest.objects.get(pk=started["id"])
    assert (again.updated_at, again.report, again.status) == (stored.updated_at, stored.report, "succeeded")
    assert _live_rows(world) == before


def test_the_watchdog_on_the_beat_resends_lost_and_silent_backtests_and_gives_up_on_old_ones(
    world, celery_worker_process
) -> None:
    sku_with_history(world, "SKU-WEEKLY", weekly())
    worker_idle_wait()
    now = timezone.now()
    period = {"day_from": TODAY - timedelta(days=10), "day_to": TODAY - timedelta(days=1), "days_total": 10}

    def backtest(**state: object) -> WarningBacktest:
        made = WarningBacktest.objects.create(tenant=world.tenant, requested_by="test", **period)
        WarningBacktest.objects.filter(pk=made.pk).update(**state)
        return made

    # Queued an hour ago while the broker was down: its task was never sent.
    lost = backtest(created_at=now - timedelta(hours=1))
    # Running, its worker silent for an hour (killed mid-replay, 3 days done).
    silent = backtest(
        created_at=now - timedelta(hours=1),
        status="running",
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(hours=1),
        days_done=3,
    )
    # Queued just now (its task may be on its way), and running with a fresh heartbeat.
    fresh = backtest()
    busy = backtest(status="running", started_at=now, heartbeat_at=now)
    # Unfinished three task time limits after it started: given up.
    old = backtest(created_at=now - timedelta(seconds=3 * settings.CELERY_LONGEST_TASK_SECONDS + 60))
    assert "tripline.quality.warning_backtests_recover" in {e["task"] for e in app.conf.beat_schedule.values()}

    warning_backtests_recover.delay()
    wait_for(
        lambda: (
            set(WarningBacktest.objects.filter(pk__in=[lost.pk, silent.pk]).values_list("status", flat=True))
            == {"succeeded"}
        ),
        "the lost and the silent backtest run",
    )
    worker_idle_wait()
    for done in (lost, silent):
        done.refresh_from_db()
        assert done.days_done == 10
        assert done.report["period"]["days"] == 10
    statuses = dict(WarningBacktest.objects.values_list("pk", "status"))
    assert (statuses[fresh.pk], statuses[busy.pk], statuses[old.pk]) == ("queued", "running", "failed")
    assert "three task time limits" in WarningBacktest.objects.get(pk=old.pk).error
