"""Task modules; each task is a thin wrapper around a domain service."""

from workers.tasks import diagnostics, evaluation, ingestion, procurement, transfers, webhooks  # noqa: F401 - registers the tasks
