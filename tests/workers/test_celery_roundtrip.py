"""A task goes through Redis to a real worker process and its answer comes back."""

import uuid

from django.db import connection

from workers.tasks.diagnostics import ping


def test_ping_round_trips_through_a_real_worker(transactional_db, celery_worker_process):
    nonce = uuid.uuid4().hex  # unique, so an answer from an earlier run cannot pass for this one

    answer = ping.delay(nonce).get(timeout=60)

    # The database name proves the worker ran the query against the test database it was given.
    assert answer == {"nonce": nonce, "database": connection.settings_dict["NAME"]}
