"""Bulk ingestion of ledger lines: COPY into a staging table, checked and merged set-based.

One transaction per batch: the lines are copied into a temporary table, codes are resolved,
positions locked in primary-key order, every rule checked over the whole set, and only then the
ledger, positions, lots, daily facts and anomaly flags written, each with one statement. A
refused batch writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from core.bulk_copy import copy_rows, staging_table_create, text_array
from core.inventory import bulk_rows as br
from core.inventory import ledger_hooks
from core.inventory.events import STOCK_ANOMALY_FLAGGED
from core.inventory.idempotency import idempotency_complete
from core.inventory.models import (
    IdempotencyRecord,
    MovementKind,
    Sku,
    Warehouse,
    receipt_delay_sums_sql,
    signed_quantity_sql,
)
from core.retries import atomic_retried
from core.webhooks.outbox import Event, outbox_emit
from tenants.models import PartnerKind, Tenant

MOVEMENT_COLUMNS = [
    br.Column("kind", br.choice(MovementKind.values)),
    br.Column("sku", br.text(64)),
    br.Column("warehouse", br.text(64)),
    br.Column("quantity", br.between(br.integer, -br.MAX_QUANTITY, br.MAX_QUANTITY)),
    br.Column("occurred_at", br.aware_datetime),
    br.Column("external_ref", br.text(128)),
    br.Column("order_ref", br.text(128), required=False),
    br.Column("unit_price", br.decimal(12, 4), required=False),
    br.Column("lot_code", br.text(64), required=False),
    br.Column("expires_on", br.iso_date, required=False),
    br.Column("promised_on", br.iso_date, required=False),
]

# Signed effect of a line on on-hand stock, in SQL over the staging table.
_DELTA_SQL = signed_quantity_sql()
_RECEIPT_DELAY_SQL = receipt_delay_sums_sql()


class BatchRejected(Exception):
    """The batch breaks a rule; ``errors`` lists each bad row by number and field."""

    def __init__(self, errors: br.RowErrors) -> None:
        super().__init__(f"{errors.total} row error(s)")
        self.errors = errors


@dataclass(frozen=True)
class IngestResult:
    batch_id: str
    rows: int
    positions: int
    flagged: int
    created_positions: int

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "rows": self.rows,
            "positions": self.positions,
            "created_positions": self.created_positions,
            "flagged": self.flagged,
        }


def movement_rows_parse(rows: list[dict]) -> tuple[dict[str, list], br.RowErrors]:
    """Types and shapes of each line; the rules that need the database come in the service."""
    errors = br.RowErrors()
    columns = br.parse_columns(rows, MOVEMENT_COLUMNS, errors)
    kinds, quantities, prices = columns["kind"], columns["quantity"], columns["unit_price"]
    promised = columns["promised_on"]
    for index in range(len(rows)):
        quantity = quantities[index]
        if quantity is None or kinds[index] is None:
            continue
        if kinds[index] == MovementKind.ADJUSTMENT:
            if quantity == 0:
                errors.add(index + 1, "quantity", "An adjustment must not be zero (its sign gives the direction).")
        elif quantity <= 0:
            errors.add(index + 1, "quantity", "Must be positive.")
        if prices[index] is not None and kinds[index] != MovementKind.SALE:
            errors.add(index + 1, "unit_price", "Only a sale carries a unit price.")
        if promised[index] is not None and kinds[index] != MovementKind.RECEIPT:
            errors.add(index + 1, "promised_on", "Only a receipt carries a promised day.")
    return columns, errors


def _resolve_codes(tenant: Tenant, columns: dict[str, list], errors: br.RowErrors) -> tuple[dict, dict]:
    """The batch's SKU and warehouse ids by code; an unknown code is an error of its rows."""
    sku_codes, warehouse_codes = set(columns["sku"]) - {None}, set(columns["warehouse"]) - {None}
    skus = dict(Sku.objects.filter(tenant=tenant, code__in=sku_codes).values_list("code", "id"))
    warehouses = dict(Warehouse.objects.filter(tenant=tenant, code__in=warehouse_codes).values_list("code", "id"))
    if len(skus) < len(sku_codes) or len(warehouses) < len(warehouse_codes):
        for index, (sku, warehouse) in enumerate(zip(columns["sku"], columns["warehouse"], strict=True)):
            if sku is not None and sku not in skus:
                errors.add(index + 1, "sku", f"Unknown SKU code {sku!r} in this tenant.")
            if warehouse is not None and warehouse not in warehouses:
                errors.add(index + 1, "warehouse", f"Unknown warehouse code {warehouse!r} in this tenant.")
    return skus, warehouses


