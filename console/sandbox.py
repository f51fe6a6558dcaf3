"""What-if sandbox."""

from django.http import HttpRequest, HttpResponse

from console.pages import ConsolePage


class SandboxPage(ConsolePage):
    section = "sandbox"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(request, "console/sandbox.html", {})
