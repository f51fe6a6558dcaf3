"""Read replicas (docs/scaling.md, Read replicas).

A primary and a hot standby of the test's own (``pg_basebackup``, streaming), the app's default
database on the primary and DATABASE_REPLICA_URL's on the standby, as core/settings/main.py
configures them. With the standby's replay paused, what it serves is told apart from what the
primary holds: a list is served from the replica, the caller that just wrote reads its write from
the primary, and once the replica is behind the bound, or down, everyone reads from the primary.
"""

from __future__ import annotations

import time

import pytest
from django.db import connections

from core import db_routing
from tests.support.ingest import push_rows
from tests.support.replica import ReplicaPair
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]

MAX_LAG_SECONDS = 4


@pytest.fixture
def replica(transactional_db, settings):
    pair = ReplicaPair()
    default = connections["default"]
    saved = dict(default.settings_dict)
    try:
        host, port = saved["HOST"] or "127.0.0.1", saved["PORT"] or 5432
        place = (
            f"/{saved['NAME']}?host={host}&port={port}" if host.startswith("/") else f"{host}:{port}/{saved['NAME']}"
        )
        source_url = f"postgresql://{saved['USER']}@{place}"
        pair.start(source_url)
        default.close()
        default.settings_dict.update(
            HOST="127.0.0.1", PORT=str(pair.primary_port), NAME="tripline", USER=pair.user or saved["USER"], PASSWORD=""
        )
        replica_settings = dict(default.settings_dict, PORT=str(pair.standby_port))
        connections.settings[db_routing.REPLICA] = replica_settings
        # Django's test case refuses connections to an alias it was not told of, unless the alias was
        # created on the fly: the connection is made here, then its settings entry taken away again.
        connections[db_routing.REPLICA]
        del connections.settings[db_routing.REPLICA]
        settings.DATABASE_ROUTERS = ["core.db_routing.ReplicaRouter"]
        settings.MIDDLEWARE = [
            settings.MIDDLEWARE[0],
            "core.db_routing.ReplicaReadsMiddleware",
            *settings.MIDDLEWARE[1:],
        ]
        settings.REPLICA_MAX_LAG_SECONDS = MAX_LAG_SECONDS
        settings.REPLICA_LAG_CHECK_SECONDS = 0  # every request asks: the test changes the replica's state
        db_routing._checked.update(at=float("-inf"), usable=False)
        yield pair
    finally:
        connections["default"].close()
        if hasattr(connections._connections, db_routing.REPLICA):
            connections[db_routing.REPLICA].close()
            del connections[db_routing.REPLICA]
        connections.settings.pop(db_routing.REPLICA, None)
        default.settings_dict.clear()
        default.settings_dict.update(saved)
        pair.stop()


def _skus(caller, world) -> set[str]:
    response = caller.client.get(f"/api/v1/tenants/{world.tenant.slug}/skus/")
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def _sku_push(world, code: str) -> None:
    row = {"code": code, "name": code, "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, world.tenant.slug, "skus", [row]).status_code == 201


def test_lists_from_the_replica_own_writes_and_fallback_from_the_primary(replica, world) -> None:
    _sku_push(world, "SKU-FRESH")  # a fresh replayed transaction: the lag counts from here
    replica.replayed_wait()
    assert "SKU-FRESH" in _skus(world.analyst, world)
    replica.standby_sql("SELECT pg_wal_replay_pause()")
    paused_at = time.monotonic()
    _sku_push(world, "SKU-LAGGING")
    # Within the bound, the analyst's list comes from the replica, which has not replayed the push.
    assert "SKU-LAGGING" not in _skus(world.analyst, world)
    # The admin wrote it: its reads stay on the primary for the bound, and see it.
    assert "SKU-LAGGING" in _skus(world.admin, world)
    assert time.monotonic() - paused_at < MAX_LAG_SECONDS, "the machine was too slow to tell replica from primary"
    # Past the bound the replica counts as behind: the analyst reads from the primary too.
    wait_for(lambda: "SKU-LAGGING" in _skus(world.analyst, world), "fallback to the primary", timeout=30, pause=0.5)
    assert time.monotonic() - paused_at >= MAX_LAG_SECONDS - 1
    replica.standby_sql("SELECT pg_wal_replay_resume()")
    replica.replayed_wait()
    _sku_push(world, "SKU-AFTER")
    replica.replayed_wait()
    assert "SKU-AFTER" in _skus(world.analyst, world)
    # The replica down: lists answer from the primary.
    replica.standby_stop()
    _sku_push(world, "SKU-DOWN")
    assert "SKU-DOWN" in _skus(world.analyst, world)
    assert "SKU-DOWN" in _skus(world.admin, world)
