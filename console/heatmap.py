"""Heat map."""

from django.http import HttpRequest, HttpResponse

from console.pages import ConsolePage


class HeatmapPage(ConsolePage):
    section = "heatmap"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(request, "console/heatmap.html", {})
