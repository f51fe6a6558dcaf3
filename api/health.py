"""Probes for an orchestrator: /healthz (the process answers) and /readyz (its services answer)."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from api.errors import error_body
from core.redis_clients import redis_client


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()[:300]
    return None


def _check_redis() -> str | None:
    client = redis_client(
        settings.REDIS_URL,
        socket_connect_timeout=settings.READYZ_TIMEOUT_SECONDS,
        socket_timeout=settings.READYZ_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()[:300]
    finally:
        client.close()
    return None


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    failures = {
        name: [problem]
        for name, check in (("database", _check_database), ("redis", _check_redis))
        if (problem := check()) is not None
    }
    if failures:
        names = " and ".join(failures)
        return JsonResponse(
            error_body("not_ready", f"Not ready: {names} did not answer. Check that it runs and its URL.", failures),
            status=503,
        )
    return JsonResponse({"status": "ready", "checks": {"database": "ok", "redis": "ok"}})
