"""Which SKUs and warehouses a partner's endpoint may hear of, decided above webhooks.

Webhooks are infrastructure: they know tenants and partners, not the grants of inventory or the
offers of supply. The app that owns partners' scope registers a resolver at start-up
(InventoryConfig.ready); without one, a partner's endpoint hears nothing scoped to a SKU or a
warehouse.
"""

from __future__ import annotations

from collections.abc import Callable

from tenants.models import Partner

# (SKU ids, warehouse ids) a partner may hear of; None means no limit.
Grants = tuple[set | None, set | None]
GrantsResolver = Callable[[Partner | None], Grants]


def _nothing_scoped(partner: Partner | None) -> Grants:
    return (None, None) if partner is None else (set(), set())


_resolver: GrantsResolver = _nothing_scoped


def grants_resolver_register(resolver: GrantsResolver) -> None:
    """Let ``resolver(partner)`` answer what an endpoint of ``partner`` (None: the tenant's own)
    may hear of."""
    global _resolver
    _resolver = resolver


def partner_grants(partner: Partner | None) -> Grants:
    return _resolver(partner)
