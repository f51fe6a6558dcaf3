"""Worker pools per queue, as on hosts of their own (docs/scaling.md, Workers per queue).

Two worker processes with disjoint queues: "intake + planning" and "outbound". Every kind of work
(each queue's tasks, started through the API or by name as the beat sends them) is done, each by the
pool that owns its queue. With the outbound pool down its queues wait, the warnings stay fresh, and
what waited is sent once the pool is back.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from django.core.cache import cache
from standardwebhooks.webhooks import Webhook

from core.alerts.triggers import pending_key
from tests.support.waiting import wait_for
from tests.support.worker_pools import Pool, alerts_of, queued, queues_purge, stale_stock_push, task_queue
from workers.app import BEAT_SCHEDULE, POOLS, QUEUES, app

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def pools(tmp_path):
    queues_purge()
    started = {
        "intake": Pool("intake", ["intake", "planning"], tmp_path),
        "outbound": Pool("outbound", ["outbound"], tmp_path),
    }
    yield started
    for pool in started.values():
        pool.stop()
    queues_purge()  # nothing a stopped pool left queued reaches a later test's worker


def _subscribe(world, receiver) -> str:
    response = world.admin.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/",
        {"url": receiver.url, "event_types": ["alert.opened"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["secret"]


def test_the_pools_cover_every_queue_once() -> None:
    owned = [queue for queues in POOLS.values() for queue in queues]
    assert sorted(owned) == sorted(QUEUES)  # none left out, none in two pools


def test_two_pools_on_disjoint_queues_do_every_kind_of_work(world, receiver, pools) -> None:
    for pool in pools.values():
        pool.start()
    secret = _subscribe(world, receiver)
    # A push: ingestion → evaluation (intake) → the outbox relay → a delivery and a playbook (outbound).
    stale_stock_push(world, "SKU-POOLS")
    wait_for(lambda: receiver.requests, "delivery", timeout=60)
    payload = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert (payload["type"], payload["data"]["sku"]) == ("alert.opened", "SKU-POOLS")
    # A transfer plan, started over the API (planning's queue).
    plans = f"/api/v1/tenants/{world.tenant.slug}/transfer-plans/"
    started = world.planner.client.post(plans)
    assert started.status_code == 202, started.content
    wait_for(
        lambda: world.planner.client.get(f"{plans}{started.json()['id']}/").json()["status"] == "succeeded",
        "plan",
        timeout=60,
    )
    # Every periodic task, sent by name as the one beat sends it, lands in the pool of its queue.
    for entry in BEAT_SCHEDULE.values():
        app.send_task(entry["task"])
    app.send_task("tripline.diagnostics.ping", args=["pools"])
    every_queue = set(QUEUES)

    def served() -> dict[str, set[str]]:
        seen = defaultdict(set)
        for name, pool in pools.items():
            for task in pool.tasks_run():
                seen[task_queue(task)].add(name)
        return seen

    wait_for(lambda: set(served()) == every_queue, "task on every queue", timeout=90, pause=0.3)
    for queue, by in served().items():
        owner = next(name for name, pool in pools.items() if queue in pool.queues)
        assert by == {owner}, f"{queue} was served by {by}, not only by {owner}"


def test_with_the_outbound_pool_down_only_its_queues_wait(world, receiver, pools) -> None:
    intake, outbound = pools["intake"], pools["outbound"]
    intake.start()
    assert app.send_task("tripline.diagnostics.ping", args=["up"]).get(timeout=30)["nonce"] == "up"
    secret = _subscribe(world, receiver)
    stale_stock_push(world, "SKU-WAITS")
    # The warnings stay fresh: the intake pool evaluates the push and the alert is open.
    try:
        # The beat's watchdog (every 60 s in production) picks dirty positions up if the push's own
        # request for a pass went astray: sent here every second while waiting.
        wait_for(
            lambda: alerts_of(world, "SKU-WAITS"),
            "alert",
            timeout=120,
            pause=1.0,
            every=lambda: app.send_task("tripline.evaluation.recover"),
        )
    except pytest.fail.Exception:
        state = {queue: queued(queue) for queue in QUEUES}
        pending = cache.get(pending_key(world.tenant.pk))
        pytest.fail(
            f"No alert from the intake pool within 120 s (queued {state}, pending key {pending!r}); "
            f"its log:\n{intake.log.read_text()[-6000:]}"
        )
    assert app.send_task("tripline.diagnostics.ping", args=["still here"]).get(timeout=30)["nonce"] == "still here"
    # The outbound pool's queue holds the relay; nothing reaches the partner.
    wait_for(lambda: queued("outbox"), "relay queued", timeout=30)
    time.sleep(1.0)
    assert receiver.requests == []
    assert not any(task_queue(task) in outbound.queues for task in intake.tasks_run())
    # Back up, the pool takes what waited: the alert's event arrives, signed.
    outbound.start()
    wait_for(lambda: receiver.requests, "delivery after the pool is back", timeout=60)
    payload = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert (payload["type"], payload["data"]["sku"]) == ("alert.opened", "SKU-WAITS")
    assert queued("outbox") == 0
