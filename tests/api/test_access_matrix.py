"""Tenant isolation and access, as a matrix generated from the URL patterns.

Every tenant-scoped route and every method its view declares is tried: with another tenant's
slug, with another tenant's object ids, with each role or partner kind the view does not grant,
and with no, malformed, revoked or expired credentials. A new endpoint is covered as soon as it
is routed; a new id in a path needs one line in ``ID_SOURCES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from guardian.shortcuts import assign_perm

from api.tenant_scope import TenantScopedView
from core.alerts.engine import chunk_evaluate
from core.alerts.models import Alert
from core.alerts.policies import policy_create
from core.alerts.runs import evaluation_start
from core.inventory import master_services
from core.inventory.ingestion import movement_rows_parse, movements_ingest
from core.inventory.models import Anomaly, Position
from core.playbooks.models import Recommendation
from core.playbooks.records import recommendations_sync
from core.procurement.models import PurchaseOrder, Quote, Rfq, RfqInvitation, SupplierOffer
from core.procurement.rfqs import RFQ_VIEW
from core.procurement.services import supplier_offers_upsert
from core.transfers.models import TransferPlan
from core.transfers.services import transfer_lane_set, transfer_request_create
from core.webhooks.services import endpoint_create, endpoint_test
from tenants.models import ApiKey
from tenants.principals import Principal

if TYPE_CHECKING:
    from tests.conftest import TenantWorld

ACCESS_TOKENS = ["admin", "planner", "analyst", "supplier", "distributor", "erp"]


@dataclass(frozen=True)
class Endpoint:
    route: str  # e.g. "api/v1/tenants/<slug:tenant_slug>/partners/<uuid:partner_id>/"
    method: str
    view: type[TenantScopedView]

    @property
    def id_kwargs(self) -> list[str]:
        return [name for name in re.findall(r"<(?:\w+:)?(\w+)>", self.route) if name != "tenant_slug"]

    def url(self, **kwargs: object) -> str:
        def fill(match: re.Match) -> str:
            return str(kwargs[match.group(1)])

        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, self.route)

    def __str__(self) -> str:
        return f"{self.method} /{self.route}"


def _walk(patterns: list, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.callback))
    return found


def tenant_scoped_endpoints() -> list[Endpoint]:
    endpoints = []
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "view_class", None)
        if view is None or not issubclass(view, TenantScopedView):
            continue
        assert "<slug:tenant_slug>" in route, f"{view.__name__} is tenant-scoped but its route has no tenant slug"
        for method in sorted(view.access):
            endpoints.append(Endpoint(route=route, method=method, view=view))
    return endpoints


ENDPOINTS = tenant_scoped_endpoints()


# Where each path id comes from, in a given tenant world; the route says whose key a key id is.
def _key_id(world: TenantWorld, route: str) -> object:
    return world.supplier.key.id if "partners/" in route else world.admin.key.id


def _anomaly_id(world: TenantWorld, route: str) -> object:
    """A flagged sale (zero price) on a SKU of its own, pushed through ingestion once per world."""
    if not hasattr(world, "anomaly_id"):
        sku = master_services.sku_create(
            tenant=world.tenant,
            code="SKU-ANOMALY",
            name="Flagged",
            category=world.category,
            unit_cost=Decimal(1),
            list_price=Decimal(2),
        )
        moment = (timezone.now() - timedelta(days=1)).isoformat()
        rows = [
            {
                "kind": "receipt",
                "sku": sku.code,
                "warehouse": world.warehouse.code,
                "quantity": "5",
                "occurred_at": moment,
                "external_ref": "anomaly-receipt",
            },
            {
                "kind": "sale",
                "sku": sku.code,
                "warehouse": world.warehouse.code,
                "quantity": "1",
                "occurred_at": moment,
                "external_ref": "anomaly-sale",
                "unit_price": "0",
            },
        ]
        columns, errors = movement_rows_parse(rows)
        assert not errors
        movements_ingest(tenant=world.tenant, source="fixture", columns=columns)
        world.anomaly_id = Anomaly.objects.get(tenant=world.tenant).id
    return world.anomaly_id


def _evaluated(world: TenantWorld) -> TenantWorld:
    """Once per world: stock received 200 days ago and never sold (an overstock alert), evaluated."""
    if not hasattr(world, "alert_id"):
        sku = master_services.sku_create(
            tenant=world.tenant,
            code="SKU-STALE",
            name="Stale",
            category=world.category,
            unit_cost=Decimal(1),
            list_price=Decimal(2),
        )
        rows = [
            {
                "kind": "receipt",
                "sku": sku.code,
                "warehouse": world.warehouse.code,
                "quantity": "50",
                "occurred_at": (timezone.now() - timedelta(days=200)).isoformat(),
                "external_ref": "stale-receipt",
            }
        ]
        columns, errors = movement_rows_parse(rows)
        assert not errors
        movements_ingest(tenant=world.tenant, source="fixture", columns=columns)
        ids = list(Position.objects.filter(tenant=world.tenant).values_list("id", flat=True))
        chunk_evaluate(tenant=world.tenant, position_ids=ids, today=timezone.now().date(), actor="fixture")
        world.alert_id = Alert.objects.get(tenant=world.tenant, sku=sku).id
    return world


def _policy_id(world: TenantWorld, route: str) -> object:
    if not hasattr(world, "policy_id"):
        world.policy_id = policy_create(tenant=world.tenant, actor="fixture", rule="overstock", standard=60).id
    return world.policy_id


def _evaluation_id(world: TenantWorld, route: str) -> object:
    if not hasattr(world, "evaluation_id"):
        world.evaluation_id = evaluation_start(tenant=world.tenant, actor="fixture").id
    return world.evaluation_id


def _position_id(world: TenantWorld, route: str) -> object:
    if "indicators/" in route:
        _evaluated(world)  # a reading exists only once the engine has looked at the position
    return world.position.id


def _webhooked(world: TenantWorld) -> TenantWorld:
    """Once per world: a tenant endpoint on a local port and one ping delivery to it."""
    if not hasattr(world, "endpoint_id"):
        endpoint, _ = endpoint_create(
            tenant=world.tenant, actor="fixture", url="http://127.0.0.1:9/hook", event_types=["alert.opened"]
        )
        world.endpoint_id = endpoint.id
        world.delivery_id = endpoint_test(endpoint=endpoint, actor="fixture").id
    return world


def _procured(world: TenantWorld) -> TenantWorld:
    """Once per world: the supplier as a backup of the SKU, an RFQ it is invited to, its quote."""
    if not hasattr(world, "rfq_id"):
        supplier = world.supplier.partner
        supplier_offers_upsert(
            tenant=world.tenant,
            offers=[
                {
                    "sku_id": world.sku.id,
                    "supplier_id": supplier.id,
                    "rank": 2,
                    "lead_time_days": 3,
                    "unit_price": "1.1",
                }
            ],
        )
        offer = SupplierOffer.objects.get(tenant=world.tenant, supplier=supplier)
        rfq = Rfq.objects.create(
            tenant=world.tenant,
            reference="RFQ-MATRIX",
            position=world.position,
            sku=world.sku,
            warehouse=world.warehouse,
            quantity=10,
            needed_by=timezone.now().date() + timedelta(days=7),
            respond_by=timezone.now() + timedelta(days=1),
            opened_by="fixture",
        )
        invitation = RfqInvitation.objects.create(
            tenant=world.tenant,
            rfq=rfq,
            supplier=supplier,
            offer=offer,
            round=1,
            position_in_ranking=1,
            quantity=10,
            landed_unit_cost=Decimal("1.1"),
            reliability=Decimal("0.9"),
            expected_arrival=timezone.now().date() + timedelta(days=3),
        )
        assign_perm(RFQ_VIEW, supplier.group, rfq)
        quote = Quote.objects.create(
            tenant=world.tenant,
            rfq=rfq,
            invitation=invitation,
            supplier=supplier,
            revision=1,
            unit_price=1,
            quantity=10,
            lead_time_days=3,
            valid_until=timezone.now().date() + timedelta(days=30),
            landed_unit_cost=1,
            submitted_by="fixture",
        )
        order = PurchaseOrder.objects.create(
            tenant=world.tenant,
            reference="PO-MATRIX",
            rfq=rfq,
            supplier=supplier,
            position=world.position,
            quantity=10,
            unit_price=1,
            expected_on=timezone.now().date() + timedelta(days=3),
        )
        world.offer_id, world.rfq_id, world.quote_id, world.order_id = offer.id, rfq.id, quote.id, order.id
    return world


def _recommendation_id(world: TenantWorld, route: str) -> object:
    if not hasattr(world, "recommendation_id"):
        assert recommendations_sync(alert_ids=[_evaluated(world).alert_id]) == 1
        world.recommendation_id = Recommendation.objects.get(tenant=world.tenant).id
    return world.recommendation_id


def _transferring(world: TenantWorld) -> TenantWorld:
    """Once per world: a transfer request out of the world's warehouse, a lane and a finished plan."""
    if not hasattr(world, "transfer_id"):
        staff = Principal(tenant=world.tenant, user=world.admin.user, role="admin")
        transfer = transfer_request_create(
            principal=staff,
            tenant=world.tenant,
            sku=world.sku.code,
            source=world.warehouse.code,
            destination_location="distributor yard",
            quantity=1,
        )
        other = master_services.warehouse_create(
            tenant=world.tenant, code="WH-2", name="Second", region="south", kind="store"
        )
        lane = transfer_lane_set(
            tenant=world.tenant, actor=staff, source=world.warehouse.code, destination=other.code, cost_per_unit_km=1
        )
        plan = TransferPlan.objects.create(tenant=world.tenant, requested_by="fixture", status="succeeded")
        world.transfer_id, world.lane_id, world.plan_id = transfer.id, lane.id, plan.id
    return world


