"""The one base of every tenant page under ``/console/{tenant_slug}/``: who may see it and who may act.

As the API's ``TenantScopedView``: a tenant that is not the user's answers 404 (as one that does not
exist), and each method is granted to roles (analysts read; planners and admins act). Partners have
no console: they work through the API with their keys.
"""

from collections.abc import Container, Mapping
from typing import Any, ClassVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from api.permissions import ANY_STAFF, STAFF_WRITERS
from console import errors
from core import telemetry
from core.exceptions import NotFound
from tenants import selectors as tenant_selectors
from tenants.models import Tenant
from tenants.principals import Principal

READERS = ANY_STAFF
ACTORS = STAFF_WRITERS


class ConsolePage(View):
    """Subclasses declare ``access = {"GET": READERS, "POST": ACTORS}`` and ``section`` (the nav
    entry they light); every other method is refused."""

    access: ClassVar[Mapping[str, Container[str]]] = {"GET": READERS}
    section: ClassVar[str] = ""
    tenant: Tenant
    principal: Principal

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url="console:login")
        try:
            self.principal = tenant_selectors.principal_resolve(
                tenant_slug=str(kwargs.pop("tenant_slug")), user=request.user, api_key=None
            )
        except NotFound:
            raise Http404("No such tenant.") from None
        self.tenant = self.principal.tenant
        telemetry.caller_note(request, tenant_slug=self.tenant.slug, principal_kind=self.principal.access)
        method = "GET" if request.method == "HEAD" else request.method
        if not hasattr(self, method.lower()):
            return errors.method_not_allowed(request, self._allowed_methods())
        if method == "OPTIONS":
            # Asking what one may do here: the methods granted to the caller's role, as the API answers.
            implemented = self._allowed_methods()
            usable = [
                name for name in self.access if name in implemented and self.principal.access in self.access[name]
            ]
            allow = sorted({*usable, *(["HEAD"] if "GET" in usable else []), "OPTIONS"})
            return HttpResponse(headers={"Allow": ", ".join(allow)})
        if self.principal.access not in self.access.get(method, frozenset()):
            raise PermissionDenied(f"As {self.principal.access} you may not {method} this page.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def can_act(self) -> bool:
        """Whether the caller may post on this page (templates show action buttons only then)."""
        return self.principal.access in self.access.get("POST", frozenset())

    def page(self, request: HttpRequest, template: str, context: Mapping[str, Any], status: int = 200) -> HttpResponse:
        """``template`` rendered with the tenant, the caller's role, the tenant switcher and ``context``."""
        base = {
            "tenant": self.tenant,
            "principal": self.principal,
            "role": self.principal.role,
            "can_act": self.can_act,
            "section": self.section,
            "tenants": tenant_selectors.tenants_visible(user=request.user, api_key=None),
        }
        return render(request, template, {**base, **context}, status=status)
