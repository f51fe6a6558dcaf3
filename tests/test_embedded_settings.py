"""Reading the settings starts nothing: with no DATABASE_URL or REDIS_URL they name the embedded
PostgreSQL and Redis, which `python -m core.embedded_services start` or `exec -- CMD` runs, and a
command run while those are down stops at once, saying what to do."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.support.demo_process import processes_mentioning

pytestmark = pytest.mark.slow

READ_SETTINGS = """
import django
django.setup()
from django.conf import settings
print(settings.DATABASE_URL)
print(settings.REDIS_URL)
"""


def without_services(state: Path) -> dict[str, str]:
    """A shell with neither URL set, the embedded services' state in ``state`` (never created before)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(settings.BASE_DIR),
        "DEBUG": "1",
        "TRIPLINE_STATE_DIR": str(state),
    }


@pytest.mark.parametrize(("module", "redis_db"), [("core.settings.main", 0), ("core.settings.test", 1)])
def test_reading_the_settings_without_urls_names_the_embedded_services_and_starts_none(module, redis_db, tmp_path):
    state = tmp_path / "state"
    done = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        cwd=tmp_path,
        env={**without_services(state), "DJANGO_SETTINGS_MODULE": module},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        f"postgresql://postgres@/tripline?host={quote(str(state / 'pg'), safe='')}",
        f"unix://{state}/redis/redis.sock?db={redis_db}",
    ]
    assert not state.exists()
    assert not (tmp_path / ".tripline").exists()
    assert processes_mentioning(state) == []


@pytest.mark.parametrize("command", [["migrate", "--check"], ["seed_demo"], ["check"]])
def test_a_command_without_urls_or_running_services_says_what_to_do(command, tmp_path):
    state = tmp_path / "state"
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=settings.BASE_DIR,
        env=without_services(state),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"embedded PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) in {state}" in done.stderr
    assert "make services-start" in done.stderr
    assert "python -m core.embedded_services exec -- " in done.stderr
    assert "set DATABASE_URL and REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr
    assert not state.exists()
    assert processes_mentioning(state) == []
