"""Worker tests deliver to local webhook receivers; the worker itself is tests.support.celery_worker."""

from tests.webhooks.conftest import receiver, receivers  # noqa: F401 - fixtures
