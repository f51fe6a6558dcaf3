"""``celery -A workers worker`` as a child process, for the benchmarks and the test suite: both run
the deployed command line and stop it as a service manager does."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def worker_process(
    queues: str, *options: str, env: Mapping[str, str], log: IO[str] | None = None, stop_seconds: float = 30.0
) -> Iterator[subprocess.Popen]:
    """``celery -A workers worker -Q queues *options`` in the checkout with ``env`` (its output to
    ``log`` if given). On leaving: SIGTERM, a warm shutdown that lets running tasks finish, and a
    kill if it takes more than ``stop_seconds``."""
    command = [str(Path(sys.executable).with_name("celery")), "-A", "workers", "worker", "-Q", queues, *options]
    worker = subprocess.Popen(  # noqa: S603 - our own command line
        command, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT if log is not None else None
    )
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=stop_seconds)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
