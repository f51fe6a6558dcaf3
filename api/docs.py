"""The schema's views: the document itself and its pages (Swagger UI, ReDoc).

Apart from ``api/schema.py``: that module is DRF's schema class, which drf-spectacular's views
import while loading.
"""

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.renderers import BaseRenderer, JSONRenderer


class JsonOptionsMixin:
    """OPTIONS in JSON, as on every API route, not in the view's own format.

    The pages' only renderer is an HTML template, which has no template for an OPTIONS answer (a
    500); the document's first renderer would send the answer as an OpenAPI YAML document.
    """

    def get_renderers(self) -> list[BaseRenderer]:
        if self.request.method == "OPTIONS":
            return [JSONRenderer()]
        return super().get_renderers()


class SchemaView(JsonOptionsMixin, SpectacularAPIView):
    """The OpenAPI document."""


class SwaggerView(JsonOptionsMixin, SpectacularSwaggerView):
    """The Swagger UI page of the schema."""


class RedocView(JsonOptionsMixin, SpectacularRedocView):
    """The ReDoc page of the schema."""
