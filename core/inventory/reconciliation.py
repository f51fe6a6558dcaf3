"""Re-deriving positions and daily facts from the ledger, to prove (or repair) what ingestion keeps.

The ledger is the truth; positions and daily facts are kept incrementally as lines arrive. This
recomputes both from the ledger alone, set-based, and lists every difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction

from core.inventory.models import receipt_delay_sums_sql, signed_quantity_sql
from tenants.models import Tenant

_DELTA = signed_quantity_sql("m")

# A sale counts in the facts unless it carries a flag that was not dismissed.
_EXPECTED_FACTS = f"""
    SELECT m.position_id, (m.occurred_at AT TIME ZONE 'UTC')::date AS day,
           COALESCE(sum(m.quantity) FILTER (WHERE m.kind = 'sale' AND a.clean), 0) AS units_sold,
           COALESCE(sum(m.quantity * COALESCE(m.unit_price, sku.list_price))
                    FILTER (WHERE m.kind = 'sale' AND a.clean), 0) AS revenue,
           COALESCE(sum(m.quantity) FILTER (WHERE m.kind = 'return'), 0) AS units_returned,
           COALESCE(sum(m.quantity) FILTER (WHERE m.kind IN ('receipt', 'transfer_in')), 0) AS units_received,
           COALESCE(sum(m.quantity) FILTER (WHERE m.kind = 'sale' AND NOT a.clean), 0) AS units_flagged,
           sum({_DELTA}) AS net_change,
           {receipt_delay_sums_sql("m")}
    FROM inventory_movement m
    JOIN inventory_position p ON p.id = m.position_id
    JOIN inventory_sku sku ON sku.id = p.sku_id
    CROSS JOIN LATERAL (
        SELECT NOT EXISTS (SELECT 1 FROM inventory_anomaly an
                           WHERE an.movement_id = m.id AND an.status <> 'dismissed') AS clean
    ) a
    WHERE m.tenant_id = %(tenant)s
    GROUP BY m.position_id, (m.occurred_at AT TIME ZONE 'UTC')::date
"""  # noqa: S608 - constants only

_FACT_COLUMNS = [
    "units_sold",
    "revenue",
    "units_returned",
    "units_received",
    "units_flagged",
    "net_change",
    "receipts_promised",
    "receipt_delay_days",
    "receipt_delay_days_sq",
]


@dataclass
class Reconciliation:
    tenant: str
    positions_checked: int = 0
    facts_checked: int = 0
    position_differences: list[dict] = field(default_factory=list)
    fact_differences: list[dict] = field(default_factory=list)
    repaired: bool = False

    @property
    def clean(self) -> bool:
        return not self.position_differences and not self.fact_differences


def ledger_reconcile(*, tenant: Tenant, repair: bool = False) -> Reconciliation:
    """Compare positions and daily facts with the ledger; with ``repair``, rewrite them from it."""
    report = Reconciliation(tenant=tenant.slug)
    params = {"tenant": tenant.pk}
    with transaction.atomic(), connection.cursor() as cursor:
        if repair:
            # Hold off ingestion of this tenant while the derived tables are rewritten.
            cursor.execute(
                "SELECT id FROM inventory_position WHERE tenant_id = %s ORDER BY id FOR NO KEY UPDATE", [tenant.pk]
            )
        cursor.execute(
            f"""
            SELECT p.id, p.on_hand, COALESCE(l.on_hand, 0)
            FROM inventory_position p
            LEFT JOIN (SELECT m.position_id, sum({_DELTA}) AS on_hand FROM inventory_movement m
                       WHERE m.tenant_id = %(tenant)s GROUP BY m.position_id) l ON l.position_id = p.id
            WHERE p.tenant_id = %(tenant)s
            """,  # noqa: S608
            params,
        )
        rows = cursor.fetchall()
        report.positions_checked = len(rows)
        report.position_differences = [
            {"position_id": pid, "on_hand": kept, "ledger": derived} for pid, kept, derived in rows if kept != derived
        ]
        columns = ", ".join(f"e.{c} AS expected_{c}, f.{c} AS kept_{c}" for c in _FACT_COLUMNS)
        cursor.execute(
            f"""
            WITH e AS ({_EXPECTED_FACTS}),
                 f AS (SELECT * FROM inventory_dailyfact WHERE tenant_id = %(tenant)s)
            SELECT COALESCE(e.position_id, f.position_id), COALESCE(e.day, f.day), {columns},
                   count(*) OVER () AS checked
            FROM e FULL JOIN f ON f.position_id = e.position_id AND f.day = e.day
            """,  # noqa: S608
            params,
        )
        for row in cursor.fetchall():
            report.facts_checked = row[-1]
            values = row[2:-1]
            expected, kept = values[0::2], values[1::2]
            if any(a != b for a, b in zip(expected, kept, strict=True)):
                report.fact_differences.append(
                    {
                        "position_id": row[0],
                        "day": str(row[1]),
                        "ledger": dict(zip(_FACT_COLUMNS, map(str, expected), strict=True)),
                        "kept": dict(zip(_FACT_COLUMNS, map(str, kept), strict=True)),
                    }
                )
        if repair and not report.clean:
            _repair(cursor, params)
            report.repaired = True
    return report


def _repair(cursor, params: dict) -> None:  # noqa: ANN001
    cursor.execute(
        f"""
        UPDATE inventory_position p SET on_hand = COALESCE(l.on_hand, 0), dirty_since = COALESCE(p.dirty_since, now())
        FROM inventory_position p2
        LEFT JOIN (SELECT m.position_id, sum({_DELTA}) AS on_hand FROM inventory_movement m
                   WHERE m.tenant_id = %(tenant)s GROUP BY m.position_id) l ON l.position_id = p2.id
        WHERE p.id = p2.id AND p.tenant_id = %(tenant)s AND p.on_hand IS DISTINCT FROM COALESCE(l.on_hand, 0)
        """,  # noqa: S608
        params,
    )
    cursor.execute("DELETE FROM inventory_dailyfact WHERE tenant_id = %(tenant)s", params)
    cursor.execute(
        f"""
        INSERT INTO inventory_dailyfact (tenant_id, position_id, day, {", ".join(_FACT_COLUMNS)})
        SELECT %(tenant)s, position_id, day, {", ".join(_FACT_COLUMNS)} FROM ({_EXPECTED_FACTS}) e
        """,  # noqa: S608
        params,
    )
