"""One log line and the task series of every Celery task a worker runs, and the multiprocess
bookkeeping of a worker process that exits.

The line names the task, its id, the ids among its arguments (parameters named ``*_id`` or
``*_ids`` whose values are plain: a run, a delivery, a tenant), how long it ran and its outcome
(Celery's state). Every other line written while the task runs carries its ``task_id``.

A task sent while a request runs (or another task that came from one) carries the request's id in a
message header, and its lines carry that ``request_id``: a push's line and the work it caused share it.
"""

from __future__ import annotations

import inspect
import os
import time

import structlog
from celery import signals
from django.conf import settings
from prometheus_client import multiprocess

from core import telemetry

logger = structlog.get_logger("tripline.tasks")

_IDS_SHOWN = 10  # of a list of ids, the first this many and the count
REQUEST_ID_HEADER = "tripline_request_id"

_started: dict[str, float] = {}
_errors: dict[str, str] = {}


def _plain(value: object) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) <= 64


def ids_of(task: object, args: tuple | list | None, kwargs: dict | None) -> dict:
    """The task's id arguments by parameter name; lists shortened, anything else left out."""
    try:
        bound = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {})).arguments
    except (TypeError, ValueError):
        return {}
    shown = {}
    for name, value in bound.items():
        if not name.endswith(("_id", "_ids")):
            continue
        if _plain(value):
            shown[name] = value
        elif isinstance(value, list | tuple) and all(_plain(item) for item in value):
            shown[name] = list(value[:_IDS_SHOWN]) + ([f"... {len(value)} in all"] if len(value) > _IDS_SHOWN else [])
    return shown


def _task_sent(headers: dict | None = None, **_: object) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id and headers is not None:
        headers[REQUEST_ID_HEADER] = request_id


def _task_started(task_id: str | None = None, task: object = None, **_: object) -> None:
    _started[task_id] = time.perf_counter()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id)
    request_id = getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None)
    if request_id:
        structlog.contextvars.bind_contextvars(request_id=str(request_id))


def _task_failed(task_id: str | None = None, exception: BaseException | None = None, **_: object) -> None:
    _errors[task_id] = type(exception).__name__ if exception is not None else "unknown"


def _task_finished(
    task_id: str | None = None,
    task: object = None,
    args: tuple | None = None,
    kwargs: dict | None = None,
    state: str | None = None,
    **_: object,
) -> None:
    seconds = time.perf_counter() - _started.pop(task_id, time.perf_counter())
    name, outcome = getattr(task, "name", "unknown"), state or "UNKNOWN"
    telemetry.TASKS.labels(task=name, outcome=outcome).inc()
    telemetry.TASK_DURATION.labels(task=name).observe(seconds)
    error = _errors.pop(task_id, None)
    (logger.error if outcome == "FAILURE" else logger.info)(
        "task",
        task=name,
        ids=ids_of(task, args, kwargs),
        duration_ms=round(seconds * 1000, 2),
        outcome=outcome,
        **({"error": error} if error else {}),
    )
    structlog.contextvars.clear_contextvars()


def _process_exited(**_: object) -> None:
    """A prefork child that exits drops its live gauges from the folder (its counters stay summed)."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.mark_process_dead(os.getpid())


def connect() -> None:
    signals.before_task_publish.connect(_task_sent, weak=False, dispatch_uid="tripline.task_sent")
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="tripline.task_started")
    signals.task_failure.connect(_task_failed, weak=False, dispatch_uid="tripline.task_failed")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="tripline.task_finished")
    signals.worker_process_shutdown.connect(_process_exited, weak=False, dispatch_uid="tripline.process_exited")
