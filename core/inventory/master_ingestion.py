"""Bulk upsert of master data by code: categories, warehouses, SKUs.

Same path as the ledger: rows parsed column-wise at the edge, COPY into a temporary table, one
``INSERT ... ON CONFLICT (tenant_id, code) DO UPDATE`` per batch. A refused batch writes nothing.

SKUs name their category and their successor by code. A successor may be a SKU of the same batch;
successors are linked after the rows are in, and a batch that would close a cycle of successors is
refused whole. Rows whose forecast-relevant fields changed (``master_services.SKU_FORECAST_FIELDS``,
``CATEGORY_FORECAST_FIELDS``) mark their positions as changed, as the single-row services do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection

from core.bulk_copy import copy_rows, staging_table_create
from core.inventory import bulk_rows as br
from core.inventory.idempotency import idempotency_complete
from core.inventory.ingestion import BatchRejected
from core.inventory.master_services import (
    CATEGORY_FORECAST_FIELDS,
    SKU_FORECAST_FIELDS,
    positions_mark_changed,
)
from core.inventory.models import (
    Category,
    IdempotencyRecord,
    IndustryProfile,
    Sku,
    SkuStatus,
    VelocityClass,
    WarehouseKind,
    seasonal_coefficients_problem,
)
from core.retries import atomic_retried
from tenants.models import Tenant


def _coefficients(value: object) -> list[float]:
    """12 monthly coefficients: a JSON list of numbers, or (CSV) one text of numbers separated by
    semicolons, commas or spaces."""
    if isinstance(value, str):
        parts = [part for part in re.split(r"[;,\s]+", value.strip()) if part]
        try:
            numbers: list = [float(part) for part in parts]
        except ValueError:
            raise br.CellError("Expected 12 numbers separated by semicolons, e.g. 1.2;1.1;...;1.3.") from None
    elif isinstance(value, list):
        numbers = value
    else:
        raise br.CellError("Expected a list of 12 numbers (January first).")
    if (problem := seasonal_coefficients_problem(numbers)) is not None:
        raise br.CellError(problem)
    return [float(number) for number in numbers]


@dataclass(frozen=True)
class MasterSpec:
    endpoint: str
    table: str
    columns: list[br.Column]
    sql_types: dict[str, str]  # staging column -> SQL type, in COPY order
    insert_defaults: dict[str, str] = field(default_factory=dict)  # column -> SQL literal for new rows
    staged_only: frozenset[str] = frozenset()  # staged, but written by a later statement of their own
    forecast_columns: tuple[str, ...] = ()  # table columns a position's forecast reads


CATEGORIES = MasterSpec(
    endpoint="categories",
    table="inventory_category",
    columns=[
        br.Column("code", br.text(64)),
        br.Column("name", br.text(200)),
        br.Column("profile", br.choice(IndustryProfile.values), required=False),
        br.Column("seasonal_coefficients", _coefficients, required=False),
    ],
    sql_types={"code": "text", "name": "text", "profile": "text", "seasonal_coefficients": "double precision[]"},
    insert_defaults={"profile": f"'{IndustryProfile.GENERAL}'"},
    forecast_columns=CATEGORY_FORECAST_FIELDS,
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
        br.Column("end_of_life_on", br.iso_date, required=False),
        br.Column("successor", br.text(64), required=False),
        br.Column("season_ends_on", br.iso_date, required=False),
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
        "end_of_life_on": "date",
        "season_ends_on": "date",
        "successor": "text",
    },
    insert_defaults={"velocity_class": f"'{VelocityClass.LONG_TAIL}'", "status": f"'{SkuStatus.ACTIVE}'"},
    staged_only=frozenset({"successor"}),
    forecast_columns=tuple(Sku._meta.get_field(name).column for name in SKU_FORECAST_FIELDS),
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
    for index, (code, successor) in enumerate(zip(columns["code"], columns.get("successor", ()), strict=False)):
        if successor is not None and successor == code:
            errors.add(index + 1, "successor", "A SKU cannot be its own successor.")
    return columns, errors


def _array_literal(values: list[float] | None) -> str | None:
    return None if values is None else "{" + ",".join(repr(value) for value in values) + "}"


def _successors_resolve(tenant: Tenant, columns: dict[str, list]) -> br.RowErrors:
    """Every successor code names a SKU of the tenant or of this batch."""
    errors = br.RowErrors()
    named = set(columns["successor"]) - {None}
    if not named:
        return errors
    known = set(columns["code"]) | set(Sku.objects.filter(tenant=tenant, code__in=named).values_list("code", flat=True))
    for index, code in enumerate(columns["successor"]):
        if code is not None and code not in known:
            errors.add(index + 1, "successor", f"Unknown SKU code {code!r} in this tenant or this batch.")
    return errors


def _successor_cycles(cursor, tenant: Tenant, staging: str, codes: list) -> br.RowErrors:  # noqa: ANN001
    """Rows of the batch whose successors, once linked, lead back to them."""
    cursor.execute(
        f"""
        WITH RECURSIVE chain(start_id, id) AS (
            SELECT t.id, t.successor_id FROM inventory_sku t JOIN {staging} s ON s.code = t.code
            WHERE t.tenant_id = %s AND t.successor_id IS NOT NULL
            UNION
            SELECT c.start_id, k.successor_id FROM chain c JOIN inventory_sku k ON k.id = c.id
            WHERE k.successor_id IS NOT NULL
        )
        SELECT t.code FROM chain c JOIN inventory_sku t ON t.id = c.start_id WHERE c.id = c.start_id
        """,  # noqa: S608 - the staging table's name is a constant
        [tenant.pk],
    )
    looping = {row[0] for row in cursor.fetchall()}
    errors = br.RowErrors()
    for index, code in enumerate(codes):
        if code in looping:
            errors.add(index + 1, "successor", "Successors would go round in a cycle back to this SKU.")
    return errors


def _forecast_relevant_changes(cursor, tenant: Tenant, spec: MasterSpec, staging: str) -> list:  # noqa: ANN001
    """Ids of stored rows the batch will change in a column a position's forecast reads (read
    before the update; new rows have no positions yet)."""
    if not spec.forecast_columns:
        return []
    differs = " OR ".join(f"COALESCE(s.{c}, t.{c}) IS DISTINCT FROM t.{c}" for c in spec.forecast_columns)
    cursor.execute(
        f"SELECT t.id FROM {spec.table} t JOIN {staging} s ON s.code = t.code WHERE t.tenant_id = %s AND ({differs})",  # noqa: S608
        [tenant.pk],
    )
    return [row[0] for row in cursor.fetchall()]


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
        for item in _successors_resolve(tenant, columns).items:
            errors.add(item["row"], item["field"], item["message"])
        if errors:
            raise BatchRejected(errors)
    staged = list(spec.sql_types)
    names = [name for name in staged if name not in spec.staged_only]
    arrays = {name for name, sql_type in spec.sql_types.items() if sql_type.endswith("[]")}
    cells = [[_array_literal(v) for v in columns[name]] if name in arrays else columns[name] for name in staged]
    with connection.cursor() as cursor:
        staging = f"ingest_{spec.endpoint}"
        staging_table_create(cursor, staging, spec.sql_types)
        copy_rows(cursor, staging, staged, zip(*cells, strict=True))
        changed = _forecast_relevant_changes(cursor, tenant, spec, staging)
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
        if spec is SKUS:
            cursor.execute(
                f"""
                UPDATE inventory_sku t SET successor_id = n.id, updated_at = now()
                FROM {staging} s JOIN inventory_sku n ON n.tenant_id = %s AND n.code = s.successor
                WHERE t.tenant_id = %s AND t.code = s.code AND t.successor_id IS DISTINCT FROM n.id
                """,  # noqa: S608 - the staging table's name is a constant
                [tenant.pk, tenant.pk],
            )
            if cycles := _successor_cycles(cursor, tenant, staging, columns["code"]):
                raise BatchRejected(cycles)  # the transaction rolls back every row of the batch
        if changed:
            key = "sku_ids" if spec is SKUS else "category_ids"
            positions_mark_changed(tenant_id=tenant.pk, **{key: changed})
        result = {"rows": created + updated, "created": created, "updated": updated}
        if idempotency_record is not None:
            idempotency_complete(record=idempotency_record, status=201, body=result)
    return result
