from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "core.procurement"
    label = "procurement"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.inventory import ledger_hooks
        from core.procurement import events  # noqa: F401 - declares the app's event types
        from core.procurement.receiving import purchase_orders_receive
        from core.procurement.selectors import rfq_awards_sql
        from core.quality.responses import response_source_register

        ledger_hooks.receipts_register(purchase_orders_receive)
        # An awarded RFQ is the response to its stock-out alert (quality's KPIs and replay).
        response_source_register("rfq_awarded", rfq_awards_sql)
