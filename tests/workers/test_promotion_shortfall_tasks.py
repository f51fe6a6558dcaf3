"""A promotion the stock cannot cover, end to end through a real worker: the promotion made over HTTP
has the worker refit the forecast, the refit marks the position for evaluation, the incremental pass
opens a red promotion_shortfall alert, and its response opens an RFQ to the backup suppliers for the
shortfall, needed by the promotion's first day. Deleting the promotion refits, re-evaluates, resolves
the alert and closes the RFQ.

S sells 10 a day for 120 days in W (400 left) and in W2 (1,000 left); its primary supplier takes 10
days (tests/support/procurement.py, with four backups). The promotion runs in every warehouse from
day 20 through day 26 (today is day 0) at 25 % off, stated uplift 3. By hand:

- promoted demand over days 20 .. 36 (the promotion and the 10-day lead time after it):
  7 x 30 + 10 x 10 = 310 units;
- W holds 400 - 20 x 10 = 200 at the start: 110 short, 110 / 310 = 35.5 %: red. Order 110 (the
  primary's minimum is 1) by day 10; the RFQ asks for 110 by day 20;
- W2 holds 1,000 - 200 = 800 at the start: enough, no alert.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from tests.support.calls import url
from tests.support.celery_worker import worker_idle_wait
from tests.support.histories import steady_sales
from tests.support.ingest import push_rows
from tests.support.procurement import backup_suppliers
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("transactional_db")
TODAY = timezone.now().date()
STARTS, ENDS = TODAY + timedelta(days=20), TODAY + timedelta(days=26)
# A refit and an evaluation lie between a push and what is waited for.
_wait_for = partial(wait_for, timeout=45.0)


def _get(world, path: str, **params: object) -> dict:
    response = world.admin.client.get(url(world, path), params)
    assert response.status_code == 200, response.content
    return response.json()


def _shortfalls(world) -> list[dict]:
    return _get(world, "alerts/", rule="promotion_shortfall", active="true")["results"]


def test_a_promotion_the_stock_cannot_cover_ends_in_an_rfq_for_the_shortfall(shop, celery_worker_process) -> None:
    world = shop
    push_rows(
        world.admin, world.tenant.slug, "warehouses", [{"code": "W2", "name": "W2", "region": "r", "kind": "store"}]
    )
    backup_suppliers(world)
    steady_sales(world, "W", 400)
    steady_sales(world, "W2", 1000)
    # The worker fits both positions' forecasts and evaluates them; nothing is short yet.
    _wait_for(lambda: len(_get(world, "forecasts/", sku="S")["results"]) == 2, "forecasts of S")
    worker_idle_wait(timeout=45)
    assert _shortfalls(world) == []

    response = world.planner.client.post(
        url(world, "promotions/"),
        {"sku": "S", "starts_on": str(STARTS), "ends_on": str(ENDS), "discount_percent": "25", "expected_uplift": "3"},
        format="json",
    )
    assert response.status_code == 201, response.content
    promotion = response.json()

    # Nothing but the refit marks the position for evaluation: the alert shows the hook worked.
    (alert,) = _wait_for(lambda: _shortfalls(world), "promotion_shortfall alert")
    detail = _get(world, f"alerts/{alert['id']}/")
    order_by = STARTS - timedelta(days=10)
    assert (detail["warehouse"], detail["grade"]) == ("W", "red")
    assert (detail["inputs"]["promoted_demand"], detail["inputs"]["stock_at_start"]) == (310.0, 200.0)
    assert (detail["inputs"]["uplift"], detail["inputs"]["uplift_in_forecast"]) == (3.0, True)
    recommendation = detail["recommendation"]
    assert (recommendation["action"], recommendation["quantity"], recommendation["order_by"]) == (
        "emergency_rfq",
        110,
        str(order_by),
    )
    assert [s["supplier"] for s in recommendation["suppliers"]] == [
        "backup quick",
        "backup cheap",
        "backup slow",
        "backup tiny",
    ]

    # Red, with backups on file: the RFQ opens for the shortfall, needed by the promotion's first day.
    (rfq,) = _wait_for(lambda: _get(world, "rfqs/")["results"], "RFQ")
    assert (rfq["alert_id"], rfq["quantity"], rfq["needed_by"], rfq["status"]) == (
        alert["id"],
        110,
        str(STARTS),
        "open",
    )
    basis = _get(world, f"rfqs/{rfq['id']}/")["basis"]
    assert (basis["promotion_id"], basis["shortfall"], basis["order_by"]) == (promotion["id"], 110.0, str(order_by))
    worker_idle_wait(timeout=45)
    assert [a["warehouse"] for a in _shortfalls(world)] == ["W"]  # W2 holds enough

    # The promotion is called off: refit, re-evaluated, resolved; its RFQ closes with it.
    assert world.admin.client.delete(url(world, f"promotions/{promotion['id']}/")).status_code == 204
    _wait_for(lambda: not _shortfalls(world), "the alert going quiet")
    gone = _get(world, f"alerts/{alert['id']}/")
    assert (gone["active"], gone["status"]) == (False, "resolved")
    closed = _wait_for(
        lambda: (found := _get(world, f"rfqs/{rfq['id']}/"))["status"] != "open" and found, "the RFQ closing"
    )
    assert closed["status"] == "cancelled"
    worker_idle_wait(timeout=45)
