"""The OpenAPI document as the API serves it, and a check that an answer is one it documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from jsonschema import Draft202012Validator


@cache
def document() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def assert_documented(response: object, method: str, path: str) -> None:
    """``response`` (to ``method`` on the document's ``path``) has a documented status and body.

    Formats are checked too (an empty string is not an email), as Schemathesis and generated
    clients do.
    """
    operation = document()["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path}: {response.status_code} is not documented"
    schema = documented["content"]["application/json"]["schema"]
    root = {**schema, "components": document()["components"]}
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
