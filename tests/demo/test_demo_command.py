"""`make demo` on a machine with no PostgreSQL or Redis configured: the embedded services start,
the demo serves its seeded tenant, and Ctrl-C stops everything that was started."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from core import embedded_services

START_TIMEOUT_SECONDS = 180  # the first start runs initdb and every migration
STOP_TIMEOUT_SECONDS = 60


@pytest.fixture
def state_dir(monkeypatch):
    # Unix socket paths are limited to ~100 bytes and pytest's tmp_path can be longer: use /tmp.
    path = Path(tempfile.mkdtemp(prefix="tl", dir="/tmp"))
    # embedded_services reads the variable on every call, so its checks below look in this dir.
    monkeypatch.setenv("TRIPLINE_STATE_DIR", str(path))
    yield path
    embedded_services.stop(["redis", "postgres"])  # whatever a failed run left behind
    shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, key: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def collect_output(process: subprocess.Popen) -> list[str]:
    """The process's output lines, read in a thread so that a full pipe never blocks it."""
    lines: list[str] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def interrupt(process: subprocess.Popen) -> int:
    """Ctrl-C as a terminal sends it, to the whole foreground process group; its exit status."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def processes_mentioning(path: Path) -> list[str]:
    """Command lines of live processes that name ``path`` (postgres -D, redis --unixsocket, beat -s)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        if str(path) in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.slow
def test_demo_runs_on_embedded_services_and_ctrl_c_stops_them(state_dir):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    # DJANGO_SETTINGS_MODULE was exported by pytest-django; `make demo` runs without one.
    env.pop("PYTHONUNBUFFERED", None)  # the demo must flush its keys into a pipe by itself
    env.update(TRIPLINE_STATE_DIR=str(state_dir), DEBUG="1")
    command = [sys.executable, "-m", "core.embedded_services", "exec", "--"]
    command += [sys.executable, "manage.py", "demo", "--port", str(port)]
    # A session of its own, so that interrupt() can signal its process group and nothing else.
    process = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = collect_output(process)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert process.poll() is None, f"demo exited with {process.returncode}:\n{''.join(lines)}"
            assert time.monotonic() < deadline, f"/readyz did not answer 200 in time:\n{''.join(lines)}"
            try:
                status, body = get(f"{base}/readyz")
            except (OSError, http.client.HTTPException):  # not listening yet
                status = None
            if status == 200:
                break
            time.sleep(0.5)
        assert body["status"] == "ready"

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
        returncode = interrupt(process) if process.poll() is None else process.returncode

    output = "".join(lines)
    assert returncode == 0, output
    # Stopped by the `exec` wrapper that started them, which prints this on its stderr.
    assert "Stopped embedded Redis." in output
    assert "Stopped embedded PostgreSQL." in output
    assert not embedded_services.postgres_running()
    assert not embedded_services.redis_running()
    assert processes_mentioning(state_dir) == []
    with pytest.raises(urllib.error.URLError, match="Connection refused"):  # the web server is gone too
        get(f"{base}/healthz")
