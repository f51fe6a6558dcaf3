"""A transfer plan started over the API is computed by the real worker."""

import time

import pytest

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_a_plan_started_over_the_api_is_computed_on_the_worker(world, celery_worker_process) -> None:
    base = f"/api/v1/tenants/{world.tenant.slug}/transfer-plans/"
    started = world.planner.client.post(base)
    assert started.status_code == 202, started.content
    assert started.json()["status"] == "queued"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        plan = world.planner.client.get(f"{base}{started.json()['id']}/").json()
        if plan["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    assert plan["status"] == "succeeded", plan
    assert plan["summary"]["sinks"] == 0  # the world has no open alert: nothing to move
    assert plan["finished_at"] is not None
