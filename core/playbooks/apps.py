from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "core.playbooks"
    label = "playbooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The engine sits below the playbooks: it asks for an alert's response through a hook it owns.
        from core.alerts import grade_response
        from core.playbooks import events  # noqa: F401 - declares the app's event types
        from core.playbooks.recommend import trips_recommend

        grade_response.recommender_register(trips_recommend)
