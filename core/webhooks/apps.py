from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from core.webhooks.events import EVENT_TYPES


class WebhooksConfig(AppConfig):
    name = "core.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(outbox_consumers_check)


def outbox_consumers_check(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Every event type an in-house consumer follows (settings.OUTBOX_CONSUMERS) is declared."""
    return [
        checks.Error(
            f"OUTBOX_CONSUMERS[{task_name!r}] follows {sorted(unknown)}, not in the event registry.",
            id="webhooks.E001",
        )
        for task_name, types in settings.OUTBOX_CONSUMERS.items()
        if (unknown := EVENT_TYPES.unknown(types))
    ]
