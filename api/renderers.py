"""The browsable API of the tenant-scoped views: forms for what the caller may do, never a 500.

DRF's renderer offers a form for every method the view implements and fills its raw-data form
from ``view.get_serializer()``; these views have no serializer of their own (their bodies are
declared per method for the OpenAPI schema), so a staff user opening a list with writes in a
browser got a 500. Here a form is offered for the methods the caller's role may use, filled from
the request body the operation documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from rest_framework import renderers, serializers
from rest_framework.request import Request

from api.metadata import documented_request_body

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.views import APIView


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
