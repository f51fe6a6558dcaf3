"""The Celery app. JSON only, bounded task time, late acks for idempotent work, named queues."""

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.main")

app = Celery("tripline")
# The default app of every thread, not only the one that imported this: the domain sends tasks
# through celery.current_app (core/task_requests.py).
app.set_default()

# One place that says which work goes to which queue; workers can be scaled per queue.
QUEUES = {
    "default": "small, quick tasks",
    "diagnostics": "pings and health checks",
    "evaluation": "the warning engine's sweeps and incremental passes",
    "forecasting": "forecast refreshes: a tenant's daily refit, changed positions' refits",
    "ingestion": "post-processing of bulk pushes",
    "webhooks": "outbound webhook deliveries",
    "outbox": "the outbox relay and the webhook sweep, apart from deliveries so a backlog never holds them up",
    "procurement": "RFQs, quotes settling, playbook records",
    "transfers": "system transfer plans",
    "quality": "warning backtests: long replays of the engine over past periods",
}
TASK_ROUTES = {
    "tripline.diagnostics.*": {"queue": "diagnostics"},
    "tripline.evaluation.*": {"queue": "evaluation"},
    "tripline.forecasting.*": {"queue": "forecasting"},
    "tripline.ingestion.*": {"queue": "ingestion"},
    "tripline.webhooks.relay": {"queue": "outbox"},
    "tripline.webhooks.sweep": {"queue": "outbox"},
    "tripline.webhooks.*": {"queue": "webhooks"},
    "tripline.procurement.*": {"queue": "procurement"},
    "tripline.transfers.*": {"queue": "transfers"},
    "tripline.quality.*": {"queue": "quality"},
}

LONGEST = settings.CELERY_LONGEST_TASK_SECONDS

# Every periodic task, in one place.
BEAT_SCHEDULE = {
    "prune-idempotency-keys": {"task": "tripline.ingestion.idempotency_prune", "schedule": 3600.0},
    "evaluation-sweep": {"task": "tripline.evaluation.sweep", "schedule": float(settings.EVALUATION_SWEEP_SECONDS)},
    "evaluation-watchdog": {"task": "tripline.evaluation.recover", "schedule": 60.0},
    # Every day's new history is refit once; pushes in between refit the positions they change.
    "forecasting-sweep": {"task": "tripline.forecasting.sweep", "schedule": 86400.0},
    "webhooks-sweep": {"task": "tripline.webhooks.sweep", "schedule": float(settings.WEBHOOK_SWEEP_SECONDS)},
    "webhooks-prune": {"task": "tripline.webhooks.prune", "schedule": 86400.0},
    # Catches lost respond/settle messages and passes RFQ deadlines: the "within a minute" bound.
    "procurement-sweep": {"task": "tripline.procurement.sweep", "schedule": float(settings.PROCUREMENT_SWEEP_SECONDS)},
    # Last month's KPI report for every tenant: on the 1st, and each later day catches a missed close.
    "kpis-month-close": {"task": "tripline.kpis.month_close", "schedule": crontab(minute=30, hour=1)},
    # The threshold tuner of every tenant whose tuning mode is propose or auto, once a day.
    "quality-tuning-sweep": {"task": "tripline.quality.tuning_sweep", "schedule": 86400.0},
    "quality-backtests-watchdog": {"task": "tripline.quality.warning_backtests_recover", "schedule": 60.0},
}

app.config_from_object(
    {
        "broker_url": settings.CELERY_BROKER_URL,
        "result_backend": settings.CELERY_RESULT_BACKEND,
        "accept_content": ["json"],
        "task_serializer": "json",
        "result_serializer": "json",
        "timezone": "UTC",
        "enable_utc": True,
        # State lives in PostgreSQL; a task result is stored only where a caller reads it.
        "task_ignore_result": True,
        "result_expires": 3600,
        "task_default_queue": "default",
        "task_routes": TASK_ROUTES,
        # The soft limit lets a task clean up before the hard one; never zero or below.
        "task_soft_time_limit": max(
            settings.CELERY_LONGEST_TASK_SECONDS * 0.9, settings.CELERY_LONGEST_TASK_SECONDS - 60
        ),
        "task_time_limit": settings.CELERY_LONGEST_TASK_SECONDS,
        # A task whose worker dies is handed out again only after the visibility timeout: keep
        # it above the longest task, or a slow task would run twice at once.
        # With REDIS_SENTINELS, the sentinels' name for the primary (empty otherwise).
        "broker_transport_options": {
            "visibility_timeout": settings.CELERY_LONGEST_TASK_SECONDS * 2,
            **settings.CELERY_SENTINEL_OPTIONS,
        },
        "result_backend_transport_options": {
            "visibility_timeout": settings.CELERY_LONGEST_TASK_SECONDS * 2,
            **settings.CELERY_SENTINEL_OPTIONS,
        },
        "task_acks_late": False,  # opted into per task, only where the task is idempotent
        "task_reject_on_worker_lost": False,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
        "beat_schedule": BEAT_SCHEDULE,
    }
)
# Lazily, once Django is set up: task modules import models.
app.autodiscover_tasks(["workers"], related_name="tasks")


# The worker pools a deployment runs, each on hosts of its own (docs/scaling.md): every queue in
# exactly one, so a pool that is down or saturated holds up its own queues and nothing else. The
# intake pool is the one that keeps the warnings fresh; outbound talks to partners (slow receivers,
# mail); planning runs the long jobs (plans, backtests) that must not sit in front of either.
POOLS = {
    "intake": ("ingestion", "evaluation", "forecasting", "default", "diagnostics"),
    "outbound": ("outbox", "webhooks", "procurement"),
    "planning": ("transfers", "quality"),
}


def worker_queues(*pools: str) -> str:
    """The queues of ``pools`` (all queues when none is named), for ``celery worker -Q``."""
    return ",".join(queue for pool in pools for queue in POOLS[pool]) if pools else ",".join(QUEUES)
