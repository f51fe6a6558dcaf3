"""Bulk upsert of master data by code: categories, warehouses, SKUs.

Same path as the ledger: rows parsed column-wise at the edge, COPY into a temporary table, one
``INSERT ... ON CONFLICT (tenant_id, code) DO UPDATE`` per batch. A refused batch writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from core.bulk_copy import copy_rows, staging_table_create
from core.inventory import bulk_rows as br
from core.inventory.idempotency import idempotency_complete
from core.inventory.ingestion import BatchRejected
from core.inventory.models import (
    Category,
    IdempotencyRecord,
    IndustryProfile,
    SkuStatus,
    VelocityClass,
    WarehouseKind,
)
from core.retries import atomic_retried
from tenants.models import Tenant


@dataclass(frozen=True)
class MasterSpec:
    endpoint: str
    table: str
    columns: list[br.Column]
    sql_types: dict[str, str]  # staging column -> SQL type, in COPY order
    insert_defaults: dict[str, str] = field(default_factory=dict)  # column -> SQL literal for new rows


CATEGORIES = MasterSpec(
    endpoint="categories",
    table="inventory_category",
    columns=[
        br.Column("code", br.text(64)),
        br.Column("name", br.text(200)),
        br.Column("profile", br.choice(IndustryProfile.values), required=False),
    ],
    sql_types={"code": "text", "name": "text", "profile": "text"},
    insert_defaults={"profile": f"'{IndustryProfile.GENERAL}'"},
)
WAREHOUSES = MasterSpec(
    endpoint="warehouses",
    table="inventory_warehouse",
    columns=[
        br.Column("code", br.text(64)),
        br.Column("name", br.text(200)),
        br.Column("region", br.text(100)),
        br.Column("kind", br.choice(WarehouseKind.values)),
        br.Column("latitude", br.between(br.decimal(9, 6), -90, 90), required=False),
        br.Column("longitude", br.between(br.decimal(9, 6), -180, 180), required=False),
        br.Column("is_active", br.boolean, required=False),
    ],
    sql_types={
        "code": "text",
        "name": "text",
        "region": "text",
        "kind": "text",
        "latitude": "numeric(9, 6)",
        "longitude": "numeric(9, 6)",
        "is_active": "boolean",
    },
    insert_defaults={"is_active": "true"},
)
SKUS = MasterSpec(
    endpoint="skus",
    table="inventory_sku",
    columns=[
        br.Column("code", br.text(64)),
        br.Column("name", br.text(200)),
        br.Column("category", br.text(64)),
        br.Column("velocity_class", br.choice(VelocityClass.values), required=False),
        br.Column("launch_date", br.iso_date, required=False),
        br.Column("shelf_life_days", br.between(br.integer, 1, 36500), required=False),
        br.Column("unit_cost", br.non_negative(br.decimal(12, 4))),
        br.Column("list_price", br.non_negative(br.decimal(12, 4))),
        br.Column("status", br.choice(SkuStatus.values), required=False),
    ],
    sql_types={
        "code": "text",
        "name": "text",
        "category_id": "uuid",
        "velocity_class": "text",
        "launch_date": "date",
        "shelf_life_days": "integer",
        "unit_cost": "numeric(12, 4)",
        "list_price": "numeric(12, 4)",
        "status": "text",
    },
    insert_defaults={"velocity_class": f"'{VelocityClass.LONG_TAIL}'", "status": f"'{SkuStatus.ACTIVE}'"},
)
SPECS = {spec.endpoint: spec for spec in (CATEGORIES, WAREHOUSES, SKUS)}


def master_rows_parse(spec: MasterSpec, rows: list[dict]) -> tuple[dict[str, list], br.RowErrors]:
    errors = br.RowErrors()
    columns = br.parse_columns(rows, spec.columns, errors)
    first_seen: dict[str, int] = {}
    for index, code in enumerate(columns["code"]):
        if code is None:
            continue
        if code in first_seen:
            errors.add(
                index + 1, "code", f"Code {code!r} appears twice in this batch (first in row {first_seen[code]})."
            )
        else:
            first_seen[code] = index + 1
    return columns, errors


@atomic_retried
def master_ingest(
    *, tenant: Tenant, spec: MasterSpec, columns: dict[str, list], idempotency_record: IdempotencyRecord | None = None
) -> dict:
    """Upsert a parsed batch by code; answer how many rows were created and updated."""
    if spec is SKUS:
        columns = dict(columns)
        errors = br.RowErrors()
        codes = set(columns["category"]) - {None}
        known = dict(Category.objects.filter(tenant=tenant, code__in=codes).values_list("code", "id"))
        columns["category_id"] = []
        for index, code in enumerate(columns["category"]):
            if code not in known:
                errors.add(index + 1, "category", f"Unknown category code {code!r} in this tenant.")
            columns["category_id"].append(known.get(code))
        if errors:
            raise BatchRejected(errors)
    names = list(spec.sql_types)
    with connection.cursor() as cursor:
        staging = f"ingest_{spec.endpoint}"
        staging_table_create(cursor, staging, spec.sql_types)
        copy_rows(cursor, staging, names, zip(*(columns[name] for name in names), strict=True))
        # A field a row leaves out keeps its stored value; defaults apply to new rows only. So an
        # ERP that sends only names and prices never resets a status or a shelf life.
        updates = ", ".join(f"{name} = COALESCE(s.{name}, t.{name})" for name in names if name != "code")
        cursor.execute(
            f"""
            UPDATE {spec.table} t SET {updates}, updated_at = now()
            FROM {staging} s WHERE t.tenant_id = %s AND t.code = s.code
            """,  # noqa: S608 - identifiers come from the constant specs above
            [tenant.pk],
        )
        updated = cursor.rowcount
        values = ", ".join(
            f"COALESCE(s.{name}, {spec.insert_defaults[name]})" if name in spec.insert_defaults else f"s.{name}"
            for name in names
        )
        cursor.execute(
            f"""
            INSERT INTO {spec.table} (id, tenant_id, created_at, updated_at, {", ".join(names)})
            SELECT gen_random_uuid(), %s, now(), now(), {values} FROM {staging} s
            WHERE NOT EXISTS (SELECT 1 FROM {spec.table} t WHERE t.tenant_id = %s AND t.code = s.code)
            ON CONFLICT (tenant_id, code) DO NOTHING
            """,  # noqa: S608
            [tenant.pk, tenant.pk],
        )
        created = cursor.rowcount
        result = {"rows": created + updated, "created": created, "updated": updated}
        if idempotency_record is not None:
            idempotency_complete(record=idempotency_record, status=201, body=result)
    return result
