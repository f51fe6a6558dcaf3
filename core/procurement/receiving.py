"""Receipts against purchase orders: in transit comes down, the order closes, reliability follows.

A receipt pushed with ``order_ref`` equal to an open purchase order's reference (``PO-...``) for
the same SKU and warehouse counts against it. When the order is complete, the supplier's
reliability is recomputed from all its received orders (docs/procurement.md):
``(orders complete by their expected day + 4 x 0.9) / (orders received + 4)``, a share pulled
toward 0.9 while the history is short, written to every offer of the supplier. An order a planner
closes short counts as received and not complete.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from core.inventory.ledger_hooks import Receipt
from core.inventory.models import Position
from core.procurement.models import PurchaseOrder
from core.supply.models import SupplierOffer
from tenants.models import Tenant

PRIOR_SHARE, PRIOR_WEIGHT = 0.9, 4
_ORDERS = PurchaseOrder._meta.db_table
_OFFERS = SupplierOffer._meta.db_table
_POSITIONS = Position._meta.db_table


def purchase_orders_receive(*, tenant: Tenant, receipts: Sequence[Receipt]) -> int:
    """Count a batch's receipts against the open orders they name; answer how many orders moved.

    The ledger's receipts hook (registered in ProcurementConfig.ready): it runs inside the
    ingestion transaction, after its lines are written and with its positions locked, so in
    transit and the ledger change together.
    """
    with connection.cursor() as cursor:
        return _receive(cursor, tenant, receipts)


def _receive(cursor, tenant: Tenant, receipts: Sequence[Receipt]) -> int:  # noqa: ANN001
    # Only references of this tenant's open orders count, found through their unique index.
    cursor.execute(
        f"SELECT reference FROM {_ORDERS} WHERE tenant_id = %s AND reference = ANY(%s) AND status = 'open'",  # noqa: S608
        [tenant.pk, sorted({receipt.order_ref for receipt in receipts})],
    )
    open_refs = {reference for (reference,) in cursor.fetchall()}
    got = [receipt for receipt in receipts if receipt.order_ref in open_refs]
    if not got:
        return 0
    cursor.execute(
        f"""
        WITH got AS (
            SELECT * FROM unnest(%(refs)s::text[], %(positions)s::bigint[], %(quantities)s::bigint[],
                                 %(days)s::date[]) AS got (order_ref, position_id, qty, day)
        )
        UPDATE {_ORDERS} o
           SET received_quantity = o.received_quantity + got.qty,
               received_on = GREATEST(COALESCE(o.received_on, got.day), got.day),
               status = CASE WHEN o.received_quantity + got.qty >= o.quantity THEN 'received' ELSE o.status END,
               updated_at = now()
          FROM got
         WHERE o.tenant_id = %(tenant)s AND o.reference = got.order_ref AND o.position_id = got.position_id
           AND o.status = 'open'
        RETURNING o.position_id, LEAST(got.qty, o.quantity - (o.received_quantity - got.qty)), o.supplier_id,
                  o.status
        """,  # noqa: S608 - table names only
        {
            "tenant": tenant.pk,
            "refs": [receipt.order_ref for receipt in got],
            "positions": [receipt.position_id for receipt in got],
            "quantities": [receipt.quantity for receipt in got],
            "days": [receipt.received_on for receipt in got],
        },
    )
    moved = cursor.fetchall()
    if not moved:
        return 0
    landed: dict[int, int] = {}
    for position_id, quantity, _, _ in moved:
        landed[position_id] = landed.get(position_id, 0) + max(0, quantity)
    cursor.execute(
        f"""
        UPDATE {_POSITIONS} p SET in_transit = GREATEST(0, p.in_transit - x.landed)
          FROM unnest(%s::bigint[], %s::bigint[]) AS x(position_id, landed)
         WHERE p.id = x.position_id
        """,  # noqa: S608 - a table name only
        [list(landed), list(landed.values())],
    )
    completed = sorted({str(supplier) for _, _, supplier, status in moved if status == "received"})
    if completed:
        reliability_refresh(cursor=cursor, tenant=tenant, supplier_ids=completed)
    return len(moved)


def reliability_refresh(*, cursor, tenant: Tenant, supplier_ids: list[str]) -> None:  # noqa: ANN001
    # Two refreshes of one supplier (a receipt and a close) would each count the orders of its own
    # snapshot, and the later UPDATE rechecks only its target rows: lock the offers first, so the
    # UPDATE's fresh snapshot includes the other's committed order.
    cursor.execute(
        f"SELECT 1 FROM {_OFFERS} WHERE tenant_id = %s AND supplier_id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE",  # noqa: S608
        [tenant.pk, supplier_ids],
    )
    cursor.execute(
        f"""
        UPDATE {_OFFERS} so
           SET reliability = round(r.score::numeric, 3), updated_at = now()
          FROM (SELECT supplier_id,
                       (count(*) FILTER (WHERE received_on <= expected_on AND received_quantity >= quantity)
                        + %(weight)s * %(share)s) / (count(*) + %(weight)s) AS score
                  FROM {_ORDERS}
                 WHERE tenant_id = %(tenant)s AND status IN ('received', 'closed_short')
                   AND supplier_id = ANY(%(suppliers)s::uuid[])
                 GROUP BY supplier_id) r
         WHERE so.tenant_id = %(tenant)s AND so.supplier_id = r.supplier_id
           AND so.reliability IS DISTINCT FROM round(r.score::numeric, 3)
        """,  # noqa: S608 - table names only
        {"tenant": tenant.pk, "suppliers": supplier_ids, "weight": PRIOR_WEIGHT, "share": PRIOR_SHARE},
    )
