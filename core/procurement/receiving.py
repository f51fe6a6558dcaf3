"""Receipts against purchase orders: in transit comes down, the order closes, reliability follows.

A receipt pushed with ``order_ref`` equal to an open purchase order's reference (``PO-...``) for
the same SKU and warehouse counts against it. When the order is complete, the supplier's
reliability is recomputed from all its received orders (docs/procurement.md):
``(orders complete by their expected day + 4 x 0.9) / (orders received + 4)``, a share pulled
toward 0.9 while the history is short, written to every offer of the supplier. An order a planner
closes short counts as received and not complete.
"""

from __future__ import annotations

from tenants.models import Tenant

PRIOR_SHARE, PRIOR_WEIGHT = 0.9, 4


def purchase_orders_receive(*, cursor, tenant: Tenant, order_refs: list[str]) -> int:  # noqa: ANN001
    """Count this batch's receipts against the open orders they name; answer how many orders moved.

    Runs inside the ingestion transaction, after its lines are written and with its positions
    locked, so in transit and the ledger change together.
    """
    # Only references of this tenant's open orders count, found through their unique index; the
    # batch's own lines come from ingestion's staging table, never from a scan of the ledger.
    cursor.execute(
        "SELECT reference FROM procurement_purchaseorder WHERE tenant_id = %s AND reference = ANY(%s) "
        "AND status = 'open'",
        [tenant.pk, order_refs],
    )
    open_refs = [reference for (reference,) in cursor.fetchall()]
    if not open_refs:
        return 0
    cursor.execute(
        """
        WITH got AS (
            SELECT s.order_ref, s.position_id, sum(s.quantity) AS qty,
                   max((s.occurred_at AT TIME ZONE 'UTC')::date) AS day
              FROM ingest_movement s
             WHERE s.kind = 'receipt' AND s.order_ref = ANY(%(refs)s)
             GROUP BY s.order_ref, s.position_id
        )
        UPDATE procurement_purchaseorder o
           SET received_quantity = o.received_quantity + got.qty,
               received_on = GREATEST(COALESCE(o.received_on, got.day), got.day),
               status = CASE WHEN o.received_quantity + got.qty >= o.quantity THEN 'received' ELSE o.status END,
               updated_at = now()
          FROM got
         WHERE o.tenant_id = %(tenant)s AND o.reference = got.order_ref AND o.position_id = got.position_id
           AND o.status = 'open'
        RETURNING o.position_id, LEAST(got.qty, o.quantity - (o.received_quantity - got.qty)), o.supplier_id,
                  o.status
        """,
        {"tenant": tenant.pk, "refs": open_refs},
    )
    moved = cursor.fetchall()
    if not moved:
        return 0
    landed: dict[int, int] = {}
    for position_id, quantity, _, _ in moved:
        landed[position_id] = landed.get(position_id, 0) + max(0, quantity)
    cursor.execute(
        """
        UPDATE inventory_position p SET in_transit = GREATEST(0, p.in_transit - x.landed)
          FROM unnest(%s::bigint[], %s::bigint[]) AS x(position_id, landed)
         WHERE p.id = x.position_id
        """,
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
        "SELECT 1 FROM procurement_supplieroffer WHERE tenant_id = %s AND supplier_id = ANY(%s::uuid[]) "
        "ORDER BY id FOR UPDATE",
        [tenant.pk, supplier_ids],
    )
    cursor.execute(
        """
        UPDATE procurement_supplieroffer so
           SET reliability = round(r.score::numeric, 3), updated_at = now()
          FROM (SELECT supplier_id,
                       (count(*) FILTER (WHERE received_on <= expected_on AND received_quantity >= quantity)
                        + %(weight)s * %(share)s) / (count(*) + %(weight)s) AS score
                  FROM procurement_purchaseorder
                 WHERE tenant_id = %(tenant)s AND status IN ('received', 'closed_short')
                   AND supplier_id = ANY(%(suppliers)s::uuid[])
                 GROUP BY supplier_id) r
         WHERE so.tenant_id = %(tenant)s AND so.supplier_id = r.supplier_id
           AND so.reliability IS DISTINCT FROM round(r.score::numeric, 3)
        """,
        {"tenant": tenant.pk, "suppliers": supplier_ids, "weight": PRIOR_WEIGHT, "share": PRIOR_SHARE},
    )
