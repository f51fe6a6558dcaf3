"""The suite's shared fixtures come from tests/support (``pytest_plugins`` below), each module
registered once here; test modules import plain helpers from tests.support, never from a conftest
or from another test module."""

import pytest
from django.conf import settings

from core import embedded_services

pytest_plugins = [
    "tests.support.world",
    "tests.support.ingest",
    "tests.support.receivers",
    "tests.support.celery_worker",
    "tests.support.event_contract",
    "tests.support.browser",
]


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run on embedded services that are down stops before its first test, saying what to do."""
    problem = embedded_services.not_running_message(settings.EMBEDDED_SERVICES)
    if problem and not session.config.option.collectonly:
        pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)


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
