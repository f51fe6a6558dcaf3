"""A prefork Celery worker as deployed (two child processes): what its children count reaches this
process's /metrics through the shared folder, exactly, and survives the children's exit.

Which child runs a task is the pool's choice; the sum over the children is not.
"""

from __future__ import annotations

import os
import time

import psutil
import pytest
from celery.exceptions import TimeoutError as ResultTimeout
from django.conf import settings

from tests.support.celery_worker import worker_database_url
from tests.support.metrics import scrape
from workers.app import app
from workers.process import worker_process
from workers.tasks.diagnostics import ping

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]

PINGS = 12


def _pings_counted() -> float:
    return scrape().value("tripline_celery_tasks_total", task="tripline.diagnostics.ping", outcome="SUCCESS")


def test_a_prefork_workers_children_count_into_the_scrape(tmp_path) -> None:
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge("diagnostics")
    before = _pings_counted()
    env = dict(os.environ, DATABASE_URL=worker_database_url(), REDIS_URL=settings.REDIS_URL, DEBUG="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    options = ["-P", "prefork", "-c", "2", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"]
    log_path = tmp_path / "worker.log"
    with (
        open(log_path, "w") as log,
        worker_process("diagnostics", *options, env=env, log=log, stop_seconds=30) as worker,
    ):
        first = ping.delay("ready?")
        deadline = time.monotonic() + 60
        while True:
            assert worker.poll() is None, log_path.read_text()
            try:
                first.get(timeout=1)
                break
            except ResultTimeout:
                assert time.monotonic() < deadline, log_path.read_text()
        results = [ping.delay(f"n{n}") for n in range(PINGS)]
        assert [result.get(timeout=30)["nonce"] for result in results] == [f"n{n}" for n in range(PINGS)]
        children = {child.pid for child in psutil.Process(worker.pid).children()}
    # The worker stopped warm: every task's count is written, and the children have exited.
    assert len(children) == 2
    assert _pings_counted() - before == PINGS + 1
    written = {name.rsplit("_", 1)[1].removesuffix(".db") for name in os.listdir(settings.PROMETHEUS_MULTIPROC_DIR)}
    assert {str(pid) for pid in children} & written, "no child wrote to the folder"
    assert "Traceback" not in log_path.read_text()
