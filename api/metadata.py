"""What ``OPTIONS`` answers on a tenant-scoped route: what the caller may do there.

DRF's ``SimpleMetadata`` describes ``get_serializer()`` for POST and PUT: on these views that is an
output serializer, or none at all (a 500). This one lists the methods the caller's role or partner
kind may use and, for each write among them, the fields of the request body the operation
documents in the OpenAPI schema (read from the same ``extend_schema`` annotation, so the two never
disagree). Nothing is described of a method the caller may not use.
"""

from __future__ import annotations

from typing import Protocol

from rest_framework import serializers
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request

WRITES = ("POST", "PUT", "PATCH")


class ScopedView(Protocol):
    """What the answer to OPTIONS reads of a view: the tenant-scoped base view has it (the base view
    names this class as its metadata, so this module does not import it back)."""

    renderer_classes: list
    parser_classes: list

    def caller_methods(self) -> list[str]: ...

    def get_view_name(self) -> str: ...

    def get_view_description(self, html: bool = False) -> str: ...


class TenantScopedMetadata(SimpleMetadata):
    def determine_metadata(self, request: Request, view: ScopedView) -> dict:
        methods = view.caller_methods()
        metadata = {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "allowed_methods": methods,
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
        actions = {}
        for method in (method for method in methods if method in WRITES):
            body = documented_request_body(view, method)
            if body is not None:
                actions[method] = self.get_serializer_info(body)
        if actions:
            metadata["actions"] = actions
        return metadata


def documented_request_body(view: ScopedView, method: str) -> serializers.Serializer | None:
    """The JSON request serializer that ``extend_schema`` documents for ``method``, if any."""
    handler = getattr(view, method.lower(), None)
    schema_class = getattr(handler, "kwargs", {}).get("schema")
    if schema_class is None:
        return None
    schema = schema_class()
    schema.view, schema.method = view, method
    body = schema.get_request_serializer()
    if isinstance(body, dict):  # per media type (the bulk endpoints): the JSON one
        body = body.get("application/json")
    if isinstance(body, type) and issubclass(body, serializers.BaseSerializer):
        body = body()
    return body if isinstance(body, serializers.BaseSerializer) else None
