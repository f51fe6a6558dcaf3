from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "core.transfers"
    label = "transfers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declares the app's event types in the event registry.
        # Approved transfers not shipped yet count as inbound stock in the engine's days of cover.
        # An approved transfer is a response to the alerts at both its ends (quality's KPIs and replay).
        from core.alerts.inbound import inbound_source_register
        from core.quality.responses import response_source_register
        from core.transfers import events  # noqa: F401
        from core.transfers.selectors import approved_inbound_sql, transfers_approved_sql

        inbound_source_register("approved_transfers", approved_inbound_sql)
        response_source_register("transfer_approved", transfers_approved_sql)
