"""The tenant-scoped operations as the OpenAPI document describes them, for generated tests.

drf-spectacular builds the document from the views' own filter sets and request serializers, so
walking it finds every query parameter and request body a view reads; the access matrix's
endpoints give the view (who may call it) and the ids its path needs.
"""

from __future__ import annotations

import re
from functools import cache

from django.test import Client

from tests.api.test_access_matrix import ENDPOINTS, Endpoint


@cache
def openapi_document() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def schema_path(route: str) -> str:
    """``api/v1/tenants/<slug:tenant_slug>/...`` as the document writes it: ``/api/v1/tenants/{tenant_slug}/...``."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def operations() -> list[tuple[Endpoint, dict]]:
    """Every routed tenant-scoped endpoint with its operation in the document."""
    paths = openapi_document()["paths"]
    found = [(endpoint, paths[schema_path(endpoint.route)].get(endpoint.method.lower())) for endpoint in ENDPOINTS]
    missing = [str(endpoint) for endpoint, operation in found if operation is None]
    assert not missing, f"routed but not documented: {missing}"
    return found


def json_body_schema(operation: dict) -> dict | None:
    """The operation's documented JSON request body, references resolved at the top level."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return resolve(body["schema"]) if body else None


def resolve(schema: dict) -> dict:
    if "$ref" in schema:
        return openapi_document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema
