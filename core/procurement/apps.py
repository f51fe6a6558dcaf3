from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "core.procurement"
    label = "procurement"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declares the app's event types in the event registry.
        from core.procurement import events  # noqa: F401
