"""Access rules of the API layer. Role checks per method live on the tenant-scoped base view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.access.registry import KINDS, Can
from tenants.models import ApiKey, Role

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.views import APIView

ANY_STAFF = frozenset({Role.ADMIN, Role.PLANNER, Role.ANALYST})
STAFF_WRITERS = frozenset({Role.ADMIN, Role.PLANNER})
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Grantees:
    """Who a view grants a method: staff ``roles``, and the partner kinds whose row in the access
    registry says they may do one of ``cans`` (or, with ``any_partner``, every kind it has a row for).
    The registry is asked at each request, so a kind without a row is granted nothing anywhere."""

    roles: frozenset[str] = frozenset()
    cans: frozenset[Can] = frozenset()
    any_partner: bool = False

    def __contains__(self, token: object) -> bool:
        if token in self.roles:
            return True
        if not isinstance(token, str) or token not in KINDS:
            return False
        return self.any_partner or bool(self.cans & KINDS[token].may)

    def __or__(self, other: Grantees | frozenset[str]) -> Grantees:
        if not isinstance(other, Grantees):
            other = Grantees(roles=frozenset(other))
        return Grantees(self.roles | other.roles, self.cans | other.cans, self.any_partner or other.any_partner)

    __ror__ = __or__


def partners_that(can: Can) -> Grantees:
    return Grantees(cans=frozenset({can}))


ANY_PARTNER = Grantees(any_partner=True)
EVERYONE = ANY_STAFF | ANY_PARTNER
# Alerts and indicator readings (each partner sees those of its scope).
ALERT_READERS = ANY_STAFF | partners_that(Can.READ_ALERTS)
# Stored forecasts (each partner those of its scope, as the access registry shows them).
FORECAST_READERS = ANY_STAFF | partners_that(Can.READ_FORECASTS)
# Stock and master data: staff read, and so does the partner ERP that pushes them.
INVENTORY_READERS = ANY_STAFF | partners_that(Can.READ_INVENTORY)
# Who may push bulk ledger lines and master data.
INVENTORY_PUSHERS = STAFF_WRITERS | partners_that(Can.PUSH_INVENTORY)
# The shared stock view and transfer requests: inventory readers and the partners of its scope.
STOCK_VIEWERS = INVENTORY_READERS | partners_that(Can.READ_SHARED_STOCK)
TRANSFER_FILERS = partners_that(Can.FILE_TRANSFERS)
# Supplier offers: staff, and a supplier its own; RFQs, quotes and purchase orders likewise.
OFFER_READERS = ANY_STAFF | partners_that(Can.SUPPLY)
RFQ_ANSWERERS = partners_that(Can.ANSWER_RFQS)
# The forecast backtest's tenant-wide report: staff, and the ERP that feeds the sales it measures.
FORECAST_ACCURACY_READERS = ANY_STAFF | partners_that(Can.READ_FORECAST_ACCURACY)
# Promotions: staff and the ERP that pushes the marketing calendar write; a distributor reads those
# of its warehouses. Deleting one is the tenant's own decision.
PROMOTION_READERS = ANY_STAFF | partners_that(Can.READ_PROMOTIONS) | partners_that(Can.MANAGE_PROMOTIONS)
PROMOTION_WRITERS = STAFF_WRITERS | partners_that(Can.MANAGE_PROMOTIONS)
PROMOTION_REMOVERS = STAFF_WRITERS
# Webhook endpoints: admins manage any, a partner its own.
WEBHOOK_KEEPERS = partners_that(Can.MANAGE_WEBHOOKS)


class IsAuthenticatedPrincipal(BasePermission):
    """A staff session, a staff key or a partner key; nothing anonymous."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, ApiKey) or bool(request.user and request.user.is_authenticated)
