from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "core.alerts"
    label = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The rule registry checks itself against RuleCode when imported: every process that
        # loads the app (server, worker, management command) refuses to start when they disagree.
        from core.alerts import rules  # noqa: F401
        from core.alerts.triggers import evaluation_request
        from core.inventory import ledger_hooks

        # Changed positions are dirty: the engine looks at them again after commit.
        ledger_hooks.positions_changed_register(evaluation_request)
