"""Redis failover through Sentinel (docs/scaling.md, Redis Sentinel).

A primary, a replica and a sentinel of the test's own; this process (the web side: the API's
request counters, the cache, the tasks it sends) and a real Celery worker reach Redis only through
REDIS_SENTINELS. The test kills the primary: once the sentinel has promoted the replica, pushes are
still evaluated by the worker, the cache answers, and the request limits count again.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.support.sentinel import MASTER_NAME, SentinelStack
from tests.support.waiting import wait_for
from tests.support.worker_pools import Pool, alerts_of, stale_stock_push
from workers.app import POOLS, QUEUES, app

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def stack(tmp_path, settings):
    stack = SentinelStack(tmp_path)
    try:
        stack.start()
        url = f"redis://127.0.0.1:{stack.primary_port}/0"  # its host is not used: the database number is
        sentinels = f"127.0.0.1:{stack.sentinel_port}"
        # This process, as core/settings/main.py configures it with REDIS_SENTINELS set.
        settings.REDIS_SENTINELS = [("127.0.0.1", stack.sentinel_port)]
        settings.REDIS_SENTINEL_MASTER = MASTER_NAME
        settings.CACHES = {
            "default": {
                **settings.CACHES["default"],
                "BACKEND": "core.redis_clients.SentinelRedisCache",
                "LOCATION": url,
            }
        }
        saved = app.conf.broker_url, app.conf.broker_transport_options
        app.conf.broker_url = f"sentinel://{sentinels}/0"
        app.conf.broker_transport_options = {**saved[1], "master_name": MASTER_NAME}
        app._pool, app.amqp._producer_pool = None, None
        worker = Pool("worker", POOLS, tmp_path, env={"REDIS_URL": url, "REDIS_SENTINELS": sentinels})
        try:
            worker.start()
            yield stack
        finally:
            worker.stop()
            app.conf.broker_url, app.conf.broker_transport_options = saved
            app._pool, app.amqp._producer_pool = None, None
    finally:
        stack.stop()


def _evaluated(world, sku: str) -> None:
    """The push's evaluation ran on the worker: its alert is open."""
    wait_for(lambda: alerts_of(world, sku), f"alert for {sku}", timeout=60, pause=0.2)


def _limited_after(caller, world, settings, burst: int) -> int:
    """Requests ``caller`` gets answered under a burst limit of ``burst`` a minute before a 429."""
    current = settings.REST_FRAMEWORK
    settings.REST_FRAMEWORK = {
        **current,
        "DEFAULT_THROTTLE_RATES": {**current["DEFAULT_THROTTLE_RATES"], "key_burst": f"{burst}/min"},
    }
    try:
        for answered in range(burst + 3):
            response = caller.client.get(f"/api/v1/tenants/{world.tenant.slug}/me/")
            if response.status_code == 429:
                return answered
            assert response.status_code == 200, response.content
        return burst + 3
    finally:
        settings.REST_FRAMEWORK = current


def test_tasks_the_cache_and_the_limits_go_on_after_the_primary_dies(world, stack, settings) -> None:
    stale_stock_push(world, "SKU-BEFORE")
    _evaluated(world, "SKU-BEFORE")
    cache.set("failover", "before", 60)
    assert _limited_after(world.planner, world, settings, burst=5) == 5
    # Everything so far went to the primary through the sentinel; the replica copied it.
    assert stack.client(stack.primary_port).dbsize() > 0

    # The worker holds no message when the primary dies: kombu 5.7's sentinel channel fails to hand
    # back messages it holds on a lost connection and the worker exits (docs/scaling.md says so).
    primary = stack.client(stack.primary_port)
    stack.wait(lambda: not primary.hlen("unacked") and not any(primary.llen(queue) for queue in QUEUES))
    stack.primary_kill()
    stack.wait(stack.promoted, timeout=30)

    # The web side sends the push's evaluation and the worker, reconnected to the promoted replica, runs it.
    stale_stock_push(world, "SKU-AFTER")
    _evaluated(world, "SKU-AFTER")
    wait_for(lambda: cache.set("failover", "after", 60) or cache.get("failover") == "after", "cache", timeout=20)
    # The limits count on the new primary: a fresh API key is refused past the burst again (one request
    # may pass uncounted while the counters' client finds the new primary, as when Redis is away).
    assert _limited_after(world.analyst, world, settings, burst=5) in (5, 6)
