from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "core.alerts"
    label = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.alerts import events  # noqa: F401 - declares the app's event types
        from core.alerts.triggers import evaluation_request
        from core.inventory import ledger_hooks

        # Changed positions are dirty: the engine looks at them again after commit.
        ledger_hooks.positions_changed_register(evaluation_request)
