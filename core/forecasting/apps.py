from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    """Demand classes, per-position forecasts with quantiles, promotions and the forecast backtest."""

    name = "core.forecasting"
    label = "forecasting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.forecasting.triggers import forecasts_request
        from core.inventory import ledger_hooks

        # A push that changed positions' history has their forecasts refit after commit.
        ledger_hooks.positions_changed_register(forecasts_request)