@atomic_retried
def movements_ingest(
    *,
    tenant: Tenant,
    source: str,
    columns: dict[str, list],
    idempotency_record: IdempotencyRecord | None = None,
) -> IngestResult:
    """Write a parsed batch of ledger lines, all or nothing; BatchRejected lists what is wrong.

    One transaction, run again if PostgreSQL aborts it for contention (``atomic_retried``).
    """
    errors = br.RowErrors()
    skus, warehouses = _resolve_codes(tenant, columns, errors)
    if errors:
        raise BatchRejected(errors)
    batch_id = uuid.uuid4()
    with connection.cursor() as cursor:
        # Statistics of tables that just grew by a batch lag behind; a nested loop planned on them
        # turns a batch quadratic. Every join here is batch-wide: hash joins are the right shape.
        cursor.execute("SET LOCAL enable_nestloop = off")
        position_ids, created_positions = _lock_positions(cursor, tenant, columns, skus, warehouses)
        _stage(cursor, columns, position_ids)
        _check(cursor, tenant, source, columns["external_ref"], errors)
        if errors:
            raise BatchRejected(errors)
        sale_orders = {
            ref for ref, kind in zip(columns["order_ref"], columns["kind"], strict=True) if ref and kind == "sale"
        }
        flagged = _flag_anomalies(cursor, tenant, source, text_array(sale_orders))
        anomaly_ids = _write(cursor, tenant, source, batch_id, flagged=flagged)
        receipt_orders = {
            ref for ref, kind in zip(columns["order_ref"], columns["kind"], strict=True) if ref and kind == "receipt"
        }
        if receipt_orders and ledger_hooks.receipts_wanted():
            ledger_hooks.receipts_landed(tenant=tenant, receipts=_receipts(cursor, sorted(receipt_orders)))
        if anomaly_ids:
            _announce_anomalies(cursor, tenant, anomaly_ids)
        result = IngestResult(
            batch_id=str(batch_id),
            rows=len(position_ids),
            positions=len(set(position_ids)),
            flagged=flagged,
            created_positions=created_positions,
        )
        if idempotency_record is not None:
            idempotency_complete(record=idempotency_record, status=201, body=result.as_dict())
        ledger_hooks.positions_changed(tenant_id=tenant.pk)  # the touched positions are dirty
    return result


def _receipts(cursor, order_refs: list[str]) -> list[ledger_hooks.Receipt]:  # noqa: ANN001
    """The batch's receipts against these order references, summed per reference and position."""
    cursor.execute(
        """
        SELECT order_ref, position_id, sum(quantity)::bigint, max((occurred_at AT TIME ZONE 'UTC')::date)
        FROM ingest_movement WHERE kind = 'receipt' AND order_ref = ANY(%s)
        GROUP BY order_ref, position_id ORDER BY order_ref, position_id
        """,
        [order_refs],
    )
    return [ledger_hooks.Receipt(*row) for row in cursor.fetchall()]


