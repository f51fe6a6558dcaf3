"""A real Celery worker process, for tests that need a task to run the way production runs it.

Registered once for the whole suite (``pytest_plugins`` in the root conftest): a fixture module
imported into two conftests defines two fixtures, and two workers consume the same queues."""

import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from celery.exceptions import TimeoutError as ResultTimeout
from django.conf import settings
from django.db import connection

from workers.app import QUEUES, app, worker_queues
from workers.process import worker_process
from workers.tasks.diagnostics import ping

READY_TIMEOUT_SECONDS = 60


def worker_database_url() -> str:
    """``settings.DATABASE_URL``, naming the database pytest-django created instead of the dev one.

    Rewriting the URL keeps what it says about reaching the server (a unix socket directory in
    ``?host=`` for the embedded PostgreSQL, a password, sslmode) exactly as the settings have it.
    """
    url = urlsplit(settings.DATABASE_URL)
    return urlunsplit(url._replace(path="/" + quote(connection.settings_dict["NAME"])))


@pytest.fixture(scope="session")
def worker_mail_dir(tmp_path_factory) -> Path:
    """Where the worker's mail goes: one file per message, as Django's file backend writes it."""
    return tmp_path_factory.mktemp("worker-mail")


@pytest.fixture(scope="module")
def celery_worker_env() -> dict[str, str]:
    """Variables the module's worker gets besides the test run's; a module overrides this fixture to
    run its worker otherwise (LOG_FORMAT=json, to read its log lines)."""
    return {}


@pytest.fixture(scope="module")
def celery_worker_pool() -> list[str]:
    """The pool options of the module's worker; a module overrides this to run it as deployed (prefork
    with several children) where what it tests depends on the pool."""
    return ["-c", "1", "-P", "solo"]


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup, tmp_path_factory, worker_mail_dir, celery_worker_env, celery_worker_pool):
    """``celery -A workers worker`` on every queue, reading and writing the test database.

    One per module that asks for it, not per session: a worker left running would act on the data
    of every later test (an ingestion enqueues evaluations) and hold locks the flush between tests
    waits for. It starts on empty queues, so tasks that tests without a worker left behind (about
    rows flushed since) are not run. It sees only committed rows, so tests that hand it data use
    ``transactional_db``.
    """
    _queues_purge()
    env = dict(
        os.environ,
        DATABASE_URL=worker_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DEBUG="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(worker_mail_dir),
        **celery_worker_env,
    )
    # pytest-django exported the test settings module; the worker must pick its settings itself,
    # as `celery -A workers` does in production.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    options = [*celery_worker_pool, "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"]
    options += ["-I", "tests.support.worker_flush_hooks"]
    with (
        open(log_path, "w") as log,
        worker_process(worker_queues(), *options, env=env, log=log, stop_seconds=20) as worker,
    ):
        _wait_until_ready(worker, log_path)
        worker.log_path = log_path  # what it wrote, for tests that read its log lines
        yield worker


def _queues_purge() -> None:
    with app.connection_for_write() as broker:
        for queue in QUEUES:
            broker.default_channel.queue_purge(queue)


def _wait_until_ready(worker: subprocess.Popen, log_path: Path) -> None:
    # One ping, awaited in short slices: the worker answers it once it consumes its queues, and a
    # worker that crashes on start fails the fixture at once with its log instead of a timeout.
    result = ping.delay("ready?")
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        if worker.poll() is not None:
            pytest.fail(f"The Celery worker exited with {worker.returncode}:\n{log_path.read_text()}")
        try:
            result.get(timeout=1)
            return
        except ResultTimeout:
            if time.monotonic() > deadline:
                log = log_path.read_text()
                pytest.fail(f"The Celery worker did not answer within {READY_TIMEOUT_SECONDS}s:\n{log}")


def worker_idle_wait(timeout: float = 20.0) -> None:
    """Return once the worker runs nothing, holds nothing for later and its queues are empty.

    Tests end while work they caused may still be running: an alert the worker opened hands its
    response to another task. The database flush between tests must not race that task.
    """
    from workers.app import QUEUES, app

    broker = app.connection_for_write()
    deadline = time.monotonic() + timeout
    try:
        channel = broker.default_channel
        while time.monotonic() < deadline:
            inspect = app.control.inspect(timeout=2.0, limit=1)  # one worker: answer on its reply
            states = [inspect.active(), inspect.reserved(), inspect.scheduled()]
            busy = any(state is None or any(state.values()) for state in states)
            waiting = sum(channel.client.llen(queue) for queue in QUEUES)
            if not busy and not waiting:
                return
            time.sleep(0.1)
    finally:
        broker.release()
    pytest.fail(f"The Celery worker was still busy {timeout}s after the test: {states}, {waiting} queued")
