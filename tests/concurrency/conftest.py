"""The real Celery worker, for the tests that run the engine's passes the way production runs them,
and the inventory tests' one-SKU shop."""

from tests.inventory.conftest import shop  # noqa: F401 - fixture
from tests.workers.conftest import celery_worker_process, worker_mail_dir  # noqa: F401 - fixtures
