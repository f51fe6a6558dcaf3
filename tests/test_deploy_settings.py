"""Production settings: clean under `check --deploy`, refuse to start without a secret, and probes
that tell an orchestrator which service is missing."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py`` in a fresh process with only ``env``: settings are read once, at start-up,
    and pytest's own environment (test settings module, DEBUG=1) must not leak into them."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def services() -> dict[str, str]:
    # The real services, so that no embedded ones start and only what a test varies can fail.
    return {"DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": settings.REDIS_URL}


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(45),  # 60 characters
        ALLOWED_HOSTS="tripline.example.com",
        **services(),
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout
    assert "warning" not in output.lower()


@pytest.mark.parametrize("command", [["check"], ["migrate", "--check"]])
def test_without_secret_key_production_settings_refuse_to_start(command):
    result = manage(*command, DEBUG="0", ALLOWED_HOSTS="tripline.example.com", **services())

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_healthz_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_with_the_real_services(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready"


def test_readyz_names_redis_when_redis_does_not_answer(client, db):
    with override_settings(REDIS_URL="unix:///nonexistent-tripline/redis.sock"):
        response = client.get("/readyz")

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    # Only the broken service is named, so an operator knows which one to look at.
    assert list(error["fields"]) == ["redis"]
    assert error["fields"]["redis"]
    assert "redis" in error["message"]
    assert "database" not in error["message"]
