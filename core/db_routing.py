"""Reads that tolerate lag go to a streaming replica (``DATABASE_REPLICA_URL``); everything else to
the primary (docs/scaling.md, Read replicas).

What goes to the replica: the queries of a GET or HEAD request (list pages, rollups, the console),
outside any transaction, while the replica is up and at most ``REPLICA_MAX_LAG_SECONDS`` behind.
What stays on the primary: every write, every query inside a transaction (a service reads what it
is about to change), every task, and the reads of a caller who wrote within the last
``REPLICA_MAX_LAG_SECONDS`` (so a caller reads its own writes: after that long, a replica that is
not further behind has them too).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("tripline.db")

REPLICA = "replica"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_reads_tolerate_lag = contextvars.ContextVar("reads_tolerate_lag", default=False)

# The replica's state as last checked, shared by the threads of a process.
_checked = {"at": float("-inf"), "usable": False}
_check_lock = threading.Lock()

# How far the replica's replay is behind what it has received: 0 when it has replayed everything.
_LAG_SQL = """
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""


def replica_lag_seconds() -> float:
    """How many seconds the replica's replay is behind; raises DatabaseError when it is down."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(_LAG_SQL)
        return float(cursor.fetchone()[0])


def replica_usable() -> bool:
    """Whether the replica is up and within the lag bound, checked at most every
    ``REPLICA_LAG_CHECK_SECONDS`` per process (the check itself is one query on the replica)."""
    now = time.monotonic()
    if now - _checked["at"] < settings.REPLICA_LAG_CHECK_SECONDS:
        return _checked["usable"]
    with _check_lock:
        if now - _checked["at"] < settings.REPLICA_LAG_CHECK_SECONDS:
            return _checked["usable"]
        try:
            lag = replica_lag_seconds()
            usable = lag <= settings.REPLICA_MAX_LAG_SECONDS
            if not usable:
                logger.warning(
                    "Replica %.1f s behind (bound %s s): reads go to the primary.",
                    lag,
                    settings.REPLICA_MAX_LAG_SECONDS,
                )
        except DatabaseError as exc:
            logger.warning("Replica not answering (%s): reads go to the primary.", exc)
            connections[REPLICA].close()
            usable = False
        _checked.update(at=time.monotonic(), usable=usable)
        return usable


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block tolerate lag: the router may send them to the replica."""
    token = _reads_tolerate_lag.set(True)
    try:
        yield
    finally:
        _reads_tolerate_lag.reset(token)


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: lag-tolerant reads to the replica when it is usable."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        # "default" by name, never None: Django would fall back to the database an instance in the
        # hints was read from, and a transaction would read related rows from the replica.
        if not _reads_tolerate_lag.get() or connections["default"].in_atomic_block:
            return "default"
        return REPLICA if replica_usable() else "default"

    def db_for_write(self, model: type, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA


def _caller(request: HttpRequest) -> str | None:
    """Who calls, as far as reading one's own writes goes: the API key or the session."""
    token = request.headers.get("Authorization") or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return hashlib.sha256(token.encode()).hexdigest()[:32] if token else None


class ReplicaReadsMiddleware:
    """GET and HEAD read from the replica unless the caller wrote within the lag bound; a caller's
    unsafe request keeps its reads on the primary for that long (in the cache, shared by processes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        caller = _caller(request)
        key = f"replica:wrote:{caller}"
        if request.method not in _SAFE_METHODS:
            response = self.get_response(request)
            if caller is not None:
                cache.set(key, 1, timeout=max(1, int(settings.REPLICA_MAX_LAG_SECONDS + 1)))
            return response
        if caller is not None and cache.get(key):
            return self.get_response(request)
        with replica_reads():
            return self.get_response(request)
