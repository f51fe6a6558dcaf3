"""Pushing batches through the bulk endpoints as a partner system does, and the one-SKU shop built so."""

import itertools
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

TODAY = timezone.now().date()


def ts(days_ago: int, hour: int = 12) -> str:
    return f"{TODAY - timedelta(days=days_ago)}T{hour:02d}:00:00Z"


def push_rows(caller, tenant_slug: str, what: str, rows, key: str | None = None, *, fmt: str = "json"):
    """POST a batch to a bulk endpoint as a partner system would: JSON, NDJSON or CSV (``rows`` a str)."""
    if fmt == "json":
        body, content_type = json.dumps(rows), "application/json"
    elif fmt == "ndjson":
        body, content_type = "\n".join(json.dumps(row) for row in rows) + "\n", "application/x-ndjson"
    else:
        body, content_type = rows, "text/csv"
    return caller.client.generic(
        "POST",
        f"/api/v1/tenants/{tenant_slug}/ingest/{what}/",
        data=body,
        content_type=content_type,
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


_line_refs = itertools.count(1)


def ledger_line(kind: str, sku: str, quantity: int, days_ago: int, *, warehouse: str = "WH-1") -> dict:
    """One movement line of ``days_ago`` days ago (at noon UTC), with a reference of its own."""
    return {
        "kind": kind,
        "sku": sku,
        "warehouse": warehouse,
        "quantity": quantity,
        "occurred_at": ts(days_ago),
        "external_ref": f"line-{next(_line_refs)}",
    }


def push_accepted(caller, tenant_slug: str, what: str, rows: list[dict], *, batch: int = 500) -> None:
    """Push ``rows`` in batches of ``batch`` lines, in order; each batch must be accepted (201)."""
    for k in range(0, len(rows), batch):
        response = push_rows(caller, tenant_slug, what, rows[k : k + batch])
        assert response.status_code == 201, response.content


@pytest.fixture
def shop(world):
    """One category, warehouse and SKU (list price 2.00) in the caller's tenant."""
    slug = world.tenant.slug
    push_rows(world.admin, slug, "categories", [{"code": "C", "name": "C"}])
    push_rows(world.admin, slug, "warehouses", [{"code": "W", "name": "W", "region": "r", "kind": "store"}])
    push_rows(
        world.admin, slug, "skus", [{"code": "S", "name": "S", "category": "C", "unit_cost": "1", "list_price": "2"}]
    )
    return world
