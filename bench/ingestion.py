"""Ingestion benchmark: HTTP bulk pushes vs raw COPY (the floor) vs the naive per-row way.

All three write the same kind of lines into the same tables of the configured database, in one
run: the HTTP case pushes N lines in requests of 100,000 to gunicorn as deployed; the floor
COPYs the same lines straight into the ledger table (no validation, no positions, lots or facts);
the naive way runs one DRF serializer and one INSERT (plus the position update) per line, on a
sample, since at its speed the whole set would take too long.
"""

from __future__ import annotations

import json
import time
import uuid

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import serializers

from bench.harness import Case, gunicorn_server, http_post, progress
from core.bulk_copy import copy_rows
from core.inventory.master_ingestion import SPECS, master_ingest, master_rows_parse
from core.inventory.models import Movement, Position, Sku, Warehouse
from tenants import services
from tenants.models import PartnerKind

SKUS, WAREHOUSES = 1000, 10
REQUEST_ROWS = 100_000


def _master(tenant) -> None:  # noqa: ANN001
    for name, rows in (
        ("categories", [{"code": "C", "name": "Bench"}]),
        ("warehouses", [{"code": f"W{i}", "name": f"W{i}", "region": "r", "kind": "store"} for i in range(WAREHOUSES)]),
        (
            "skus",
            [
                {"code": f"S{i}", "name": f"S{i}", "category": "C", "unit_cost": "1", "list_price": "2"}
                for i in range(SKUS)
            ],
        ),
    ):
        columns, errors = master_rows_parse(SPECS[name], rows)
        assert not errors
        master_ingest(tenant=tenant, spec=SPECS[name], columns=columns)


def _lines(tag: str, start: int, count: int, kind: str) -> list[dict]:
    """Receipts fill every position first; sales then take one unit at a time, never below zero."""
    rows = []
    for i in range(start, start + count):
        row = {
            "kind": kind,
            "sku": f"S{i % SKUS}",
            "warehouse": f"W{(i // SKUS) % WAREHOUSES}",
            "quantity": 1000 if kind == "receipt" else 1,
            "occurred_at": f"2026-10-{(i % 28) + 1:02d}T{(i % 24):02d}:00:00Z",
            "external_ref": f"{tag}-{i}",
        }
        if kind == "sale":
            row["unit_price"] = "2.50"
            row["order_ref"] = f"{tag}-o{i}"
        rows.append(row)
    return rows


def _raw_copy(tenant, rows: list[dict]) -> float:  # noqa: ANN001
    """The floor: the same lines COPYed into the ledger table as they are, nothing derived."""
    positions = {
        (sku, wh): pk
        for pk, sku, wh in Position.objects.filter(tenant=tenant).values_list("id", "sku__code", "warehouse__code")
    }
    now = timezone.now().isoformat()
    lines = (
        (
            tenant.pk,
            positions[(row["sku"], row["warehouse"])],
            row["kind"],
            row["quantity"],
            row["occurred_at"],
            "bench-copy",
            row["external_ref"],
            row.get("order_ref", ""),
            row.get("unit_price"),
            now,
        )
        for row in rows
    )
    columns = [
        "tenant_id",
        "position_id",
        "kind",
        "quantity",
        "occurred_at",
        "source",
        "external_ref",
        "order_ref",
        "unit_price",
        "created_at",
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        copy_rows(cursor, "inventory_movement", columns, lines)
    return time.perf_counter() - started


class NaiveMovementSerializer(serializers.Serializer):
    """What a first version would do: one serializer per line, lookups and writes per line."""

    kind = serializers.CharField()
    sku = serializers.CharField()
    warehouse = serializers.CharField()
    quantity = serializers.IntegerField(min_value=1)
    occurred_at = serializers.DateTimeField()
    external_ref = serializers.CharField()
    order_ref = serializers.CharField(required=False, default="")
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4, required=False)


def _naive(tenant, rows: list[dict]) -> float:  # noqa: ANN001
    started = time.perf_counter()
    with transaction.atomic():
        for row in rows:
            data = NaiveMovementSerializer(data=row)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            sku = Sku.objects.get(tenant=tenant, code=values["sku"])
            warehouse = Warehouse.objects.get(tenant=tenant, code=values["warehouse"])
            position, _ = Position.objects.get_or_create(tenant=tenant, sku=sku, warehouse=warehouse)
            Movement.objects.create(
                tenant=tenant,
                position=position,
                kind=values["kind"],
                quantity=values["quantity"],
                occurred_at=values["occurred_at"],
                source="bench-naive",
                external_ref=values["external_ref"],
                order_ref=values["order_ref"],
                unit_price=values.get("unit_price"),
            )
            Position.objects.filter(pk=position.pk).update(on_hand=F("on_hand") - values["quantity"])
    return time.perf_counter() - started


def run(case: Case) -> dict:
    lines = case.scale.ingestion_lines
    tenant = services.tenant_create(slug=f"bench-ingest-{uuid.uuid4().hex[:8]}", name="Bench ingestion")
    erp = services.partner_create(tenant=tenant, kind=PartnerKind.ERP, name="Bench ERP")
    _, key = services.api_key_create(tenant=tenant, partner=erp, name="bench")
    _master(tenant)
    requests = max(1, lines // REQUEST_ROWS)
    bodies = []
    for index in progress(range(requests), "ingestion: preparing bodies"):
        kind = "receipt" if index == 0 else "sale"
        bodies.append(json.dumps(_lines("http", index * REQUEST_ROWS, REQUEST_ROWS, kind)).encode())
    url_path = f"/api/v1/tenants/{tenant.slug}/ingest/movements/"
    with gunicorn_server() as base_url:
        started = time.perf_counter()
        for body in progress(bodies, "ingestion: HTTP pushes of 100,000 lines"):
            status, answer = http_post(
                base_url + url_path,
                body,
                {
                    "Authorization": f"Bearer {key}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            )
            if status != 201:
                raise RuntimeError(f"push answered {status}: {answer[:500]!r}")
        http_seconds = time.perf_counter() - started
    floor_rows = _lines("copy", 0, requests * REQUEST_ROWS, "sale")
    copy_seconds = _raw_copy(tenant, floor_rows)
    naive_rows = _lines("naive", 0, case.scale.naive_lines, "sale")
    naive_seconds = _naive(tenant, naive_rows)
    total = requests * REQUEST_ROWS
    http_rate, copy_rate = total / http_seconds, total / copy_seconds
    naive_rate = len(naive_rows) / naive_seconds
    return {
        "lines": total,
        "request_lines": REQUEST_ROWS,
        "http_lines_per_second": round(http_rate),
        "http_seconds": round(http_seconds, 2),
        "raw_copy_lines_per_second": round(copy_rate),
        "naive_lines_per_second": round(naive_rate),
        "naive_sample_lines": len(naive_rows),
        "ratio_http_to_raw_copy": round(http_rate / copy_rate, 3),
        "ratio_http_to_naive": round(http_rate / naive_rate, 1),
    }
