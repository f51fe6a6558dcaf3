"""A push through the API ends, in the real worker, as an evaluation and a webhook delivery to a local
receiver; the worker counts both in its own process, and this process's /metrics carries them (the
multiprocess folder production shares between gunicorn and Celery). The worker logs each task as one
JSON line with its name, ids, duration and outcome.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.webhooks.models import Delivery, DeliveryState
from tests.support.calls import url
from tests.support.ingest import push_rows, ts
from tests.support.metrics import scrape
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("transactional_db")

TOKEN = "worker-scrape-token-" + "y" * 20


@pytest.fixture(scope="module")
def celery_worker_env() -> dict[str, str]:
    return {"LOG_FORMAT": "json"}


def _task_lines(worker) -> list[dict]:
    lines = []
    for line in Path(worker.log_path).read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == "task":
                lines.append(record)
    return lines


def test_the_workers_evaluation_and_delivery_appear_in_this_processs_scrape(
    world, receiver, celery_worker_process, settings
) -> None:
    assert settings.PROMETHEUS_MULTIPROC_DIR  # the test run shares one folder with its workers
    settings.METRICS_TOKEN = TOKEN
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    before = scrape(**auth)
    response = world.admin.client.post(
        url(world, "webhook-endpoints/"), {"url": receiver.url, "event_types": ["alert.opened"]}, format="json"
    )
    assert response.status_code == 201, response.content
    row = {"code": "OLD", "name": "old", "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.erp, world.tenant.slug, "skus", [row]).status_code == 201
    line = {"kind": "receipt", "sku": "OLD", "warehouse": world.warehouse.code, "quantity": 9, "occurred_at": ts(200)}
    assert push_rows(world.erp, world.tenant.slug, "movements", [{**line, "external_ref": "old"}]).status_code == 201

    def delta(scraped, sample: str, **labels: str) -> float:
        return scraped.value(sample, **labels) - before.value(sample, **labels)

    # The receiver has the request before the worker records the attempt: wait for the count itself.
    wait_for(lambda: receiver.requests, "delivery")

    def attempt_counted():
        scraped = scrape(**auth)
        return scraped if delta(scraped, "tripline_webhook_attempts_total", outcome="success") >= 1 else None

    after = wait_for(attempt_counted, "webhook attempt in the scrape")
    assert delta(after, "tripline_ingested_rows_total", kind="movements") == 1  # counted here, by the web side
    assert delta(after, "tripline_ingested_rows_total", kind="skus") == 1
    # Counted in the worker's process only, read from its files by this one's scrape.
    assert delta(after, "tripline_evaluation_runs_total", trigger="incremental", status="succeeded") >= 1
    assert delta(after, "tripline_evaluation_positions_total", trigger="incremental") >= 1
    assert delta(after, "tripline_webhook_attempt_duration_seconds_count") >= 1
    assert delta(after, "tripline_celery_tasks_total", task="tripline.evaluation.incremental", outcome="SUCCESS") >= 1
    assert after.value("tripline_alerts_open") >= 1
    assert after.value("tripline_scrape_errors", source="redis") == 0
    worker_files = [
        name
        for name in os.listdir(settings.PROMETHEUS_MULTIPROC_DIR)
        if name.endswith(f"_{celery_worker_process.pid}.db")
    ]
    assert worker_files, "the worker wrote no values of its own to the folder"

    # Each task the worker ran is one JSON line: the delivery task's names its endpoint's id.
    delivered = Delivery.objects.get(state=DeliveryState.SUCCEEDED, endpoint__url=receiver.url)
    deliver_lines = wait_for(
        lambda: [r for r in _task_lines(celery_worker_process) if r["task"] == "tripline.webhooks.deliver_endpoint"],
        "log line of the delivery task",
    )
    (record, *_) = [r for r in deliver_lines if r["ids"] == {"endpoint_id": str(delivered.endpoint_id)}]
    assert record["outcome"] == "SUCCESS"
    assert record["level"] == "info"
    assert record["logger"] == "tripline.tasks"
    assert isinstance(record["duration_ms"], int | float)
    assert record["duration_ms"] >= 0
    assert record["task_id"]
    assert record["timestamp"].endswith("Z")
    evaluation = [r for r in _task_lines(celery_worker_process) if r["task"] == "tripline.evaluation.incremental"]
    assert {"tenant_id": str(world.tenant.pk)} in [r["ids"] for r in evaluation]


def test_a_task_sent_by_a_request_logs_the_requests_id(world, receiver, celery_worker_process) -> None:
    response = world.admin.client.post(
        url(world, "webhook-endpoints/"), {"url": receiver.url, "event_types": ["alert.opened"]}, format="json"
    )
    assert response.status_code == 201, response.content
    endpoint_id = response.json()["id"]
    # The test ping's delivery is queued as the request commits, in the request.
    pinged = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint_id}/test/"), HTTP_X_REQUEST_ID="ping-7")
    assert pinged.status_code in (200, 201, 202), pinged.content
    assert pinged["X-Request-ID"] == "ping-7"
    wait_for(lambda: receiver.requests, "test ping")
    delivery = Delivery.objects.get(endpoint_id=endpoint_id)
    (record,) = wait_for(
        lambda: [r for r in _task_lines(celery_worker_process) if r["ids"] == {"delivery_id": str(delivery.pk)}],
        "log line of the test ping's delivery",
    )
    assert (record["task"], record["request_id"], record["outcome"]) == (
        "tripline.webhooks.deliver",
        "ping-7",
        "SUCCESS",
    )
    # A task sent outside any request (the fixture's readiness ping, as the beat's sweeps) carries none.
    pings = [r for r in _task_lines(celery_worker_process) if r["task"] == "tripline.diagnostics.ping"]
    assert pings
    assert all("request_id" not in r for r in pings)