def _announce_anomalies(cursor, tenant: Tenant, anomaly_ids: list[uuid.UUID]) -> None:  # noqa: ANN001
    """A ``stock.anomaly_flagged`` event per sale this batch flagged, in its transaction."""
    # The batch's few anomalies, by the ids their INSERT returned; nested loops, off for the
    # batch-wide joins above, are the right shape for these.
    cursor.execute("SET LOCAL enable_nestloop = on")
    cursor.execute(
        """
        SELECT a.id, a.reason, m.external_ref, m.order_ref, m.quantity, p.sku_id, p.warehouse_id, s.code, w.code
        FROM inventory_anomaly a
        JOIN inventory_movement m ON m.id = a.movement_id
        JOIN inventory_position p ON p.id = m.position_id
        JOIN inventory_sku s ON s.id = p.sku_id
        JOIN inventory_warehouse w ON w.id = p.warehouse_id
        WHERE a.tenant_id = %s AND a.id = ANY(%s::uuid[])
        """,
        [tenant.pk, anomaly_ids],
    )
    flagged = [
        (
            {
                "anomaly_id": str(anomaly_id),
                "reason": reason,
                "external_ref": external_ref,
                "order_ref": order_ref,
                "quantity": quantity,
                "sku": sku,
                "warehouse": warehouse,
            },
            sku_id,
            warehouse_id,
        )
        for anomaly_id, reason, external_ref, order_ref, quantity, sku_id, warehouse_id, sku, warehouse in (
            cursor.fetchall()
        )
    ]
    # Inventory lies below the access registry, which says the ERP (that pushed the sale) hears of a
    # flagged sale as the tenant does and no other partner does; tests/access holds the two alike.
    outbox_emit(
        [
            Event(
                tenant_id=tenant.pk,
                type=STOCK_ANOMALY_FLAGGED.name,
                data=data,
                partner_payloads={PartnerKind.ERP: data},
                sku_id=sku_id,
                warehouse_id=warehouse_id,
            )
            for data, sku_id, warehouse_id in flagged
        ]
    )


def _lock_positions(
    cursor,  # noqa: ANN001
    tenant: Tenant,
    columns: dict[str, list],
    skus: dict,
    warehouses: dict,
) -> tuple[list[int], int]:
    """Create missing positions, lock all of the batch's in primary-key order, map rows to them.

    The fixed order makes two batches on the same positions queue instead of deadlocking. Rows
    are mapped by their pair of codes: text hashes in C, where a pair of UUIDs hashes in Python.
    """
    by_codes = list(set(zip(columns["sku"], columns["warehouse"], strict=True)))
    sku_ids = [skus[sku] for sku, _ in by_codes]
    warehouse_ids = [warehouses[warehouse] for _, warehouse in by_codes]
    cursor.execute(
        """
        INSERT INTO inventory_position (tenant_id, sku_id, warehouse_id, on_hand, reserved, in_transit,
                                        created_at, updated_at)
        SELECT %s, pair.sku_id, pair.warehouse_id, 0, 0, 0, now(), now()
        FROM unnest(%s::uuid[], %s::uuid[]) AS pair (sku_id, warehouse_id)
        ORDER BY 2, 3
        ON CONFLICT (tenant_id, sku_id, warehouse_id) DO NOTHING
        """,
        [tenant.pk, sku_ids, warehouse_ids],
    )
    created = cursor.rowcount
    ids = positions_lock(cursor, tenant, sku_ids, warehouse_ids)
    pairs = zip(by_codes, sku_ids, warehouse_ids, strict=True)
    position_of = {codes: ids[sku_id, warehouse_id] for codes, sku_id, warehouse_id in pairs}
    return list(map(position_of.__getitem__, zip(columns["sku"], columns["warehouse"], strict=True))), created


