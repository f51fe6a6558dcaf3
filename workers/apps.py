from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """Loads the Celery app with Django, so that the domain sends tasks by name through
    ``celery.current_app`` in every process (web, commands, workers) without importing workers."""

    name = "workers"
    label = "workers"

    def ready(self) -> None:
        import workers.app  # noqa: F401 - makes itself the default Celery app
