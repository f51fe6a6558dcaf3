"""Running the demo as a user's shell or a service manager does: a subprocess in a process group of
its own, its output read as it comes, stopped by a signal to that group."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from django.conf import settings

START_TIMEOUT_SECONDS = 180  # the first start on embedded services runs initdb and every migration
STOP_TIMEOUT_SECONDS = 60
WRAPPER = [sys.executable, "-m", "core.embedded_services", "exec", "--"]


def demo_environment(state_dir: Path, **values: str) -> dict[str, str]:
    """What `make demo` runs with: no DJANGO_SETTINGS_MODULE (pytest-django exported the test
    settings; the demo picks its own), services unset unless given, state in ``state_dir``."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.pop("PYTHONUNBUFFERED", None)  # the demo must flush its keys into a pipe by itself
    env.update(TRIPLINE_STATE_DIR=str(state_dir), DEBUG="1", EMAIL_FILE_PATH=str(state_dir / "mail"), **values)
    return env


def start(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, list[str]]:
    """``command`` in a session of its own (so that a signal to its group reaches nothing else),
    with its output lines collected as they come."""
    process = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, collect_output(process)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
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


def wait_until_serving(process: subprocess.Popen, lines: list[str], base: str) -> dict:
    """Wait for ``base``/readyz to answer 200 and for the demo's worker to be ready; the body."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    body: dict = {}
    while not (body.get("status") == "ready" and any(line.rstrip().endswith(" ready.") for line in lines)):
        assert process.poll() is None, f"the demo exited with {process.returncode}:\n{''.join(lines)}"
        assert time.monotonic() < deadline, f"the demo did not serve in time:\n{''.join(lines)}"
        printed = next((line for line in lines if line.lstrip().startswith("Readiness")), None)
        assert printed is None or f"{base}/readyz" in printed, f"the demo serves elsewhere:\n{''.join(lines)}"
        try:
            body = get(f"{base}/readyz")[1]
        except (OSError, http.client.HTTPException):  # not listening yet
            body = {}
        time.sleep(0.5)
    return body


def stop(process: subprocess.Popen, signum: int = signal.SIGINT, *, again_when: list[str] | None = None) -> int:
    """Ctrl-C as a terminal sends it (SIGINT to the whole foreground group), or SIGTERM as a service
    manager sends it (to the whole group too); the exit status.

    With ``again_when`` (the output lines), the same signal once more as soon as the demo says it
    is stopping: the copy that the services wrapper passes on reaches the demo at a moment of its
    own, and one that lands in the shutdown must not cut it short.
    """
    os.killpg(process.pid, signum)
    if again_when is not None:
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while not any(line.startswith("Stopping web server") for line in again_when):
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        else:
            os.killpg(process.pid, signum)
    try:
        return process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def descendants(process: subprocess.Popen) -> list[psutil.Process]:
    """Every process started under ``process``: web server, worker and its pool, beat."""
    return psutil.Process(process.pid).children(recursive=True)


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