def positions_lock(cursor, tenant: Tenant, sku_ids: list, warehouse_ids: list) -> dict[tuple, int]:  # noqa: ANN001
    """Lock the tenant's positions of these (SKU, warehouse) pairs in primary-key order; answer
    their ids by pair.

    Every writer that locks several positions at once takes them this way (ingestion, accepting a
    transfer plan), so two of them on the same positions queue instead of deadlocking.

    The lock is FOR NO KEY UPDATE, as every writer of positions takes it: none changes a
    position's key. FOR UPDATE would also block the FOR KEY SHARE lock that PostgreSQL takes on a
    position at another transaction's COMMIT, where the deferred foreign keys of the rows it wrote
    (alerts, readings, RFQs, playbook records) are checked, in whatever order those rows went in:
    a chunk of the engine that had checked one position this push wanted, and waited at COMMIT for
    one this push held, deadlocked with it.
    """
    cursor.execute(
        """
        SELECT p.id, p.sku_id, p.warehouse_id FROM inventory_position p
        JOIN unnest(%s::uuid[], %s::uuid[]) AS pair (sku_id, warehouse_id)
          ON p.sku_id = pair.sku_id AND p.warehouse_id = pair.warehouse_id
        WHERE p.tenant_id = %s
        ORDER BY p.id FOR NO KEY UPDATE OF p
        """,
        [list(sku_ids), list(warehouse_ids), tenant.pk],
    )
    return {(sku, warehouse): pk for pk, sku, warehouse in cursor.fetchall()}


def _stage(cursor, columns: dict[str, list], position_ids: list[int]) -> None:  # noqa: ANN001
    staging_table_create(
        cursor,
        "ingest_movement",
        {
            "row_no": "integer NOT NULL",
            "position_id": "bigint NOT NULL",
            "kind": "text NOT NULL",
            "quantity": "bigint NOT NULL",
            "occurred_at": "timestamptz NOT NULL",
            "external_ref": "text NOT NULL",
            "order_ref": "text",
            "unit_price": "numeric(12, 4)",
            "lot_code": "text",
            "expires_on": "date",
            "promised_on": "date",
            "flag": "text",
            "flag_detail": "jsonb",
        },
    )
    copied = [
        "kind",
        "quantity",
        "occurred_at",
        "external_ref",
        "order_ref",
        "unit_price",
        "lot_code",
        "expires_on",
        "promised_on",
    ]
    copy_rows(
        cursor,
        "ingest_movement",
        ["row_no", "position_id", *copied],
        zip(range(1, len(position_ids) + 1), position_ids, *(columns[name] for name in copied), strict=True),
    )
    cursor.execute("ANALYZE ingest_movement")


def _check(cursor, tenant: Tenant, source: str, external_refs: list[str], errors: br.RowErrors) -> None:  # noqa: ANN001
    limit = br.MAX_REPORTED_ERRORS
    cursor.execute(
        """
        SELECT row_no, external_ref FROM (
            SELECT row_no, external_ref,
                   row_number() OVER (PARTITION BY external_ref ORDER BY row_no) AS nth
            FROM ingest_movement
        ) lines WHERE nth > 1 ORDER BY row_no LIMIT %s
        """,
        [limit],
    )
    for row_no, ref in cursor.fetchall():
        errors.add(row_no, "external_ref", f"Duplicate external reference {ref!r} within this batch.")
    # Lookups into the ledger go through its unique index with an array: linear in the batch,
    # whatever the planner believes about the ledger's size. (An ARRAY(SELECT ...) of the staged
    # lines instead is planned as a scan of the tenant's ledger that searches the array per row.)
    cursor.execute(
        "SELECT external_ref FROM inventory_movement WHERE tenant_id = %s AND source = %s"
        " AND external_ref = ANY(%s::text[])",
        [tenant.pk, source, text_array(external_refs)],
    )
    known = {ref for (ref,) in cursor.fetchall()}
    if known:
        for index, ref in enumerate(external_refs):
            if ref in known:
                errors.add(index + 1, "external_ref", f"External reference {ref!r} is already in the ledger.")
    # Stock may not go below what is reserved at any point, taking the lines in time order.
    cursor.execute(
        f"""
        SELECT row_no, running, reserved FROM (
            SELECT s.row_no, p.reserved,
                   p.on_hand + sum({_DELTA_SQL}) OVER (
                       PARTITION BY s.position_id ORDER BY s.occurred_at, s.row_no
                   ) AS running
            FROM ingest_movement s JOIN inventory_position p ON p.id = s.position_id AND p.tenant_id = %s
        ) lines WHERE running < reserved ORDER BY row_no LIMIT %s
        """,  # noqa: S608 - _DELTA_SQL is a constant
        [tenant.pk, limit],
    )
    for row_no, running, reserved in cursor.fetchall():
        shortfall = reserved - running
        errors.add(
            row_no,
            "quantity",
            f"Takes stock below zero available: {shortfall} more than on hand"
            + (f" (of which {reserved} reserved)" if reserved else "")
            + " at this point of the batch.",
        )


