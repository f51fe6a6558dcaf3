"""Forecasts on a real worker: pushes have their positions fitted shortly after they commit, a
later push refits only the position it changed, and the daily sweep queues every tenant."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.forecasting.models import Forecast
from tests.support.celery_worker import worker_idle_wait
from tests.support.histories import intermittent, sku_with_history, weekly
from tests.support.ingest import push_rows, ts
from tests.support.waiting import wait_for
from workers.tasks.forecasting import forecasting_refresh, forecasting_sweep

pytestmark = pytest.mark.usefixtures("transactional_db")


def _fitted(world) -> dict[str, str]:
    url = f"/api/v1/tenants/{world.tenant.slug}/forecasts/"
    return {row["sku"]: row["fitted_at"] for row in world.planner.client.get(url).json()["results"]}


def test_a_push_refits_the_position_it_changed_and_no_other(world, celery_worker_process) -> None:
    sku_with_history(world, "SKU-RARE", intermittent())
    sku_with_history(world, "SKU-WEEKLY", weekly())
    before = wait_for(lambda: (found := _fitted(world)) and len(found) == 3 and found)
    worker_idle_wait()
    before = _fitted(world)

    response = push_rows(
        world.admin,
        world.tenant.slug,
        "movements",
        [
            {
                "kind": "sale",
                "sku": "SKU-WEEKLY",
                "warehouse": world.warehouse.code,
                "quantity": 30,
                "unit_price": "2",
                "occurred_at": ts(3),
                "external_ref": "late-sale",
            }
        ],
    )
    assert response.status_code == 201, response.json()
    after = wait_for(lambda: (found := _fitted(world))["SKU-WEEKLY"] != before["SKU-WEEKLY"] and found)
    worker_idle_wait()
    after = _fitted(world)
    assert after["SKU-RARE"] == before["SKU-RARE"]
    assert after["SKU-1"] == before["SKU-1"]


def test_the_refresh_task_is_safe_to_run_twice(world, celery_worker_process) -> None:
    worker_idle_wait()
    forecasting_refresh.delay(str(world.tenant.pk))
    worker_idle_wait()
    first = list(Forecast.objects.filter(tenant=world.tenant).values_list("position_id", "fitted_at"))
    forecasting_refresh.delay(str(world.tenant.pk))
    worker_idle_wait()
    assert list(Forecast.objects.filter(tenant=world.tenant).values_list("position_id", "fitted_at")) == first
    assert [position_id for position_id, _ in first] == [world.position.id]


def test_the_daily_sweep_queues_every_tenant(world, other_world, celery_worker_process) -> None:
    worker_idle_wait()
    Forecast.objects.all().delete()
    forecasting_sweep.delay()
    wait_for(lambda: Forecast.objects.count() == 2)
    worker_idle_wait()
    assert set(Forecast.objects.values_list("tenant_id", flat=True)) == {world.tenant.pk, other_world.tenant.pk}


def test_a_promotion_made_through_the_api_is_in_the_forecast_shortly_after(world, celery_worker_process) -> None:
    sku_with_history(world, "SKU-WEEKLY", weekly())
    wait_for(lambda: "SKU-WEEKLY" in _fitted(world))
    worker_idle_wait()
    before = _fitted(world)
    starts = timezone.now().date().isoformat()  # day 1 of the forecast
    response = world.planner.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/promotions/",
        {"sku": "SKU-WEEKLY", "starts_on": starts, "ends_on": starts, "discount_percent": "20", "expected_uplift": "3"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    wait_for(lambda: _fitted(world)["SKU-WEEKLY"] != before["SKU-WEEKLY"])
    worker_idle_wait()
    position_id = Forecast.objects.get(tenant=world.tenant, sku__code="SKU-WEEKLY").position_id
    detail = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecasts/{position_id}/").json()
    assert [(p["id"], p["source"], p["uplift"]) for p in detail["promotions"]] == [
        (response.json()["id"], "stated", 3.0)
    ]
    assert _fitted(world)["SKU-1"] == before["SKU-1"]  # another SKU's forecast is not touched
