from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "core.access"
    label = "access"

    def ready(self) -> None:
        # Webhooks lie below the registry: the relay asks through the hook it declares.
        from core.access.scope import partner_grants
        from core.webhooks.relay import partner_grants_register

        partner_grants_register(partner_grants)
