"""What the ledger tells the apps above it, through hooks that inventory declares and they fill.

Inventory lies below supply, alerts and procurement, so it never imports them: each registers its
handler in its ``AppConfig.ready()``, and ingestion calls the handlers with plain rows, never the
name of its staging table. Handlers run inside the writer's transaction, after its lines are
written and with its positions locked, so what they change commits or rolls back with the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from tenants.models import Tenant


@dataclass(frozen=True)
class Receipt:
    """What a batch received against one order reference at one position: the units and the
    last (UTC) day they came in."""

    order_ref: str
    position_id: int
    quantity: int
    received_on: date


class ReceiptsHandler(Protocol):
    def __call__(self, *, tenant: Tenant, receipts: Sequence[Receipt]) -> object: ...


class PositionsChangedHandler(Protocol):
    def __call__(self, *, tenant_id: object) -> object: ...


_receipts_handlers: list[ReceiptsHandler] = []
_positions_changed_handlers: list[PositionsChangedHandler] = []


def receipts_register(handler: ReceiptsHandler) -> None:
    """Call ``handler`` with every batch's receipts that name an order (``order_ref``)."""
    if handler not in _receipts_handlers:
        _receipts_handlers.append(handler)


def positions_changed_register(handler: PositionsChangedHandler) -> None:
    """Call ``handler`` when a writer has changed what positions read from and marked them dirty."""
    if handler not in _positions_changed_handlers:
        _positions_changed_handlers.append(handler)


def receipts_wanted() -> bool:
    """Whether anyone listens for receipts: a writer need not gather them otherwise."""
    return bool(_receipts_handlers)


def receipts_landed(*, tenant: Tenant, receipts: Sequence[Receipt]) -> None:
    for handler in _receipts_handlers:
        handler(tenant=tenant, receipts=receipts)


def positions_changed(*, tenant_id: object) -> None:
    for handler in _positions_changed_handlers:
        handler(tenant_id=tenant_id)
