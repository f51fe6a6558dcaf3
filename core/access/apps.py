from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "core.access"
    label = "access"

    def ready(self) -> None:
        from core.access.scope import partner_grants
        from core.webhooks.audience import grants_resolver_register

        # Webhooks lie below the registry: they hear from it what a partner's endpoint may see.
        grants_resolver_register(partner_grants)