def _flag_anomalies(cursor, tenant: Tenant, source: str, order_refs: str) -> int:  # noqa: ANN001
    cursor.execute(
        """
        UPDATE ingest_movement SET flag = 'non_positive_price',
               flag_detail = jsonb_build_object('unit_price', unit_price)
        WHERE kind = 'sale' AND unit_price IS NOT NULL AND unit_price <= 0
        """
    )
    # The same order line seen before (earlier in this batch, or in the ledger) is a repeat:
    # brushing, or a double send under a new line reference. Window and hash joins, no self-join.
    cursor.execute(
        """
        WITH repeats AS (
            SELECT row_no FROM (
                SELECT row_no, row_number() OVER (PARTITION BY order_ref, position_id ORDER BY row_no) AS nth
                FROM ingest_movement WHERE kind = 'sale' AND order_ref IS NOT NULL AND flag IS NULL
            ) lines WHERE nth > 1
            UNION
            SELECT s.row_no FROM ingest_movement s
            JOIN (
                SELECT DISTINCT m.order_ref, m.position_id FROM inventory_movement m
                WHERE m.tenant_id = %s AND m.source = %s AND m.order_ref <> '' AND m.kind = 'sale'
                  AND m.order_ref = ANY(%s::text[])
            ) seen ON seen.order_ref = s.order_ref AND seen.position_id = s.position_id
            WHERE s.kind = 'sale' AND s.flag IS NULL
        )
        UPDATE ingest_movement s SET flag = 'repeated_order_line',
               flag_detail = jsonb_build_object('order_ref', s.order_ref)
        FROM repeats WHERE s.row_no = repeats.row_no
        """,
        [tenant.pk, source, order_refs],
    )
    # Spikes: a sale line above median + k x MAD of the position's clean daily sales over the
    # baseline window before the batch's first sale day (days with sales only; MAD at least 1).
    cursor.execute(
        """
        WITH firsts AS (
            SELECT position_id, min((occurred_at AT TIME ZONE 'UTC')::date) AS first_day
            FROM ingest_movement WHERE kind = 'sale' GROUP BY position_id
        ), history AS (
            SELECT f.position_id, f.units_sold::float8 AS units
            FROM inventory_dailyfact f JOIN firsts ON firsts.position_id = f.position_id
            WHERE f.tenant_id = %(tenant)s AND f.units_sold > 0
              -- The batch's positions as an array: the facts' unique index answers it, where the
              -- batch-wide hash join (nested loops are off here) would read every fact of the tenant.
              AND f.position_id = ANY(ARRAY(SELECT DISTINCT position_id FROM ingest_movement WHERE kind = 'sale'))
              AND f.day >= firsts.first_day - %(window)s AND f.day < firsts.first_day
        ), medians AS (
            SELECT position_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY units) AS median, count(*) AS days
            FROM history GROUP BY position_id
        ), baseline AS (
            SELECT m.position_id, m.median, m.days,
                   GREATEST(percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(h.units - m.median)), 1) AS mad
            FROM history h JOIN medians m ON m.position_id = h.position_id
            GROUP BY m.position_id, m.median, m.days
        )
        UPDATE ingest_movement s SET flag = 'spike', flag_detail = jsonb_build_object(
                'quantity', s.quantity, 'median', b.median, 'mad', b.mad, 'k', %(k)s,
                'threshold', b.median + %(k)s * b.mad, 'baseline_days', b.days)
        FROM baseline b
        WHERE s.position_id = b.position_id AND s.kind = 'sale' AND s.flag IS NULL
          AND b.days >= %(min_days)s AND s.quantity > b.median + %(k)s * b.mad
        """,
        {
            "tenant": tenant.pk,
            "window": settings.ANOMALY_BASELINE_DAYS,
            "k": settings.ANOMALY_SPIKE_K,
            "min_days": settings.ANOMALY_MIN_BASELINE_DAYS,
        },
    )
    cursor.execute("SELECT count(*) FROM ingest_movement WHERE flag IS NOT NULL")
    return cursor.fetchone()[0]


