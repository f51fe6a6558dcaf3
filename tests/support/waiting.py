"""Waiting for what a worker does in its own process: poll a check until it answers something."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_for(
    predicate: Callable[[], object],
    what: str = "change",
    *,
    timeout: float = 30.0,
    every: Callable[[], object] | None = None,
    pause: float = 0.05,
) -> object:
    """The first truthy answer of ``predicate``, asked every ``pause`` seconds (calling ``every``
    between asks, e.g. to nudge a sweep); the test fails naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if every is not None:
            every()
        time.sleep(pause)
    pytest.fail(f"No {what} after {timeout}s")
