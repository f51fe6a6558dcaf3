"""The metrics and log settings are read once, at start-up: a wrong one stops ``manage.py`` with a
message naming it, not the first request or task that would have met it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py`` in a fresh process with only ``env`` and the real services."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "1",
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        **env,
    }
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PROMETHEUS_MULTIPROC_DIR", "/nonexistent/tripline-metrics", "is not a folder"),
        ("LOG_FORMAT", "xml", "write json or console"),
        ("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,not-a-network", "write networks like"),
        ("METRICS_TENANT_LABELS", ",".join(f"t{n}" for n in range(51)), "at most 50"),
    ],
)
def test_a_wrong_setting_stops_the_start_naming_itself(variable, value, named) -> None:
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
    assert named in result.stderr


def test_log_format_json_writes_the_tripline_messages_as_json_lines(tmp_path) -> None:
    # A management command's own tripline.* warning, as a production process writes it.
    script = "import logging; logging.getLogger('tripline.demo').warning('disk %s full', 'nearly')"
    result = manage("shell", "-c", script, LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    (line,) = [json.loads(text) for text in result.stderr.splitlines() if text.startswith("{")]
    assert (line["event"], line["level"], line["logger"]) == ("disk nearly full", "warning", "tripline.demo")
    assert line["timestamp"].endswith("Z")
    readable = manage("shell", "-c", script, LOG_FORMAT="console")
    # Readable: the plain format the project logged in before, the message last.
    (text,) = [text for text in readable.stderr.splitlines() if "disk nearly full" in text]
    assert text.endswith(" WARNING tripline.demo: disk nearly full")
