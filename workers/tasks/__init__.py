"""Task modules; each task is a thin wrapper around a domain service."""

from workers.tasks import (  # noqa: F401 - registers the tasks
    diagnostics,
    evaluation,
    forecasting,
    ingestion,
    kpis,
    procurement,
    quality,
    transfers,
    tuning,
    webhooks,
)
