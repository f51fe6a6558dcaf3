from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "core.inventory"
    label = "inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.inventory import events  # noqa: F401 - declares the app's event types
