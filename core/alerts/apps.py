from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "core.alerts"
    label = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declares the app's event types in the event registry.
        from core.alerts import events  # noqa: F401
