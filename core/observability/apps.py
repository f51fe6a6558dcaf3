from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Configures structlog and hooks the Celery task signals in every process that loads Django
    (web, workers, commands), so each logs and counts the same way."""

    name = "core.observability"
    label = "observability"

    def ready(self) -> None:
        from core.observability import logs, task_signals

        logs.structlog_configure()
        task_signals.connect()
