"""Overview."""

from django.http import HttpRequest, HttpResponse

from console.pages import ConsolePage


class OverviewPage(ConsolePage):
    section = "overview"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(request, "console/overview.html", {})
