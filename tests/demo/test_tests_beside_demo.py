"""`make test` beside a running `make demo` in one checkout: both wrappers hand their command the
embedded Redis' URL, and the demo's worker must not take the tests' tasks.

Each side runs in a process of its own with its own settings module, as the two `make` targets
run them: the demo's worker with the production settings, the tests' sender with the test ones.
"""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from core import embedded_services
from tests.support.celery_worker import worker_database_url
from tests.support.demo_process import demo_environment
from workers.app import worker_queues

pytestmark = pytest.mark.slow

# Sends a ping with the given nonce; with "wait", waits for the worker's answer and prints it.
SEND = """
import sys, django
django.setup()
from workers.tasks.diagnostics import ping
result = ping.delay(sys.argv[1])
if sys.argv[2:] == ["wait"]:
    print(result.get(timeout=60))
"""
# How many messages wait on the diagnostics queue of this side's broker; then its REDIS_URL.
QUEUED = """
import django
django.setup()
from django.conf import settings
from workers.app import app
with app.connection_for_write() as connection:
    print(connection.default_channel.client.llen("diagnostics"))
print(settings.REDIS_URL)
"""


def run(script: str, settings_module: str, env: dict[str, str], *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": settings_module},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_running_demos_worker_does_not_take_the_tests_tasks(db, state_dir, tmp_path):
    # Given the embedded Redis, and what `make demo` and `make test` both get from their wrapper
    shared_url = embedded_services.ensure_redis_url()
    env = demo_environment(state_dir, DATABASE_URL=worker_database_url(), REDIS_URL=shared_url)
    # a task a test sends (no test worker is running to take it)
    nonce = f"from-the-tests-{uuid.uuid4()}"
    run(SEND, "core.settings.test", env, nonce)

    # When the demo's worker runs on the demo's settings
    log_path = tmp_path / "demo-worker.log"
    celery = Path(sys.executable).with_name("celery")
    command = [celery, "-A", "workers", "worker", "-Q", worker_queues(), "-P", "solo", "-l", "INFO"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    with open(log_path, "w") as log:
        worker = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # and has answered a ping of the demo's own, sent after the tests' one: one at a time in
        # order, so had it shared the tests' queue it would have taken their ping first
        answer = run(SEND, "core.settings.main", env, "from-the-demo", "wait")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert "from-the-demo" in " ".join(answer), log_path.read_text()

    # Then the tests' ping still waits for a test worker, on a Redis database of the tests' own
    queued, tests_url = run(QUEUED, "core.settings.test", env)
    assert int(queued) == 1, log_path.read_text()
    assert nonce not in log_path.read_text()
    assert tests_url != shared_url


def test_a_configured_redis_url_is_kept_as_given(state_dir):
    """CI and parallel runs name distinct databases (redis://…/1, /2, …) and rely on them staying
    apart: only the embedded Redis' default database is moved for tests."""
    for url in ("redis://127.0.0.1:6379/5", embedded_services.redis_url(db=3)):
        env = demo_environment(state_dir, DATABASE_URL=settings.DATABASE_URL, REDIS_URL=url)
        code = "import django; django.setup(); from django.conf import settings; print(settings.REDIS_URL)"
        assert run(code, "core.settings.test", env) == [url]
