"""Another writer that makes a connection a deadlock's victim."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import connection, transaction


@contextlib.contextmanager
def deadlock_victim(*, hold: Callable, close: Callable, timeout: float = 30.0) -> Iterator[threading.Event]:
    """Another writer, in a thread: in one transaction it runs ``hold(cursor)`` (taking what the
    victim will wait for; the yielded event is set then), waits until another connection waits for
    a lock it holds, then runs ``close(cursor)`` (taking what the victim holds). The victim waited first, so
    its deadlock check runs first and PostgreSQL aborts it; this transaction then commits."""
    held, failures = threading.Event(), []

    def other_writer() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                hold(cursor)
                held.set()
                _lock_waiter_wait(cursor, timeout)
                close(cursor)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        yield held
    finally:
        thread.join(timeout=timeout + 10)
    assert not failures, failures


def _lock_waiter_wait(cursor, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        # Waiting for this very transaction: in a full run other connections (a worker's) may wait
        # for locks of their own, and closing the cycle on their account would close none.
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        if cursor.fetchone()[0]:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"No other connection waited for a lock within {timeout}s")
        time.sleep(0.02)
