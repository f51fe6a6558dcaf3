"""Bulk market signals per SKU and day: competitor price, social volume, supplier lead-time index.

The path of every bulk push: rows parsed column-wise, COPY into a staging table, one upsert. A
row may carry any of the three signals; what it leaves out keeps its stored value, so separate
feeds (a price scraper, a social listening tool) can push the same day independently.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q

from core.alerts.triggers import positions_mark_dirty
from core.bulk_copy import copy_rows, staging_table_create
from core.inventory import bulk_rows as br
from core.inventory.idempotency import idempotency_complete
from core.inventory.ingestion import BatchRejected
from core.inventory.models import IdempotencyRecord, Sku
from core.retries import atomic_retried
from tenants.models import Tenant

SIGNALS = ("competitor_price", "social_volume", "supplier_lead_time_index")
SIGNAL_COLUMNS = [
    br.Column("sku", br.text(64)),
    br.Column("day", br.iso_date),
    br.Column("competitor_price", br.non_negative(br.decimal(12, 4)), required=False),
    br.Column("social_volume", br.between(br.integer, 0, br.MAX_QUANTITY), required=False),
    br.Column("supplier_lead_time_index", br.between(br.decimal(8, 4), 0.0001, 1000), required=False),
]


def signal_rows_parse(rows: list[dict]) -> tuple[dict[str, list], br.RowErrors]:
    errors = br.RowErrors()
    columns = br.parse_columns(rows, SIGNAL_COLUMNS, errors)
    seen: dict[tuple, int] = {}
    for index, row in enumerate(rows):
        # A row that is no object was named by parse_columns already.
        if isinstance(row, dict) and not any(name in row for name in SIGNALS):
            errors.add(index + 1, "", f"Carries no signal; give at least one of {', '.join(SIGNALS)}.")
        key = (columns["sku"][index], columns["day"][index])
        if None not in key:
            if key in seen:
                errors.add(index + 1, "day", f"The same SKU and day as row {seen[key]}.")
            seen.setdefault(key, index + 1)
    return columns, errors


@atomic_retried
def signals_ingest(
    *, tenant: Tenant, columns: dict[str, list], idempotency_record: IdempotencyRecord | None = None
) -> dict:
    """Upsert a parsed batch, all or nothing; the SKUs' positions are evaluated again after commit."""
    codes = set(columns["sku"])
    skus = dict(Sku.objects.filter(tenant=tenant, code__in=codes).values_list("code", "id"))
    if len(skus) < len(codes):
        errors = br.RowErrors()
        for index, code in enumerate(columns["sku"]):
            if code not in skus:
                errors.add(index + 1, "sku", f"Unknown SKU code {code!r} in this tenant.")
        raise BatchRejected(errors)
    with connection.cursor() as cursor:
        staging_table_create(
            cursor,
            "ingest_signal",
            {
                "sku_id": "uuid NOT NULL",
                "day": "date NOT NULL",
                "competitor_price": "numeric(12, 4)",
                "social_volume": "bigint",
                "supplier_lead_time_index": "numeric(8, 4)",
            },
        )
        copy_rows(
            cursor,
            "ingest_signal",
            ["sku_id", "day", *SIGNALS],
            zip([skus[code] for code in columns["sku"]], columns["day"], *(columns[n] for n in SIGNALS), strict=True),
        )
        cursor.execute(
            """
            INSERT INTO alerts_signal (tenant_id, sku_id, day, competitor_price, social_volume,
                                       supplier_lead_time_index, updated_at)
            SELECT %s, sku_id, day, competitor_price, social_volume, supplier_lead_time_index, now()
            FROM ingest_signal
            ON CONFLICT (tenant_id, sku_id, day) DO UPDATE SET
                competitor_price = COALESCE(EXCLUDED.competitor_price, alerts_signal.competitor_price),
                social_volume = COALESCE(EXCLUDED.social_volume, alerts_signal.social_volume),
                supplier_lead_time_index = COALESCE(EXCLUDED.supplier_lead_time_index,
                                                    alerts_signal.supplier_lead_time_index),
                updated_at = now()
            RETURNING (xmax = 0) AS inserted
            """,
            [tenant.pk],
        )
        flags = [row[0] for row in cursor.fetchall()]
        positions_mark_dirty(tenant=tenant, where=Q(sku_id__in=set(skus.values())))
        result = {"rows": len(flags), "created": sum(flags), "updated": len(flags) - sum(flags), "skus": len(skus)}
        if idempotency_record is not None:
            idempotency_complete(record=idempotency_record, status=201, body=result)
    return result
