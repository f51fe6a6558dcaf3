"""Stock approved to come to a position that its ``in_transit`` does not count yet.

``in_transit`` already holds what is on its way: shipped transfers (from the ship to the receipt)
and awarded RFQs' purchase orders (from the award to the receipt). What is approved but has not
left yet, a transfer approved and reserved at its source, lives in apps above the engine, so the
engine does not read it by name: those apps register here, when Django starts, SQL answering
``sku_id, warehouse_id, units`` for the tenant's SKUs of a chunk, and the indicator statement adds
them up per position (``inbound_approved``).
"""

from __future__ import annotations

from typing import Protocol


class InboundSql(Protocol):
    def __call__(self, *, tenant: str, skus: str) -> str:
        """SQL answering ``sku_id, warehouse_id, units`` of approved inbound stock not in transit yet,
        for the tenant ``tenant`` (a placeholder) and the SKUs of ``skus`` (a subquery)."""


_sources: dict[str, InboundSql] = {}


def inbound_source_register(name: str, source: InboundSql) -> None:
    """Count ``source``'s approved inbound stock in the engine's figures; registering a name again replaces it."""
    _sources[name] = source


def inbound_sql(*, tenant: str, skus: str) -> str:
    """Every registered source's rows as one union (no row when none is registered)."""
    parts = [source(tenant=tenant, skus=skus) for _, source in sorted(_sources.items())]
    if not parts:
        return "SELECT NULL::bigint AS sku_id, NULL::bigint AS warehouse_id, 0::bigint AS units WHERE false"
    return "\nUNION ALL\n".join(
        f"SELECT sku_id, warehouse_id, units FROM ({part}) AS source"  # noqa: S608 - registered SQL, no values
        for part in parts
    )
