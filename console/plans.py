"""Transfer plans."""

from django.http import HttpRequest, HttpResponse

from console.pages import ConsolePage


class PlanListPage(ConsolePage):
    section = "plans"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(request, "console/plans.html", {})
