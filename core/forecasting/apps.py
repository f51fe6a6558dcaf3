from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    """Demand classes, per-position forecasts with quantiles, promotions and the forecast backtest."""

    name = "core.forecasting"
    label = "forecasting"
    default_auto_field = "django.db.models.BigAutoField"