def _write(cursor, tenant: Tenant, source: str, batch_id: uuid.UUID, *, flagged: int) -> list[uuid.UUID]:  # noqa: ANN001
    """Write the staged lines everywhere they go; answer the ids of the anomalies flagged."""
    params = {"tenant": tenant.pk, "source": source, "batch": batch_id}
    insert = """
        INSERT INTO inventory_movement (tenant_id, position_id, kind, quantity, occurred_at, source,
                                        external_ref, order_ref, unit_price, promised_on, batch_id, created_at)
        SELECT %(tenant)s, position_id, kind, quantity, occurred_at, %(source)s, external_ref,
               COALESCE(order_ref, ''), unit_price, promised_on, %(batch)s, now()
        FROM ingest_movement ORDER BY row_no
    """
    anomaly_ids = []
    if flagged:
        # Flagged lines reach their new ledger rows through RETURNING, never by a lookup into the ledger.
        cursor.execute(
            f"""
            WITH inserted AS ({insert} RETURNING id, external_ref)
            INSERT INTO inventory_anomaly (id, tenant_id, movement_id, reason, detail, status, reviewed_by,
                                           created_at, updated_at)
            SELECT gen_random_uuid(), %(tenant)s, inserted.id, s.flag, s.flag_detail, 'flagged', '', now(), now()
            FROM inserted JOIN ingest_movement s ON s.external_ref = inserted.external_ref AND s.flag IS NOT NULL
            RETURNING id
            """,  # noqa: S608 - constants only
            params,
        )
        anomaly_ids = [anomaly_id for (anomaly_id,) in cursor.fetchall()]
    else:
        # Nothing flagged (the usual batch): no ledger row needs its id back, so none is returned.
        cursor.execute(insert, params)
    cursor.execute(
        f"""
        UPDATE inventory_position p
        SET on_hand = p.on_hand + d.delta, dirty_since = COALESCE(p.dirty_since, now()), updated_at = now()
        FROM (SELECT position_id, sum({_DELTA_SQL}) AS delta FROM ingest_movement GROUP BY position_id) d
        WHERE p.id = d.position_id AND p.tenant_id = %(tenant)s
        """,  # noqa: S608 - _DELTA_SQL is a constant
        params,
    )
    # Lots: every inbound line is a lot (expiry from the line, else from the SKU's shelf life);
    # outbound quantity is taken from lots first-expired-first-out.
    cursor.execute(
        f"""
        INSERT INTO inventory_lot (tenant_id, position_id, lot_code, quantity, received_on, expires_on, created_at)
        SELECT %(tenant)s, s.position_id, COALESCE(s.lot_code, ''), {_DELTA_SQL},
               (s.occurred_at AT TIME ZONE 'UTC')::date,
               COALESCE(s.expires_on, (s.occurred_at AT TIME ZONE 'UTC')::date + sku.shelf_life_days),
               now()
        FROM ingest_movement s
        JOIN inventory_position p ON p.id = s.position_id AND p.tenant_id = %(tenant)s
        JOIN inventory_sku sku ON sku.id = p.sku_id
        WHERE {_DELTA_SQL} > 0
        ORDER BY s.row_no
        """,  # noqa: S608
        params,
    )
    cursor.execute(
        f"""
        WITH need AS (
            SELECT position_id, -sum({_DELTA_SQL}) AS quantity FROM ingest_movement
            WHERE {_DELTA_SQL} < 0 GROUP BY position_id
        ), ranked AS (
            SELECT l.id, l.quantity, need.quantity AS needed,
                   sum(l.quantity) OVER (
                       PARTITION BY l.position_id ORDER BY l.expires_on NULLS LAST, l.received_on, l.id
                   ) - l.quantity AS before
            FROM inventory_lot l JOIN need ON need.position_id = l.position_id
            WHERE l.quantity > 0 AND l.tenant_id = %(tenant)s
        )
        UPDATE inventory_lot l SET quantity = l.quantity - LEAST(ranked.quantity, ranked.needed - ranked.before)
        FROM ranked WHERE l.id = ranked.id AND ranked.before < ranked.needed AND l.tenant_id = %(tenant)s
        """,  # noqa: S608
        params,
    )
    cursor.execute(
        "DELETE FROM inventory_lot WHERE tenant_id = %(tenant)s AND quantity = 0 "
        "AND position_id IN (SELECT position_id FROM ingest_movement)",
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO inventory_dailyfact (tenant_id, position_id, day, units_sold, revenue, units_returned,
                                         units_received, units_flagged, net_change, receipts_promised,
                                         receipt_delay_days, receipt_delay_days_sq)
        SELECT %(tenant)s, s.position_id, (s.occurred_at AT TIME ZONE 'UTC')::date,
               COALESCE(sum(s.quantity) FILTER (WHERE s.kind = 'sale' AND s.flag IS NULL), 0),
               COALESCE(sum(s.quantity * COALESCE(s.unit_price, sku.list_price))
                        FILTER (WHERE s.kind = 'sale' AND s.flag IS NULL), 0),
               COALESCE(sum(s.quantity) FILTER (WHERE s.kind = 'return'), 0),
               COALESCE(sum(s.quantity) FILTER (WHERE s.kind IN ('receipt', 'transfer_in')), 0),
               COALESCE(sum(s.quantity) FILTER (WHERE s.kind = 'sale' AND s.flag IS NOT NULL), 0),
               sum({_DELTA_SQL}),
               {_RECEIPT_DELAY_SQL}
        FROM ingest_movement s
        JOIN inventory_position p ON p.id = s.position_id AND p.tenant_id = %(tenant)s
        JOIN inventory_sku sku ON sku.id = p.sku_id
        GROUP BY s.position_id, (s.occurred_at AT TIME ZONE 'UTC')::date
        ON CONFLICT (tenant_id, position_id, day) DO UPDATE SET
            units_sold = inventory_dailyfact.units_sold + EXCLUDED.units_sold,
            revenue = inventory_dailyfact.revenue + EXCLUDED.revenue,
            units_returned = inventory_dailyfact.units_returned + EXCLUDED.units_returned,
            units_received = inventory_dailyfact.units_received + EXCLUDED.units_received,
            units_flagged = inventory_dailyfact.units_flagged + EXCLUDED.units_flagged,
            net_change = inventory_dailyfact.net_change + EXCLUDED.net_change,
            receipts_promised = inventory_dailyfact.receipts_promised + EXCLUDED.receipts_promised,
            receipt_delay_days = inventory_dailyfact.receipt_delay_days + EXCLUDED.receipt_delay_days,
            receipt_delay_days_sq = inventory_dailyfact.receipt_delay_days_sq + EXCLUDED.receipt_delay_days_sq
        """,  # noqa: S608 - constants only
        params,
    )
    return anomaly_ids
