"""The real Celery worker, for the tests that run the engine's passes the way production runs them;
the inventory tests' one-SKU shop; and a wait for another connection to block on a lock."""

import time

import pytest

from tests.inventory.conftest import shop  # noqa: F401 - fixture
from tests.workers.conftest import celery_worker_process, worker_mail_dir  # noqa: F401 - fixtures


def lock_waiter_wait(cursor, timeout: float = 10.0) -> None:
    """Return once another connection to this database waits for a lock (one this one holds, in
    the tests that call it): the moment to close a deadlock's cycle, so the other one waited first."""
    deadline = time.monotonic() + timeout
    while True:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        if cursor.fetchone()[0]:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"No other connection waited for a lock within {timeout}s")
        time.sleep(0.02)
