"""Alerts."""

from django.http import HttpRequest, HttpResponse

from console.pages import ConsolePage


class InboxPage(ConsolePage):
    section = "inbox"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(request, "console/inbox.html", {})
