"""Celery worker pools as a deployment runs them on hosts of their own: one process per pool, each
consuming only its pool's queues (workers/app.py POOLS), started and stopped by the test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.celery_worker import worker_database_url
from tests.support.ingest import push_rows, ts
from workers.app import POOLS, QUEUES, app


def task_queue(name: str) -> str:
    """The queue the app's routes send task ``name`` to."""
    return app.amqp.router.route({}, name)["queue"].name


def queues_purge() -> None:
    with app.connection_for_write() as broker:
        for queue in QUEUES:
            broker.default_channel.queue_purge(queue)


def queued(queue: str) -> int:
    with app.connection_for_write() as broker:
        return broker.default_channel.client.llen(queue)


class Pool:
    """``celery -A workers worker -Q <the pools' queues>`` in a process of its own, logging to a file."""

    def __init__(self, name: str, pools: Iterable[str], folder: Path, env: Mapping[str, str] | None = None) -> None:
        self.name, self.queues = name, [queue for pool in pools for queue in POOLS[pool]]
        self.log = folder / f"{name}.log"
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ, DATABASE_URL=worker_database_url(), REDIS_URL=settings.REDIS_URL, DEBUG="1")
        env.update(WEBHOOK_ALLOW_LOOPBACK="1", **self.env)
        env.pop("DJANGO_SETTINGS_MODULE", None)  # as `celery -A workers` runs in production
        command = [str(Path(sys.executable).with_name("celery")), "-A", "workers", "worker", "-n", f"{self.name}@%h"]
        command += ["-Q", ",".join(self.queues), "-c", "1", "-P", "solo", "-l", "INFO"]
        command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while "ready." not in self.log.read_text():
            if self.process.poll() is not None:
                pytest.fail(f"Pool {self.name} exited with {self.process.returncode}:\n{self.log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Pool {self.name} was not ready within 60s:\n{self.log.read_text()}")
            time.sleep(0.1)

    def tasks_run(self) -> list[str]:
        """The names of the tasks this pool finished, in order (from its log)."""
        return re.findall(r"Task (tripline\.[\w.]+)\[[^\]]+\] (?:succeeded|raised|failed)", self.log.read_text())

    def stop(self) -> None:
        """A warm shutdown, as a service manager does: the running task finishes first."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def stale_stock_push(world, sku: str) -> None:
    """Push a new SKU and 9 units received 200 days ago: its evaluation opens an alert."""
    row = {"code": sku, "name": sku, "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, world.tenant.slug, "skus", [row]).status_code == 201
    line = {"kind": "receipt", "sku": sku, "warehouse": world.warehouse.code, "quantity": 9, "occurred_at": ts(200)}
    assert push_rows(world.admin, world.tenant.slug, "movements", [{**line, "external_ref": sku}]).status_code == 201


def alerts_of(world, sku: str) -> list[dict]:
    """The alerts the API lists for ``sku``."""
    return world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/alerts/?sku={sku}").json()["results"]