ID_SOURCES: dict[str, Callable[[TenantWorld, str], object]] = {
    "partner_id": lambda world, route: world.supplier.partner.id,
    "key_id": _key_id,
    "warehouse_id": lambda world, route: world.warehouse.id,
    "category_id": lambda world, route: world.category.id,
    "sku_id": lambda world, route: world.sku.id,
    "position_id": _position_id,
    "anomaly_id": _anomaly_id,
    "alert_id": lambda world, route: _evaluated(world).alert_id,
    "policy_id": _policy_id,
    "evaluation_id": _evaluation_id,
    "endpoint_id": lambda world, route: _webhooked(world).endpoint_id,
    "delivery_id": lambda world, route: _webhooked(world).delivery_id,
    "offer_id": lambda world, route: _procured(world).offer_id,
    "rfq_id": lambda world, route: _procured(world).rfq_id,
    "quote_id": lambda world, route: _procured(world).quote_id,
    "order_id": lambda world, route: _procured(world).order_id,
    "recommendation_id": _recommendation_id,
    "transfer_id": lambda world, route: _transferring(world).transfer_id,
    "lane_id": lambda world, route: _transferring(world).lane_id,
    "plan_id": lambda world, route: _transferring(world).plan_id,
}


def ids_in(world: TenantWorld, endpoint: Endpoint) -> dict[str, object]:
    missing = [name for name in endpoint.id_kwargs if name not in ID_SOURCES]
    assert not missing, f"{endpoint}: add an entry to ID_SOURCES for {missing}"
    return {name: ID_SOURCES[name](world, endpoint.route) for name in endpoint.id_kwargs}


