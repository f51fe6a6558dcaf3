"""Access rules of the API layer. Role checks per method live on the tenant-scoped base view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tenants.models import ApiKey, PartnerKind, Role

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.views import APIView

ANY_STAFF = frozenset({Role.ADMIN, Role.PLANNER, Role.ANALYST})
STAFF_WRITERS = frozenset({Role.ADMIN, Role.PLANNER})
ADMINS = frozenset({Role.ADMIN})
ANY_PARTNER = frozenset(PartnerKind)
EVERYONE = ANY_STAFF | ANY_PARTNER
# Stock and master data: staff read, and so does the partner ERP that pushes them.
INVENTORY_READERS = ANY_STAFF | frozenset({PartnerKind.ERP})
# Who may push bulk ledger lines and master data.
INVENTORY_PUSHERS = STAFF_WRITERS | frozenset({PartnerKind.ERP})


class IsAuthenticatedPrincipal(BasePermission):
    """A staff session, a staff key or a partner key; nothing anonymous."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, ApiKey) or bool(request.user and request.user.is_authenticated)
