"""The suite's shared fixtures come from tests/support (``pytest_plugins`` below), each module
registered once here; test modules import plain helpers from tests.support, never from a conftest
or from another test module."""

import pytest

pytest_plugins = [
    "tests.support.world",
    "tests.support.ingest",
    "tests.support.receivers",
    "tests.support.celery_worker",
]


@pytest.fixture(autouse=True)
def _worker_settles_before_flush(request):
    """With the real worker in a test, wait for it to go idle before the database is flushed."""
    if "celery_worker_process" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so it is torn down after the wait
    yield
    from tests.support.celery_worker import worker_idle_wait

    worker_idle_wait()
