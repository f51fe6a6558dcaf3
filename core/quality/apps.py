from django.apps import AppConfig


class QualityConfig(AppConfig):
    """How good the warnings are: the replay backtest, the KPIs planners review, the threshold tuner."""

    name = "core.quality"
    label = "quality"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.quality import events  # noqa: F401 - declares the app's event types
