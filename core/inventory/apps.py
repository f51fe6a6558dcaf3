from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "core.inventory"
    label = "inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.inventory import events  # noqa: F401 - declares the app's event types
        from core.inventory.grants import partner_grants
        from core.webhooks.audience import grants_resolver_register

        # Webhooks lie below inventory: they hear from it what a partner's endpoint may see.
        grants_resolver_register(partner_grants)
