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
        from core.playbooks.selectors import markdowns_accepted_sql
        from core.quality.responses import response_source_register

        grade_response.recommender_register(trips_recommend)
        # An accepted markdown or clearance is the response to its alert (quality's KPIs and replay).
        response_source_register("markdown_accepted", markdowns_accepted_sql)
