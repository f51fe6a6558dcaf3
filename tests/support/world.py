"""Two tenant worlds for the whole suite, and the callers a test acts as.

Every test that touches tenancy gets two tenants: ``world`` (the caller's) and ``other_world``
(deliberately unrelated, with its own staff, partners and keys) for the negative cases.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from core.inventory import master_services
from core.inventory.ingestion import movement_rows_parse, movements_ingest
from core.inventory.models import Category, Position, Sku, Warehouse
from tenants import services
from tenants.models import ApiKey, Partner, PartnerKind, Role, Tenant

_counter = itertools.count(1)


@dataclass
class Caller:
    """A principal of a tenant, with a client that authenticates as it."""

    client: APIClient
    key: ApiKey | None = None
    raw_key: str | None = None
    user: object | None = None
    partner: Partner | None = None


def make_user(username: str | None = None):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(username=username, email=f"{username}@example.com", password="pw")


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@dataclass
class TenantWorld:
    """A tenant with one staff member of each role and one partner of each kind, all with keys,
    and a little inventory: one category, warehouse and SKU, and a stocked position of the two.

    Both worlds use the same codes, so a filter by code that leaks across tenants shows up.
    """

    tenant: Tenant
    admin: Caller
    planner: Caller
    analyst: Caller
    supplier: Caller
    distributor: Caller
    erp: Caller
    category: Category
    warehouse: Warehouse
    sku: Sku
    position: Position

    def caller(self, access: str) -> Caller:
        return getattr(self, access)


def build_world(slug: str) -> TenantWorld:
    tenant = services.tenant_create(slug=slug, name=f"Tenant {slug}")
    callers: dict[str, Caller] = {}
    for role in Role:
        user = make_user(f"{slug}-{role.value}")
        services.membership_set(tenant=tenant, user=user, role=role)
        key, raw = services.api_key_create(tenant=tenant, user=user, name=f"{role.value} script")
        callers[role.value] = Caller(client=key_client(raw), key=key, raw_key=raw, user=user)
    for kind in PartnerKind:
        partner = services.partner_create(tenant=tenant, kind=kind, name=f"{slug} {kind.label}")
        key, raw = services.api_key_create(tenant=tenant, partner=partner, name="integration")
        callers[kind.value] = Caller(client=key_client(raw), key=key, raw_key=raw, partner=partner)
    return TenantWorld(tenant=tenant, **callers, **build_inventory(tenant))


def build_inventory(tenant: Tenant) -> dict:
    category = master_services.category_create(tenant=tenant, code="snacks", name="Snacks", profile="fmcg")
    warehouse = master_services.warehouse_create(
        tenant=tenant, code="WH-1", name="Main DC", region="north", kind="distribution_centre"
    )
    sku = master_services.sku_create(
        tenant=tenant,
        code="SKU-1",
        name="Crisps",
        category=category,
        unit_cost=Decimal("1.2000"),
        list_price=Decimal("2.5000"),
    )
    # Stock through ingestion, as a partner would push it: the position, its lot, the ledger line and
    # the daily fact are what ingestion makes of one receipt. The reservation has no service yet.
    received = timezone.now() - timedelta(days=3)
    columns, errors = movement_rows_parse(
        [
            {
                "kind": "receipt",
                "sku": sku.code,
                "warehouse": warehouse.code,
                "quantity": 10,
                "occurred_at": received.isoformat(),
                "external_ref": "world-receipt-1",
                "lot_code": "L-1",
            },
        ]
    )
    assert not errors
    movements_ingest(tenant=tenant, source="fixture", columns=columns)
    Position.objects.filter(tenant=tenant, sku=sku, warehouse=warehouse).update(reserved=2)
    position = Position.objects.get(tenant=tenant, sku=sku, warehouse=warehouse)
    return {"category": category, "warehouse": warehouse, "sku": sku, "position": position}


@pytest.fixture
def world(db) -> TenantWorld:
    return build_world("acme")


@pytest.fixture
def other_world(db) -> TenantWorld:
    return build_world("globex")


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()
