"""The API's renderers: JSON with orjson, and the browsable API of the tenant-scoped views.

JSON: DRF's renderer runs the standard library's encoder, a third of a list page's rendering and
serializing time at a page of 100. ``JSONRenderer`` writes the same bytes with orjson for what every
response holds (dicts, lists, strings, numbers, UUIDs) and hands everything else to DRF's own
encoder (datetimes, decimals, lazy strings, ...), so those read exactly as DRF wrote them. It
escapes U+2028 and U+2029 as DRF does. What orjson cannot write (an integer past 64 bits, a key
that is not a string) and an indented answer (``Accept: application/json; indent=4``, the browsable
API) go through DRF's renderer unchanged. Floats are written in their shortest form, as Python
writes them, but with an exponent spelled ``1e16`` rather than ``1e+16`` (the same number to any
JSON reader); a NaN or an infinity, which DRF refused (a 500), is written as null.

The browsable API of the tenant-scoped views: forms for what the caller may do, never a 500.

DRF's renderer offers a form for every method the view implements and fills its raw-data form
from ``view.get_serializer()``; these views have no serializer of their own (their bodies are
declared per method for the OpenAPI schema), so a staff user opening a list with writes in a
browser got a 500. Here a form is offered for the methods the caller's role may use, filled from
the request body the operation documents.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from django import forms
from django.utils import timezone
from rest_framework import renderers, serializers
from rest_framework.request import Request
from rest_framework.utils import encoders

from api.metadata import documented_request_body

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.views import APIView


_DRF_ENCODER = encoders.JSONEncoder()
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # datetimes, dates and times through DRF's encoder
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


def _default(value: Any) -> Any:
    return _DRF_ENCODER.default(value)


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if data is None or not self.compact or self.ensure_ascii:
            return super().render(data, accepted_media_type, renderer_context)
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: what only the standard library writes (or refuses)
            return super().render(data, accepted_media_type, renderer_context)
        if _LINE_SEPARATOR in out or _PARAGRAPH_SEPARATOR in out:
            out = out.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return out


_DATETIME_FIELD = serializers.DateTimeField()


def datetime_texts() -> Callable[[datetime | None], str | None]:
    """DRF's ``DateTimeField().to_representation`` for the datetimes of a row, the current time zone
    read once: DRF reads it (a context-local lookup) for every value, a fifth of an alert page's time."""
    zone = timezone.get_current_timezone()

    def text(value: datetime | None) -> str | None:
        if not value or value.tzinfo is None:
            return _DATETIME_FIELD.to_representation(value)  # None, or a naive value: DRF's own way
        written = value.astimezone(zone).isoformat()
        return written[:-6] + "Z" if written.endswith("+00:00") else written

    return text


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def show_form_for_method(self, view: APIView, method: str, request: Request, obj: object) -> bool | None:
        caller_methods = getattr(view, "caller_methods", None)
        if caller_methods is not None and hasattr(view, "principal"):
            return method in caller_methods()
        return super().show_form_for_method(view, method, request, obj)

    def get_raw_data_form(self, data: object, view: APIView, method: str, request: Request) -> forms.Form | None:
        if not hasattr(view, "caller_methods"):
            return super().get_raw_data_form(data, view, method, request)
        body = documented_request_body(view, method)
        # DRF fills the form from view.get_serializer(): for this one call, the documented body
        # (or an empty object for a write that takes none).
        view.get_serializer = lambda *args, **kwargs: body if body is not None else serializers.Serializer()
        try:
            return super().get_raw_data_form(data, view, method, request)
        finally:
            del view.get_serializer
