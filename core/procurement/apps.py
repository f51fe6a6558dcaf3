from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "core.procurement"
    label = "procurement"
    default_auto_field = "django.db.models.BigAutoField"