def call(client, endpoint: Endpoint, url: str):
    return client.generic(endpoint.method, url, data="{}", content_type="application/json")


def assert_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    if code is not None:
        assert body["error"]["code"] == code


def test_matrix_covers_the_tenancy_endpoints() -> None:
    # Guards the generator itself: if routing changes so it finds nothing, the matrix is empty.
    names = {endpoint.view.__name__ for endpoint in ENDPOINTS}
    assert {
        "MeView",
        "PartnerListView",
        "PartnerDetailView",
        "PartnerApiKeyListView",
        "PartnerApiKeyRevokeView",
    } <= names
    # ... and the procurement and transfer routes, whose ids come from their own ID_SOURCES rows.
    assert {
        "OfferDetailView",
        "RfqQuoteWithdrawView",
        "PurchaseOrderCloseView",
        "RecommendationAcceptView",
        "GrantDetailView",
        "TransferShipView",
        "PlanAcceptView",
    } <= names
    assert len(ENDPOINTS) >= 116


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("access", ["admin", "supplier"])
def test_other_tenants_slug_is_404(endpoint: Endpoint, access: str, world, other_world) -> None:
    # The caller's credentials are valid, the ids are real objects of the other tenant.
    url = endpoint.url(tenant_slug=other_world.tenant.slug, **ids_in(other_world, endpoint))
    assert_error(call(world.caller(access).client, endpoint, url), 404, "not_found")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_unknown_slug_is_the_same_404(endpoint: Endpoint, world) -> None:
    url = endpoint.url(tenant_slug="no-such-tenant", **ids_in(world, endpoint))
    response = call(world.admin.client, endpoint, url)
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_staff_session_of_another_tenant_is_404(endpoint: Endpoint, world, other_world, client) -> None:
    client.force_login(world.admin.user)
    url = endpoint.url(tenant_slug=other_world.tenant.slug, **ids_in(other_world, endpoint))
    response = client.generic(endpoint.method, url, data="{}", content_type="application/json")
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.id_kwargs], ids=str)
def test_other_tenants_object_ids_are_404(endpoint: Endpoint, world, other_world) -> None:
    own, foreign = ids_in(world, endpoint), ids_in(other_world, endpoint)
    # A caller the endpoint grants (admin where it can), so the 404 is about the ids, not the role.
    token = next(token for token in ACCESS_TOKENS if endpoint.view.allowed(endpoint.method, token))
    for name in endpoint.id_kwargs:  # one foreign id at a time, the rest the caller's own
        url = endpoint.url(tenant_slug=world.tenant.slug, **{**own, name: foreign[name]})
        assert_error(call(world.caller(token).client, endpoint, url), 404, "not_found")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_roles_and_partner_kinds_not_granted_get_403(endpoint: Endpoint, world) -> None:
    url = endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))
    denied = [token for token in ACCESS_TOKENS if not endpoint.view.allowed(endpoint.method, token)]
    for token in denied:
        assert_error(call(world.caller(token).client, endpoint, url), 403, "permission_denied")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_granted_roles_get_through(endpoint: Endpoint, world) -> None:
    # The other half of the matrix: what is granted is not refused (a 400 for the empty body is fine).
    url = endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))
    granted = [token for token in ACCESS_TOKENS if endpoint.view.allowed(endpoint.method, token)]
    assert granted, f"{endpoint} grants nobody"
    token = granted[0]
    response = call(world.caller(token).client, endpoint, url)
    assert response.status_code not in (401, 403, 404, 405), (token, response.status_code, response.content[:300])


