from django.apps import AppConfig


class SupplyConfig(AppConfig):
    """Supplier offers: master data that access, alerts and procurement read."""

    name = "core.supply"
    label = "supply"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.inventory.grants import supplied_skus_register
        from core.supply.selectors import supplied_sku_ids

        # Inventory lies below supply: it asks for a supplier's SKUs through this hook.
        supplied_skus_register(supplied_sku_ids)
