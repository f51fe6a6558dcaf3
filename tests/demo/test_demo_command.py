"""`make demo` on a machine with no PostgreSQL or Redis configured: the embedded services start,
the demo serves its seeded tenant, and Ctrl-C stops everything that was started."""

import sys
import urllib.error

import pytest

from core import embedded_services
from tests.support.demo_process import (
    WRAPPER,
    demo_environment,
    free_port,
    get,
    processes_mentioning,
    start,
    stop,
    wait_until_serving,
)


@pytest.mark.slow
def test_demo_runs_on_embedded_services_and_ctrl_c_stops_them(state_dir):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*WRAPPER, sys.executable, "manage.py", "demo", "--port", str(port)]
    process, lines = start(command, demo_environment(state_dir))
    try:
        assert wait_until_serving(process, lines, base)["status"] == "ready"

        # The keys were printed before the server started, so they are in the output by now.
        supplier_line = next((line for line in lines if "(supplier)" in line), None)
        assert supplier_line, "".join(lines)
        status, me = get(f"{base}/api/v1/tenants/acme/me/", key=supplier_line.split()[-1])
        assert status == 200, me
        assert me["kind"] == "partner"
        assert me["partner"]["kind"] == "supplier"
        # The demo evaluated its tenant before serving: alerts and readings are there to look at.
        admin_line = next(line for line in lines if "admin (staff)" in line)
        status, alerts = get(f"{base}/api/v1/tenants/acme/alerts/?grade=red", key=admin_line.split()[-1])
        assert status == 200, alerts
        assert alerts["results"], "the demo data trips no red alert"
        status, readings = get(f"{base}/api/v1/tenants/acme/indicators/?page_size=5", key=admin_line.split()[-1])
        assert status == 200
        assert len(readings["results"]) == 5
        # ... and carried out the responses: RFQs, playbook records, a transfer and a plan.
        for path in ("rfqs/", "recommendations/", "transfers/", "transfer-plans/"):
            status, listed = get(f"{base}/api/v1/tenants/acme/{path}", key=admin_line.split()[-1])
            assert status == 200, listed
            assert listed["results"], f"the demo shows no {path}"
        _, transfers = get(f"{base}/api/v1/tenants/acme/transfers/", key=admin_line.split()[-1])
        assert transfers["results"][0]["status"] == "received"
        _, plans = get(f"{base}/api/v1/tenants/acme/transfer-plans/", key=admin_line.split()[-1])
        assert plans["results"][0]["summary"]["moves"] > 0
        # A distributor's key sees its shared view: some distributor has warehouses granted.
        views = [
            get(f"{base}/api/v1/tenants/acme/shared-stock/", key=line.split()[-1])[1]["results"]
            for line in lines
            if "(distributor)" in line
        ]
        assert any(views), "no distributor sees any shared stock"
    finally:
        # Also on failure: Ctrl-C lets the demo stop the web server, worker and beat it started.
        returncode = stop(process) if process.poll() is None else process.returncode

    output = "".join(lines)
    assert returncode == 0, output
    assert "Traceback" not in output, output
    # Stopped by the `exec` wrapper that started them, which prints this on its stderr.
    assert "Stopped embedded Redis." in output
    assert "Stopped embedded PostgreSQL." in output
    assert not embedded_services.postgres_running()
    assert not embedded_services.redis_running()
    assert processes_mentioning(state_dir) == []
    with pytest.raises(urllib.error.URLError, match="Connection refused"):  # the web server is gone too
        get(f"{base}/healthz")
