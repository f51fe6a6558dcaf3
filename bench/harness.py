"""What every benchmark case shares: scales, progress, gunicorn and a Celery worker as deployed, HTTP."""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from tqdm import tqdm

from workers.process import worker_process

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Scale:
    name: str
    ingestion_lines: int
    naive_lines: int
    # Warning engine: positions (SKUs x warehouses) with this many days of daily facts each.
    evaluation_positions: int
    evaluation_warehouses: int
    evaluation_naive_positions: int  # the ORM-loop baseline runs on a sample this size
    evaluation_pushes: int  # incremental latency: ingestion pushes timed to the alert on the API
    # Forecasts: positions (SKUs x warehouses) with FORECAST_DAYS (bench/forecast.py) days of facts.
    forecast_positions: int
    forecast_warehouses: int


EVALUATION_DAYS = 120
SCALES = {
    "small": Scale(
        "small",
        ingestion_lines=1_000_000,
        naive_lines=5_000,
        evaluation_positions=10_000,
        evaluation_warehouses=20,
        evaluation_naive_positions=500,
        evaluation_pushes=30,
        forecast_positions=5_000,
        forecast_warehouses=20,
    ),
    "medium": Scale(
        "medium",
        ingestion_lines=2_000_000,
        naive_lines=10_000,
        evaluation_positions=30_000,
        evaluation_warehouses=30,
        evaluation_naive_positions=1_000,
        evaluation_pushes=40,
        forecast_positions=30_000,
        forecast_warehouses=30,
    ),
    "large": Scale(
        "large",
        ingestion_lines=5_000_000,
        naive_lines=20_000,
        evaluation_positions=100_000,
        evaluation_warehouses=50,
        evaluation_naive_positions=1_000,
        evaluation_pushes=50,
        forecast_positions=100_000,
        forecast_warehouses=50,
    ),
}


@dataclass(frozen=True)
class Case:
    scale: Scale


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def progress(items: Iterable, label: str) -> Iterable:
    return tqdm(items, desc=label, unit="step", file=sys.stderr, dynamic_ncols=True)


def gunicorn_workers() -> int:
    """The usual 2 x cores + 1 would oversubscribe a 2-core machine that also runs PostgreSQL."""
    return max(2, (os.cpu_count() or 1) + 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production_env() -> dict[str, str]:
    """Production settings (DEBUG off) on the bench database and Redis."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="core.settings.main",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=settings.DATABASE_URL,
        REDIS_URL=settings.REDIS_URL,
    )


@contextlib.contextmanager
def gunicorn_server() -> Iterator[str]:
    """gunicorn with production settings (DEBUG off) on a free loopback port; stopped after.

    It reads gunicorn.conf.py from the checkout as a deployment does (gthread workers with
    ``GUNICORN_THREADS`` threads, keep-alive); the command line sets the workers and the timeout."""
    port = _free_port()
    env = _production_env()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "core.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(gunicorn_workers()),
        "--timeout",
        "300",
        "--log-level",
        "warning",
    ]
    # As deployed: static files collected, so WhiteNoise serves them and warns of nothing.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http_get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not come up; run it by hand to see why")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


@contextlib.contextmanager
def celery_worker(
    queues: str = "evaluation,default", *, pool: str | None = None, concurrency: int = 1, **env: str
) -> Iterator[subprocess.Popen]:
    """``celery -A workers worker`` as deployed (one process, production settings and ``env``);
    stopped after.

    Its readiness is the caller's to wait for (a first task answered), as it is for any worker.
    """
    options = [*(["-P", pool] if pool else []), "-c", str(concurrency), "--loglevel=WARNING"]
    with worker_process(queues, *options, env={**_production_env(), **env}) as worker:
        yield worker


def _request(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return _request("GET", url, None, headers or {})


def http_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    return _request("POST", url, body, headers)
