"""The one tenant-scoped base of every ``/api/v1/tenants/{tenant_slug}/...`` view.

It resolves the tenant and the principal once, answers 404 for a tenant that is not the
caller's (the same answer as for one that does not exist), and denies every method the view
does not grant to the caller's role or partner kind (Sentry's ``OrganizationEndpoint``).
"""

from collections.abc import Callable, Container, Mapping
from typing import ClassVar

from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from api.metadata import TenantScopedMetadata
from core import telemetry
from core.exceptions import NotFound
from tenants import selectors
from tenants.models import ApiKey, Tenant
from tenants.principals import Principal


class TenantScopedView(generics.GenericAPIView):
    """Subclasses declare ``access = {"GET": ANY_STAFF, "POST": ADMINS, ...}``; the rest is denied."""

    access: ClassVar[Mapping[str, Container[str]]] = {}
    metadata_class = TenantScopedMetadata
    tenant: Tenant
    principal: Principal

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)  # authentication (401) comes first
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        try:
            self.principal = selectors.principal_resolve(
                tenant_slug=str(kwargs["tenant_slug"]), user=request.user, api_key=api_key
            )
        except NotFound:
            raise exceptions.NotFound("Not found.") from None
        self.tenant = self.principal.tenant
        telemetry.caller_note(request._request, tenant_slug=self.tenant.slug, principal_kind=self.principal.access)
        if not hasattr(self, request.method.lower()):
            raise exceptions.MethodNotAllowed(request.method)
        if request.method == "OPTIONS":
            method_granted = bool(self.caller_methods())  # asking what one may do needs a right to something
        else:
            method = "GET" if request.method == "HEAD" else request.method
            method_granted = self.principal.access in self.access.get(method, frozenset())
        if not method_granted:
            raise exceptions.PermissionDenied(
                f"As {self.principal.access} you may not {request.method} {request.path}."
            )

    def list_page(self, output: type[Serializer], context: dict | None = None) -> Response:
        """The view's rows, filtered and paginated, rendered with ``output``: every list endpoint."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(output(page, many=True, context=context or {}).data)

    def list_rows(self, columns: list[str], render: Callable[[dict], dict | None]) -> Response:
        """``list_page`` from plain value rows: ``columns`` read, each row rendered by ``render``
        (None: a row the access registry shows the caller nothing of, left out).

        For the busiest lists, where model instances and a serializer per row cost more than the page.
        """
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values(*columns))
        return self.get_paginated_response([shown for row in page if (shown := render(row)) is not None])

    def caller_methods(self) -> list[str]:
        """The methods of this view the caller's role or partner kind may use (OPTIONS describes them)."""
        granted = [method for method in self.access if self.principal.access in self.access[method]]
        if not granted:
            return []
        return sorted({*granted, *(["HEAD"] if "GET" in granted else []), "OPTIONS"})

    @classmethod
    def allowed(cls, method: str, access: str) -> bool:
        """Whether ``access`` (a role or partner kind) may use ``method``; the tests read this."""
        return access in cls.access.get(method, frozenset())
