from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "core.transfers"
    label = "transfers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declares the app's event types in the event registry.
        from core.transfers import events  # noqa: F401
