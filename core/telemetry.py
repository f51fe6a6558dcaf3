"""What the platform counts for an operator, in the shared kernel so that every layer can count.

The series are prometheus_client objects; ``/metrics`` (core/observability) exposes them, with the
gauges it reads from PostgreSQL and Redis at scrape time. Under gunicorn and prefork Celery each
process writes its values to ``PROMETHEUS_MULTIPROC_DIR`` and the scrape sums them
(docs/operations.md, Metrics). Labels stay bounded: route patterns, methods, status classes, kinds
and outcomes named in code, never an id, a SKU or a raw path; a tenant only when
``METRICS_TENANT_LABELS`` names it.

A count that belongs to a write is taken when its transaction commits (``count_on_commit``): a
rolled-back RFQ was never opened.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from prometheus_client import Counter, Histogram

# Tenants named in METRICS_TENANT_LABELS keep their slug as a label; every other one is this. With
# none named the label is empty, which Prometheus stores as no label at all.
OTHER_TENANT = "other"

_SECONDS_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SECONDS_SLOW = (0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0)


def tenant_label(slug: str | None) -> str:
    """The ``tenant`` label: the slug if METRICS_TENANT_LABELS names it, ``other`` if it names others,
    empty (no label) if it names none."""
    if not settings.METRICS_TENANT_LABELS:
        return ""
    return slug if slug in settings.METRICS_TENANT_LABELS else OTHER_TENANT


def tenant_labels_on() -> bool:
    return bool(settings.METRICS_TENANT_LABELS)


# --- HTTP (counted by core.observability.middleware) -------------------------------------------

HTTP_REQUESTS = Counter(
    "tripline_http_requests",
    "Requests answered, by route pattern, method and status class (5xx are the errors).",
    ["route", "method", "status", "tenant"],
)
HTTP_DURATION = Histogram(
    "tripline_http_request_duration_seconds",
    "Time from the request's arrival in Django to its answer, by route pattern and method.",
    ["route", "method"],
    buckets=_SECONDS_FAST,
)
THROTTLED = Counter(
    "tripline_throttled_requests",
    "Requests refused with 429, by the limit that refused them (docs/api.md, Limits).",
    ["scope"],
)

# --- Ingestion ----------------------------------------------------------------------------------

INGEST_BATCHES = Counter(
    "tripline_ingest_batches",
    "Bulk pushes by kind (the endpoint: movements, skus, signals, ...) and outcome.",
    ["kind", "outcome", "tenant"],
)
INGESTED_ROWS = Counter(
    "tripline_ingested_rows",
    "Rows written by accepted bulk pushes, by kind of push.",
    ["kind", "tenant"],
)

# --- Warning engine -----------------------------------------------------------------------------

EVALUATION_RUNS = Counter(
    "tripline_evaluation_runs",
    "Evaluation runs a worker finished, by trigger (full, incremental, ...) and status.",
    ["trigger", "status"],
)
EVALUATION_DURATION = Histogram(
    "tripline_evaluation_run_duration_seconds",
    "Time one worker spent carrying out a run, by trigger.",
    ["trigger"],
    buckets=_SECONDS_SLOW,
)
EVALUATION_POSITIONS = Counter(
    "tripline_evaluation_positions",
    "Positions evaluated (committed chunk by chunk), by trigger.",
    ["trigger"],
)

# --- Webhooks -----------------------------------------------------------------------------------

WEBHOOK_ATTEMPTS = Counter(
    "tripline_webhook_attempts",
    "Delivery attempts by outcome: success (2xx), client_error (4xx), server_error (5xx and other "
    "statuses), no_response (connection refused, timeout, an address the guard refused).",
    ["outcome"],
)
WEBHOOK_ATTEMPT_DURATION = Histogram(
    "tripline_webhook_attempt_duration_seconds",
    "Time one delivery attempt waited for the receiver.",
    buckets=_SECONDS_FAST,
)

# --- Procurement --------------------------------------------------------------------------------

RFQS_OPENED = Counter("tripline_rfqs_opened", "RFQs opened for alerts.")
RFQ_QUOTES = Counter("tripline_rfq_quotes", "Quotes suppliers submitted on RFQs (revisions included).")
RFQS_AWARDED = Counter(
    "tripline_rfqs_awarded",
    "RFQs awarded, by how: automatic (lowest landed cost at the deadline) or manual (a planner).",
    ["how"],
)

# --- Celery tasks (counted by core.observability.tasks) -----------------------------------------

TASKS = Counter(
    "tripline_celery_tasks",
    "Tasks a worker ran, by task name and outcome (Celery's state: SUCCESS, FAILURE, RETRY, ...).",
    ["task", "outcome"],
)
TASK_DURATION = Histogram(
    "tripline_celery_task_duration_seconds",
    "Time a task ran in the worker, by task name.",
    ["task"],
    buckets=_SECONDS_SLOW,
)


def count_on_commit(counter: Counter, amount: float = 1, **labels: str) -> None:
    """Add ``amount`` once the current transaction commits (at once outside one)."""
    child = counter.labels(**labels) if labels else counter
    transaction.on_commit(lambda: child.inc(amount), robust=True)


# --- Who a request was for, noted where the API resolves it ---------------------------------------

_CALLER = "_tripline_caller"


def caller_note(request: HttpRequest, *, tenant_slug: str, principal_kind: str) -> None:
    """Tell the request's log line and metrics the tenant and the kind of caller (a role or a partner
    kind, never a key or a name), once the API has resolved and checked them."""
    setattr(request, _CALLER, (tenant_slug, principal_kind))


def caller_of(request: HttpRequest) -> tuple[str | None, str | None]:
    """``(tenant slug, principal kind)`` noted for the request; ``(None, None)`` when none was."""
    return getattr(request, _CALLER, (None, None))
