"""The tenant-scoped operations as the OpenAPI document describes them, for generated tests.

drf-spectacular builds the document from the views' own filter sets and request serializers, so
walking it finds every query parameter and request body a view reads; the access matrix's
endpoints give the view (who may call it) and the ids its path needs. Also: whether an answer is
one the document describes, and the project's WSGI application for clients from outside.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from jsonschema import Draft202012Validator

from tests.support.endpoints import ENDPOINTS, Endpoint


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


def assert_documented(response: object, method: str, path: str) -> None:
    """``response`` (to ``method`` on the document's ``path``) has a documented status and body.

    Formats are checked too (an empty string is not an email), as Schemathesis and generated
    clients do.
    """
    operation = openapi_document()["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path}: {response.status_code} is not documented"
    schema = documented["content"]["application/json"]["schema"]
    root = {**schema, "components": openapi_document()["components"]}
    validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(response.json()), key=lambda error: list(error.path))
    assert not errors, f"{method} {path}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


@contextmanager
def in_process_app() -> Iterator[object]:
    """The project's WSGI application, answering inside the test's own database transaction.

    Django closes a connection "left in a transaction" when a request starts and ends; its test
    client switches that off for each of its requests (and back on after), and this does the same
    for an outside client's, until the block ends: use no test client inside it.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
