"""Every tenant-scoped route and method, found in the URL patterns, with where each path id comes
from in a tenant world: the access matrix and the tests generated from the OpenAPI document walk
these. A new id in a path needs one line in ``ID_SOURCES``."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from guardian.shortcuts import assign_perm

from api.tenant_scope import TenantScopedView
from core.access.registry import partner_kinds
from core.alerts.engine import chunk_evaluate
from core.alerts.models import Alert, PolicyChange
from core.alerts.policies import policy_create
from core.alerts.runs import evaluation_start
from core.forecasting.backtest import forecast_backtest_run
from core.forecasting.promotions import promotion_create
from core.forecasting.services import forecasts_refresh
from core.inventory import master_services
from core.inventory.ingestion import movement_rows_parse, movements_ingest
from core.inventory.models import Anomaly, Position
from core.playbooks.models import Recommendation
from core.playbooks.records import recommendations_sync
from core.procurement.models import PurchaseOrder, Quote, Rfq, RfqInvitation
from core.procurement.rfqs import RFQ_VIEW
from core.quality.kpi_reports import kpi_month_close
from core.quality.models import TuningProposal, WarningBacktest
from core.supply.models import SupplierOffer
from core.supply.services import supplier_offers_upsert
from core.transfers.models import TransferPlan
from core.transfers.services import transfer_lane_set, transfer_request_create
from core.webhooks.services import endpoint_create, endpoint_test
from tenants.models import Role
from tenants.principals import Principal

if TYPE_CHECKING:
    from tests.support.world import TenantWorld

ACCESS_TOKENS = [str(token) for token in (*Role, *partner_kinds())]  # roles, then the kinds the registry knows


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


def walk_routes(patterns: list, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += walk_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.callback))
    return found


def tenant_scoped_endpoints() -> list[Endpoint]:
    endpoints = []
    for route, callback in walk_routes(get_resolver().url_patterns):
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


def _change_id(world: TenantWorld, route: str) -> object:
    """The policy version that created the world's policy."""
    _policy_id(world, route)
    return PolicyChange.objects.get(tenant=world.tenant, version=1).id


def _proposal_id(world: TenantWorld, route: str) -> object:
    """A pending tuner proposal (the tuner's own rows: a proposal is never made by a request)."""
    if not hasattr(world, "proposal_id"):
        world.proposal_id = TuningProposal.objects.create(
            tenant=world.tenant,
            rule="overstock",
            run_on=timezone.now().date(),
            setting="bands",
            direction="tighten",
            value_before=1.1,
            value_after=1.32,
            settings={"bands": {"yellow": 0.32, "orange": 0.42, "red": 0.52}},
            status="pending",
        ).id
    return world.proposal_id


def _evaluation_id(world: TenantWorld, route: str) -> object:
    if not hasattr(world, "evaluation_id"):
        world.evaluation_id = evaluation_start(tenant=world.tenant, actor="fixture").id
    return world.evaluation_id


def _position_id(world: TenantWorld, route: str) -> object:
    if "indicators/" in route:
        _evaluated(world)  # a reading exists only once the engine has looked at the position
    if "forecasts/" in route:
        forecasts_refresh(tenant=world.tenant)  # a forecast exists once the positions were fitted
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


def _promotion_id(world: TenantWorld, route: str) -> object:
    """Once per world: a promotion of the world's SKU in every warehouse, next week."""
    if not hasattr(world, "promotion_id"):
        today = timezone.now().date()
        world.promotion_id = promotion_create(
            tenant=world.tenant,
            actor="fixture",
            sku=world.sku.code,
            warehouses=None,
            starts_on=today + timedelta(days=7),
            ends_on=today + timedelta(days=13),
            discount_percent=Decimal(20),
        ).id
    return world.promotion_id


_months_back = itertools.count(1)


def _kpi_month(world: TenantWorld, route: str) -> object:
    """Once per world: a closed KPI month, a different one in each world, so another world's month
    names no report of this one (a month is no id: the same text in both would be found)."""
    if not hasattr(world, "kpi_month"):
        month = timezone.now().date().replace(day=1)
        for _ in range(next(_months_back)):
            month = (month - timedelta(days=1)).replace(day=1)
        kpi_month_close(tenant=world.tenant, month=month)
        world.kpi_month = f"{month:%Y-%m}"
    return world.kpi_month


def _backtest_id(world: TenantWorld, route: str) -> object:
    """Once per world: a queued warning backtest of the last week."""
    if not hasattr(world, "backtest_id"):
        today = timezone.now().date()
        world.backtest_id = WarningBacktest.objects.create(
            tenant=world.tenant, day_from=today - timedelta(days=7), day_to=today, requested_by="fixture", days_total=8
        ).id
    return world.backtest_id


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
    "change_id": _change_id,
    "proposal_id": _proposal_id,
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
    "promotion_id": _promotion_id,
    "month": _kpi_month,
    "backtest_id": _backtest_id,
}


def _backtested(world: TenantWorld) -> None:
    """Once per world: a stored forecast backtest, so forecast-accuracy/ has a report to answer with."""
    if not getattr(world, "backtested", False):
        forecast_backtest_run(tenant=world.tenant)
        world.backtested = True


# Routes without ids whose answer needs some state first (a granted caller is otherwise told 404).
ROUTE_STATE: dict[str, Callable[[TenantWorld], None]] = {"forecast-accuracy/": _backtested}


def ids_in(world: TenantWorld, endpoint: Endpoint) -> dict[str, object]:
    for suffix, prepare in ROUTE_STATE.items():
        if endpoint.route.endswith(suffix):
            prepare(world)
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
