"""`make demo HOST=… PORT=…` serves there, and one stop request, however it comes, stops the demo
cleanly: web server, worker (its running tasks finished) and beat, then the services it started.

The demo runs on the test database, where the demo tenant already holds a line of the demo's own
seed: the demo keeps it instead of seeding the small scale, so a start takes seconds. Redis is the
embedded one, in a state directory of the test's own, so the demo's worker and beat touch nothing of
the test session's Redis.
"""

import re
import signal
import sys
import urllib.error
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from core.demo.loading import DEMO_SOURCE
from core.demo.seed import DEMO_TENANT_SLUG
from core.inventory import master_services
from core.inventory.ingestion import movement_rows_parse, movements_ingest
from tenants import services
from tests.support.celery_worker import worker_database_url
from tests.support.demo_process import (
    WRAPPER,
    demo_environment,
    descendants,
    free_port,
    get,
    processes_mentioning,
    start,
    stop,
    wait_until_serving,
)
from tests.support.ingest import ts
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def seeded_demo(transactional_db, state_dir) -> dict[str, str]:
    """The demo tenant with one SKU in one warehouse, received by the demo's seed; the environment
    the demo runs with against it."""
    tenant = services.tenant_create(slug=DEMO_TENANT_SLUG, name="Acme Outdoor Co.")
    category = master_services.category_create(tenant=tenant, code="tents", name="Tents", profile="general")
    master_services.warehouse_create(
        tenant=tenant, code="WH-1", name="Main", region="north", kind="distribution_centre"
    )
    master_services.sku_create(
        tenant=tenant, code="TENT-1", name="Tent", category=category, unit_cost=Decimal(40), list_price=Decimal(90)
    )
    row = {"kind": "receipt", "sku": "TENT-1", "warehouse": "WH-1", "quantity": 30, "occurred_at": ts(5)}
    columns, errors = movement_rows_parse([{**row, "external_ref": "seed-1"}])
    assert not errors
    movements_ingest(tenant=tenant, source=DEMO_SOURCE, columns=columns)
    return demo_environment(state_dir, DATABASE_URL=worker_database_url())


def console_signs_in_as_printed(output: str, base: str) -> None:
    """The console's address and login, as the demo prints them, sign a planner in to its heat map."""
    assert f"Console         {base}/console/acme/" in output
    password = re.search(r"'planner' or 'analyst'; password '([^']+)'", output).group(1)
    session = requests.Session()
    login = session.get(f"{base}/console/login/", timeout=10)
    assert login.status_code == 200
    answer = session.post(
        f"{base}/console/login/?next=/console/acme/heatmap/",
        data={"username": "planner", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/console/login/"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.url == f"{base}/console/acme/heatmap/"
    assert "planner" in answer.text


def assert_stopped_cleanly(output: str, children: list, state_dir: Path, base: str) -> None:
    assert "Traceback" not in output, output
    assert "KeyboardInterrupt" not in output, output
    assert output.count("Stopped.") == 1, output  # the demo's own shutdown ran to its end, once
    assert "Warm shutdown" in output, output  # the worker finished what it was running
    assert "Stopped embedded Redis." in output, output  # after the demo, by the wrapper that started it
    assert [child for child in children if child.is_running() and child.status() != "zombie"] == []
    assert processes_mentioning(state_dir) == []  # Redis (a daemon, not a child) and beat's schedule
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        get(f"{base}/healthz")


def test_make_demo_serves_on_the_host_and_port_given_and_a_service_managers_sigterm_stops_it(seeded_demo, state_dir):
    host, port = "127.0.0.2", free_port("127.0.0.2")  # all of 127/8 is loopback
    venv = str(Path(sys.executable).parent.parent)
    # -o: the test's interpreter is installed; make must not reinstall requirements into it.
    command = ["make", "--no-print-directory", "-o", f"{venv}/.installed", "demo", f"VENV={venv}"]
    process, lines = start([*command, f"HOST={host}", f"PORT={port}"], seeded_demo)
    base = f"http://{host}:{port}"
    try:
        wait_until_serving(process, lines, base)
        children = descendants(process)
        assert {"runserver", "worker", "beat"} <= {word for child in children for word in child.cmdline()}
        output = "".join(lines)
        assert f"Admin site      {base}/admin/" in output
        console_signs_in_as_printed(output, base)
        assert "Try:  curl -H 'Authorization: Bearer tl_" in output
        assert f"{base}/api/v1/tenants/acme/me/" in output
        assert "http://127.0.0.1:8000" not in output
        # /metrics as printed, with the worker's series: the demo gives its processes one metrics folder.
        assert f"Metrics         {base}/metrics" in output
        wait_for(lambda: "tripline_celery_tasks_total{" in requests.get(f"{base}/metrics", timeout=10).text, "task")
        with pytest.raises(urllib.error.URLError, match="Connection refused"):  # it listens on HOST only
            get(f"http://127.0.0.1:{port}/healthz")
    finally:
        # A service manager stops a unit with SIGTERM to its whole group: make, the services
        # wrapper and the demo each get it, and make and the wrapper pass theirs on too.
        returncode = stop(process, signal.SIGTERM) if process.poll() is None else process.returncode
    # make dies of the SIGTERM it was sent, after its child (the wrapper) has exited.
    assert returncode == -signal.SIGTERM, "".join(lines)
    assert_stopped_cleanly("".join(lines), children, state_dir, base)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm-to-the-group", "ctrl-c"])
def test_a_stop_request_and_its_forwarded_copy_stop_web_worker_and_beat_then_the_services(
    seeded_demo, state_dir, signum
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process, lines = start([*WRAPPER, sys.executable, "manage.py", "demo", "--port", str(port)], seeded_demo)
    try:
        wait_until_serving(process, lines, base)
        children = descendants(process)
    finally:
        returncode = stop(process, signum, again_when=lines) if process.poll() is None else process.returncode
    assert returncode == 0, "".join(lines)
    assert_stopped_cleanly("".join(lines), children, state_dir, base)
