from django.apps import AppConfig


class SupplyConfig(AppConfig):
    """Supplier offers: master data that access, alerts and procurement read."""

    name = "core.supply"
    label = "supply"
    default_auto_field = "django.db.models.BigAutoField"