def test_analyst_cannot_do_what_needs_an_admin(world) -> None:
    admin_only = [e for e in ENDPOINTS if e.view.allowed(e.method, "admin") and not e.view.allowed(e.method, "analyst")]
    assert admin_only, "expected admin-only operations (partners CRUD, partner keys)"
    for endpoint in admin_only:
        url = endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))
        assert_error(call(world.analyst.client, endpoint, url), 403, "permission_denied")


def _bad_credentials(world: TenantWorld) -> dict[str, str | None]:
    revoked, expired = world.planner.key, world.distributor.key
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    wrong_secret = world.admin.raw_key[:-4] + ("aaaa" if not world.admin.raw_key.endswith("aaaa") else "bbbb")
    return {
        "none": None,
        "malformed": "Bearer not-a-key",
        "two-words": "Bearer a b",
        "wrong-secret": f"Bearer {wrong_secret}",
        "revoked": f"Bearer {world.planner.raw_key}",
        "expired": f"Bearer {world.distributor.raw_key}",
    }


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_missing_or_bad_credentials_are_401(endpoint: Endpoint, world, anonymous_client) -> None:
    url = endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))
    for label, header in _bad_credentials(world).items():
        anonymous_client.credentials(**({"HTTP_AUTHORIZATION": header} if header else {}))
        response = call(anonymous_client, endpoint, url)
        assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), label


def test_401_messages_say_what_to_do(world, anonymous_client) -> None:
    url = f"/api/v1/tenants/{world.tenant.slug}/me/"
    messages = {}
    for label, header in _bad_credentials(world).items():
        anonymous_client.credentials(**({"HTTP_AUTHORIZATION": header} if header else {}))
        messages[label] = anonymous_client.get(url).json()["error"]["message"]
    assert "revoked" in messages["revoked"]
    assert "expired" in messages["expired"]
    assert "Malformed" in messages["malformed"]
    assert "Unknown API key" in messages["wrong-secret"]
