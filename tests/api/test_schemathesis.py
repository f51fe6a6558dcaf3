"""Schemathesis tries every operation of the OpenAPI document the way an outsider would.

Each operation is run with an admin key, a supplier key and a distributor key against a tenant
seeded with real data (positions, alerts, RFQs with quotes, a purchase order, transfers, a plan,
webhook endpoints and deliveries, ...), with all of Schemathesis' checks: no 5xx, every status
code, content type, header and body as documented, bad input refused, good input accepted,
authentication enforced, undeclared methods answered 405. Path ids and codes in bodies are mostly
the seeded objects' (a quarter stay random: a 404 is an answer too), and each example runs in a
savepoint rolled back afterwards, so every example starts from the same tenant.

Figures (2 cores, `make test`'s settings): 117 operations x 3 roles, 25 fuzzing examples each plus
the admin's coverage cases, about 13,500 requests in 4 to 5 minutes.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from core.access.scope import warehouse_grant
from core.alerts.models import Alert, AlertPolicy, EvaluationRun, PolicyChange
from core.alerts.policies import policy_create
from core.forecasting.backtest import forecast_backtest_run
from core.inventory.models import Anomaly, Category, Position, Sku, Warehouse
from core.playbooks.models import Recommendation
from core.procurement.models import PurchaseOrder, Quote, Rfq
from core.quality.backtests import warning_backtest_run
from core.quality.models import WarningBacktest
from core.supply.models import SupplierOffer
from core.transfers.models import TransferLane, TransferPlan, TransferRequest
from core.webhooks.models import Delivery, WebhookEndpoint
from tenants.models import ApiKey, Partner
from tests.support.calls import evaluate
from tests.support.documented import in_process_app
from tests.support.ingest import push_rows, ts
from tests.support.procurement import backup_suppliers, quote, respond, short_stock
from tests.support.world import build_world
from workers.tasks.transfers import transfers_plan

# Examples per operation and role in the fuzzing phase (the coverage phase adds its boundary cases).
MAX_EXAMPLES = 25
SLUG = "conformance"
PREFIX = "/api/v1/tenants/{tenant_slug}"


@dataclass
class Seeded:
    """The seeded tenant: a key per role and, per path parameter, the ids that exist."""

    keys: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)


SEEDED = Seeded()


def url(path: str) -> str:
    return f"/api/v1/tenants/{SLUG}/{path}"


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def seed() -> Seeded:
    """A tenant as a few weeks of use leave it, built through the API and the workers' tasks."""
    world = build_world(SLUG)
    admin = world.admin
    for what, rows in (
        ("categories", [{"code": "C", "name": "Boots"}]),
        (
            "warehouses",
            [
                {
                    "code": "W",
                    "name": "Paris",
                    "region": "north",
                    "kind": "store",
                    "latitude": "48.85",
                    "longitude": "2.35",
                },
                {
                    "code": "W-N",
                    "name": "Lille",
                    "region": "north",
                    "kind": "distribution_centre",
                    "latitude": "50.6",
                    "longitude": "3.06",
                },
                {
                    "code": "W-S",
                    "name": "Lyon",
                    "region": "south",
                    "kind": "store",
                    "latitude": "45.76",
                    "longitude": "4.83",
                },
            ],
        ),
        (
            "skus",
            [
                {"code": code, "name": code, "category": "C", "unit_cost": "1", "list_price": "2"}
                for code in ("S", "S2", "S3")
            ],
        ),
    ):
        assert push_rows(admin, SLUG, what, rows).status_code == 201
    # S and S2 short at W (red stock-outs: RFQs to the backups), S3 piled up unsold at W-N (overstock).
    suppliers = backup_suppliers(world, sku="S")
    backup_suppliers(world, sku="S2")
    short_stock(world, sku="S")
    short_stock(world, sku="S2", prefix="s2-")
    rows = [
        {
            "kind": "receipt",
            "sku": "S3",
            "warehouse": "W-N",
            "quantity": 900,
            "occurred_at": ts(200),
            "external_ref": "s3-in",
        },
        {
            "kind": "receipt",
            "sku": "S",
            "warehouse": "W-S",
            "quantity": 400,
            "occurred_at": ts(60),
            "external_ref": "ws-in",
        },
    ]
    rows += [
        {
            "kind": "sale",
            "sku": "S",
            "warehouse": "W-S",
            "quantity": 2,
            "occurred_at": ts(day),
            "external_ref": f"ws-{day}",
            "unit_price": "2",
        }
        for day in range(1, 20)
    ]
    # A sale at no price: flagged as an anomaly for review.
    rows.append(
        {
            "kind": "sale",
            "sku": "S",
            "warehouse": "W-S",
            "quantity": 1,
            "occurred_at": ts(0),
            "external_ref": "free",
            "unit_price": "0",
        }
    )
    assert push_rows(admin, SLUG, "movements", rows).status_code == 201
    push_rows(admin, SLUG, "signals", [{"sku": "S", "day": ts(1)[:10], "social_volume": 12}])
    evaluate(world)
    respond(world)

    # Quotes on both RFQs; the S2 one is awarded by hand: a purchase order.
    quick = suppliers["quick"]
    rfqs = {rfq.sku.code: rfq for rfq in Rfq.objects.filter(tenant=world.tenant).select_related("sku")}
    for rfq in rfqs.values():
        _ok(quote(quick, world, str(rfq.pk), quantity=300), 201)
    awarded = rfqs["S2"]
    winning = Quote.objects.get(rfq=awarded, supplier=quick.partner)
    _ok(admin.client.post(url(f"rfqs/{awarded.pk}/award/"), {"quote_id": str(winning.pk)}, format="json"))

    # The distributor sees W-N with numbers and W-S as bands, and asks for a transfer.
    distributor = world.distributor
    warehouse_grant(partner=distributor.partner, warehouses=Warehouse.objects.filter(tenant=world.tenant, code="W-N"))
    warehouse_grant(
        partner=distributor.partner,
        warehouses=Warehouse.objects.filter(tenant=world.tenant, code="W-S"),
        quantities="bands",
    )
    asked = _ok(
        distributor.client.post(
            url("transfers/"), {"sku": "S3", "source": "W-N", "destination": "W-S", "quantity": 20}, format="json"
        ),
        201,
    )
    _ok(admin.client.post(url(f"transfers/{asked['id']}/approve/"), {"note": "ok"}, format="json"))
    _ok(
        admin.client.post(
            url("transfer-lanes/"), {"source": "W-N", "destination": "W", "cost_per_unit_km": "0.01"}, format="json"
        )
    )
    plan = _ok(admin.client.post(url("transfer-plans/")), 202)
    assert transfers_plan(plan["id"]) == "succeeded"
    policy_create(tenant=world.tenant, actor="seed", rule="overstock", standard=60)
    forecast_backtest_run(tenant=world.tenant)  # forecast-accuracy/ answers with a stored report
    last_week = {"day_from": ts(7)[:10], "day_to": ts(1)[:10]}
    backtest = _ok(admin.client.post(url("warning-backtests/"), last_week, format="json"), 202)
    warning_backtest_run(backtest_id=backtest["id"])  # its report, as the worker would store it
    _ok(admin.client.post(url("warning-backtests/"), last_week, format="json"), 202)  # and one left queued

    # Webhook endpoints: the tenant's, and each partner's own, each pinged once.
    for caller in (admin, quick, distributor):
        endpoint = _ok(
            caller.client.post(
                url("webhook-endpoints/"),
                {"url": "http://127.0.0.1:9/hook", "event_types": ["alert.opened", "webhook.ping"]},
                format="json",
            ),
            201,
        )
        _ok(caller.client.post(url(f"webhook-endpoints/{endpoint['id']}/test/")), 202)

    tenant = world.tenant
    keys = ApiKey.objects.filter(tenant=tenant)
    ids = {
        "alert_id": Alert.objects.filter(tenant=tenant),
        "backtest_id": WarningBacktest.objects.filter(tenant=tenant),
        "anomaly_id": Anomaly.objects.filter(tenant=tenant),
        "category_id": Category.objects.filter(tenant=tenant),
        "change_id": PolicyChange.objects.filter(tenant=tenant),
        "delivery_id": Delivery.objects.filter(endpoint__tenant=tenant),
        "endpoint_id": WebhookEndpoint.objects.filter(tenant=tenant),
        "evaluation_id": EvaluationRun.objects.filter(tenant=tenant),
        "key_id": keys,
        "lane_id": TransferLane.objects.filter(tenant=tenant),
        "offer_id": SupplierOffer.objects.filter(tenant=tenant),
        "order_id": PurchaseOrder.objects.filter(tenant=tenant),
        "partner_id": Partner.objects.filter(tenant=tenant),
        "plan_id": TransferPlan.objects.filter(tenant=tenant),
        "policy_id": AlertPolicy.objects.filter(tenant=tenant),
        "position_id": Position.objects.filter(tenant=tenant),
        "quote_id": Quote.objects.filter(tenant=tenant),
        "recommendation_id": Recommendation.objects.filter(tenant=tenant),
        "rfq_id": Rfq.objects.filter(tenant=tenant),
        "sku_id": Sku.objects.filter(tenant=tenant),
        "transfer_id": TransferRequest.objects.filter(tenant=tenant),
        "warehouse_id": Warehouse.objects.filter(tenant=tenant),
    }
    values = {
        name: [str(pk) for pk in queryset.order_by("pk").values_list("pk", flat=True)] for name, queryset in ids.items()
    }
    # Body fields that name objects by code or id.
    codes = {
        "sku": Sku.objects.filter(tenant=tenant).values_list("code", flat=True),
        "warehouse": Warehouse.objects.filter(tenant=tenant).values_list("code", flat=True),
        "category": Category.objects.filter(tenant=tenant).values_list("code", flat=True),
    }
    values.update({name: sorted(found) for name, found in codes.items()})
    values.update(source=values["warehouse"], destination=values["warehouse"], supplier_id=values["partner_id"])
    values["url"] = ["http://127.0.0.1:9/hook"]
    return Seeded(
        keys={"admin": admin.raw_key, "supplier": quick.raw_key, "distributor": distributor.raw_key}, ids=values
    )


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The tenant, seeded once for the module inside a transaction rolled back at its end; the
    requests run in it too (each example in a savepoint of its own)."""
    with django_db_blocker.unblock(), transaction.atomic():
        data = seed()  # through the test client, which puts Django's connection handling back after it
        SEEDED.keys, SEEDED.ids = data.keys, data.ids
        with in_process_app():
            yield data
        transaction.set_rollback(True)


INGESTION = [f"POST /ingest/{what}/" for what in ("categories", "movements", "signals", "skus", "warehouses")]
# Findings of a check that are deliberate choices of the API: the operations, the check, and why.
DELIBERATE = [
    (
        INGESTION,
        "positive_data_acceptance",
        "Bulk rows are checked column by column against the tenant's codes; NDJSON and CSV bodies are text.",
    ),
    (
        INGESTION,
        "negative_data_rejection",
        "Bulk rows read CSV's conventions in every format: an empty cell is an absent one, a number may be text.",
    ),
    (
        [
            "POST /skus/",
            "PATCH /skus/{sku_id}/",
            "POST /transfers/",
            "POST /transfer-lanes/",
            "POST /supplier-offers/",
            "POST /rfqs/{rfq_id}/award/",
            "POST /partners/{partner_id}/grants/",
            "GET /partners/{partner_id}/grants/",
            "DELETE /partners/{partner_id}/grants/{warehouse_id}/",
        ],
        "positive_data_acceptance",
        "Codes and ids in a body must name the tenant's objects of the right kind, which no schema can list.",
    ),
    (
        [
            "POST /alerts/{alert_id}/snooze/",
            "POST /me/api-keys/",
            "POST /partners/{partner_id}/api-keys/",
            "GET /stock/{position_id}/daily-sales/",
            "GET /kpis/",
        ],
        "positive_data_acceptance",
        "Times are checked against the clock: a snooze or an expiry lies ahead, a window spans at most 731 days, "
        "a KPI month has begun.",
    ),
    (
        [
            "POST /supplier-offers/",
            "PATCH /supplier-offers/{offer_id}/",
            "POST /warehouses/",
            "PATCH /warehouses/{warehouse_id}/",
            "POST /rfqs/{rfq_id}/quotes/",
        ],
        "positive_data_acceptance",
        "A decimal's bounds (duty rate at most 5, latitude within 90, a price above 0) are not in its pattern.",
    ),
    (
        ["POST /warning-backtests/"],
        "positive_data_acceptance",
        "A backtest's period lies within the tenant's ledger (its first daily fact to today) and spans at most"
        " QUALITY_BACKTEST_MAX_DAYS, which no schema can say.",
    ),
    (
        ["POST /categories/", "PATCH /categories/{category_id}/"],
        "positive_data_acceptance",
        "A category's 12 monthly coefficients must each be above 0 and average 1, which no schema can say.",
    ),
    (
        ["POST /promotions/", "PATCH /promotions/{promotion_id}/"],
        "positive_data_acceptance",
        "A promotion names the tenant's codes, ends on or after its start, shares no day with another of its SKU"
        " in a warehouse, and its uplift's bounds are not in the decimal's pattern.",
    ),
    (
        ["POST /alerts/{alert_id}/dismiss/"],
        "positive_data_acceptance",
        "A dismissal whose reason is other needs a note, which the schema cannot make depend on the reason.",
    ),
    (
        ["POST /tuning/runs/"],
        "positive_data_acceptance",
        "A run on demand needs the tenant's tuner on (tuning/settings/), which no schema of the request can say.",
    ),
    (
        ["POST /alert-policies/", "PATCH /alert-policies/{policy_id}/"],
        "positive_data_acceptance",
        "A policy's settings depend on its rule and scope (one scope at most), as the rule catalog says.",
    ),
    (
        ["POST /webhook-endpoints/", "PATCH /webhook-endpoints/{endpoint_id}/"],
        "positive_data_acceptance",
        "The address guard resolves a webhook URL's host and refuses one that does not resolve or is not public.",
    ),
]


def _loaded(*, admin: bool) -> schemathesis.BaseSchema:
    checks = {} if admin else {"ignored_auth": {"enabled": False}}
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # The key of the role under test authenticates every request; `ignored_auth` tries the rest.
                "with-security-parameters": False,
                # Deliberate: DRF refuses a NUL character in text (400), which a JSON Schema string cannot say.
                "allow-x00": False,
                # Deliberate: unknown query parameters are ignored (bodies refuse unknown fields), as is usual.
                "allow-extra-parameters": False,
            },
            # Boundary values, missing headers and undeclared methods are answered before the role is
            # looked at, and authentication before it too: they run once, with the admin key.
            "phases": {"coverage": {"enabled": admin}},
            "checks": checks,
            # Values read from the views' source add little to the ids and codes seeded here, at a cost.
            "analysis": {"constants": {"enabled": False}},
            "operations": [
                {
                    "include-name": [f"{name.split()[0]} {PREFIX}{name.split()[1]}" for name in names],
                    "checks": {check: {"enabled": False}},
                }
                for names, check, _why in DELIBERATE
            ],
        }
    )
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=config)
    loaded.app = APP
    return loaded


DOCUMENT = SchemaGenerator().get_schema(request=None, public=True)
APP = get_wsgi_application()  # requests reach it in-process, as in_process_app() prepares
schema = _loaded(admin=True)
partner_schema = _loaded(admin=False)


def _pick(name: str, generated: object) -> object:
    """A seeded id for most generated values (the same one for the same value); every fourth stays."""
    pool = SEEDED.ids.get(name)
    digest = int(hashlib.sha256(repr(generated).encode()).hexdigest(), 16)
    if not pool or digest % 4 == 0:
        return generated
    return pool[digest // 4 % len(pool)]


def _seed_fields(body: object) -> None:
    if isinstance(body, list):
        for item in body:
            _seed_fields(item)
    elif isinstance(body, dict):
        for name, value in list(body.items()):
            if name == "warehouses" and isinstance(value, list):
                body[name] = [_pick("warehouse", item) for item in value]
            elif isinstance(value, str):
                body[name] = _pick(name, value)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value: object) -> bytes:
    """The bulk endpoints' NDJSON body, documented as text: sent as generated."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


@schemathesis.hook("before_call")
def _seeded_ids(ctx, case, kwargs) -> None:
    if case.path_parameters:
        for name, value in list(case.path_parameters.items()):
            case.path_parameters[name] = SLUG if name == "tenant_slug" else _pick(name, value)
    _seed_fields(case.body)


def _conformance_test(role: str):
    @(schema if role == "admin" else partner_schema).parametrize()
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def test(case, seeded, db) -> None:
        with transaction.atomic():
            case.call_and_validate(headers={"Authorization": f"Bearer {SEEDED.keys[role]}"})
            transaction.set_rollback(True)

    return test


test_as_admin = _conformance_test("admin")
test_as_supplier = _conformance_test("supplier")
test_as_distributor = _conformance_test("distributor")
