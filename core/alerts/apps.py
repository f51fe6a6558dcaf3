from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "core.alerts"
    label = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing these declares the app's event types, and has the rule registry check itself
        # against RuleCode: every process that loads the app (server, worker, management command)
        # refuses to start when they disagree.
        from core.alerts import events, rules  # noqa: F401
        from core.alerts.triggers import evaluation_request, positions_refit
        from core.forecasting import refit_hooks
        from core.inventory import ledger_hooks

        # Changed positions are dirty: the engine looks at them again after commit.
        ledger_hooks.positions_changed_register(evaluation_request)
        # So are positions whose forecast was refit: their alerts are graded on the new forecast.
        refit_hooks.forecasts_changed_register(positions_refit)
