"""Transactions that PostgreSQL aborts for contention, run again as a whole.

PostgreSQL breaks a deadlock by aborting one of its transactions (40P01) and aborts a transaction
that a concurrent one made unserializable (40001); its manual's remedy for both is to run the
whole transaction again. Locking in one order keeps deadlocks rare; ``atomic_retried`` handles
the rest: it runs a function as one transaction, and again, after a short jittered pause, when
it ends in either error, a bounded number of times (``DB_RETRY_ATTEMPTS``), logging each retry.

Only the outermost transaction can be run again: a savepoint rolled back keeps the locks the
transaction took before it, so the cycle would still be there. Inside a transaction that is
already open, ``atomic_retried`` is a plain ``transaction.atomic`` and the error travels up to
the outermost one, whose own ``atomic_retried`` (a service, a task's chunk, a command's batch)
runs it again. A failed attempt leaves nothing behind: its writes and outbox rows roll back, and
Django drops the ``on_commit`` callbacks it registered. Whatever the function does outside the
database must be safe to do twice.

When every attempt was aborted, ``Contended`` is raised; the API answers it with 503 and a
``Retry-After``.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction
from psycopg import errors

from core.exceptions import Contended

logger = logging.getLogger("tripline.db")

_RETRYABLE = {errors.DeadlockDetected: "deadlock", errors.SerializationFailure: "serialization failure"}
_MAX_PAUSE_SECONDS = 1.0

P = ParamSpec("P")
R = TypeVar("R")


def contention_of(exc: BaseException) -> str | None:
    """'deadlock' or 'serialization failure' when PostgreSQL aborted the transaction for one, else None."""
    if not isinstance(exc, OperationalError):
        return None
    return next((name for kind, name in _RETRYABLE.items() if isinstance(exc.__cause__, kind)), None)


def atomic_retried(func: Callable[P, R]) -> Callable[P, R]:
    """``transaction.atomic`` that, as the outermost transaction, runs again when aborted for contention."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        attempts = max(1, settings.DB_RETRY_ATTEMPTS)
        for attempt in range(1, attempts + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as exc:
                kind = contention_of(exc)
                if kind is None:
                    raise
                if attempt == attempts:
                    logger.warning("%s: %s on each of %d attempts; giving up", func.__qualname__, kind, attempts)
                    raise Contended(f"{kind} on each of {attempts} attempts") from exc
                # Full jitter: the transactions that collided do not meet again in step.
                ceiling = min(_MAX_PAUSE_SECONDS, settings.DB_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
                pause = random.uniform(0, ceiling)  # noqa: S311 - timing, not security
                logger.warning(
                    "%s: %s on attempt %d of %d; running it again in %.0f ms",
                    func.__qualname__,
                    kind,
                    attempt,
                    attempts,
                    pause * 1000,
                )
                time.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises

    return run
