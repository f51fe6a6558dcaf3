from types import ModuleType

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from api import errors as api_errors
from api import health
from api.docs import RedocView, SchemaView, SwaggerView
from console import errors as console_errors
from core.observability.views import metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include(("api.urls", "api"), namespace="v1")),
    path("console/", include("console.urls")),
]


def _pages_for(request: HttpRequest) -> ModuleType:
    """A person in the console gets pages; everyone else the API's JSON errors."""
    return console_errors if request.path.startswith("/console/") else api_errors


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _pages_for(request).bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _pages_for(request).permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _pages_for(request).not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    return _pages_for(request).server_error(request)
