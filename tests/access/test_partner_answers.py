"""Every JSON answer a partner can get, scanned for what its kind and grant level may not see.

Generated from the URL patterns, as the access matrix is: every tenant-scoped route and method a
partner kind is granted has a request recipe here (lists, details, filters, bad input, a refused
over-large transfer request), and a route with none fails the test, so a new endpoint is covered
when it is routed. Each audience (supplier; distributor with exact, bands and mixed grants; ERP)
runs every recipe its kind may, and each answer is scanned, whole and strings included, for
keys that hold the figures behind an alert or a reading, for the positions' real quantities it
may not see (alone and summed), for the primary supplier's lead time, for the staff explanation
and recommendation texts, and for staff user names and key prefixes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from core.forecasting.backtest import forecast_backtest_run
from core.forecasting.models import Promotion
from core.forecasting.promotions import promotion_create
from core.forecasting.services import forecasts_refresh
from core.supply.models import SupplierOffer
from core.transfers.models import TransferRequest
from core.transfers.services import transfer_approve, transfer_request_create
from tenants.models import PartnerKind
from tenants.principals import Principal
from tests.support.endpoints import Endpoint, tenant_scoped_endpoints
from tests.support.figured import Figured
from tests.support.leaks import scan_for

PREFIX = "api/v1/tenants/<slug:tenant_slug>/"
AUDIENCES = ["supplier", "distributor:exact", "distributor:bands", "distributor:mixed", "erp"]
ENDPOINTS = [e for e in tenant_scoped_endpoints() if any(e.view.allowed(e.method, kind) for kind in PartnerKind)]


@dataclass
class Call:
    method: str
    path: str  # under the tenant
    body: object = None
    expect: tuple[int, ...] = (200,)
    headers: dict = field(default_factory=dict)


@dataclass
class Context:
    figured: Figured
    audience: str
    made: dict = field(default_factory=dict)  # ids the recipes made on the way (endpoint, delivery...)

    @property
    def world(self):
        return self.figured.world


def _ids(ctx: Context, label: str) -> dict:
    return {"alert": ctx.figured.alerts[label].pk, "position": ctx.figured.positions[label].pk}


# --- Recipes: route (under the tenant) and method -> the calls that exercise it --------------------

Recipe = Callable[[Context], list[Call]]
RECIPES: dict[tuple[str, str], Recipe] = {}


def recipe(method: str, route: str) -> Callable[[Recipe], Recipe]:
    def register(function: Recipe) -> Recipe:
        RECIPES[(method, route)] = function
        return function

    return register


@recipe("GET", "me/")
def _me(ctx: Context) -> list[Call]:
    return [Call("GET", "me/")]


@recipe("GET", "alerts/")
def _alerts(ctx: Context) -> list[Call]:
    return [
        Call("GET", "alerts/"),
        Call("GET", "alerts/?warehouse=WH-B"),
        Call("GET", "alerts/?sku=SKU-W&grade=red"),
        Call("GET", "alerts/?opened_since=not-a-time", expect=(400,)),
    ]


@recipe("GET", "alerts/<uuid:alert_id>/")
def _alert(ctx: Context) -> list[Call]:
    return [Call("GET", f"alerts/{_ids(ctx, label)['alert']}/") for label in "EBW"] + [
        Call("GET", f"alerts/{uuid.uuid4()}/", expect=(404,))
    ]


@recipe("GET", "indicators/")
def _readings(ctx: Context) -> list[Call]:
    return [
        Call("GET", "indicators/"),
        Call("GET", "indicators/?warehouse=WH-B"),
        Call("GET", "indicators/?sku=SKU-V&ordering=-health_index"),
        Call("GET", "indicators/?health_index_lt=many", expect=(400,)),
    ]


@recipe("GET", "indicators/<int:position_id>/")
def _reading(ctx: Context) -> list[Call]:
    return [Call("GET", f"indicators/{_ids(ctx, label)['position']}/") for label in "EBW"] + [
        Call("GET", "indicators/999999999/", expect=(404,))
    ]


@recipe("GET", "indicators/rollup/")
def _rollups(ctx: Context) -> list[Call]:
    return [Call("GET", f"indicators/rollup/?by={by}") for by in ("sku", "category", "warehouse", "region")] + [
        Call("GET", "indicators/rollup/?by=colour", expect=(400,))
    ]


@recipe("GET", "forecasts/")
def _forecasts(ctx: Context) -> list[Call]:
    forecasts_refresh(tenant=ctx.world.tenant)  # once fitted; later calls find nothing to refit
    return [
        Call("GET", "forecasts/"),
        Call("GET", "forecasts/?warehouse=WH-B"),
        Call("GET", "forecasts/?sku=SKU-V&model=seasonal_naive_fallback"),
        Call("GET", "forecasts/?demand_class=sometimes", expect=(400,)),
    ]


@recipe("GET", "forecasts/<int:position_id>/")
def _forecast(ctx: Context) -> list[Call]:
    # A position outside the audience's scope (or shown only as bands) has no forecast for it: 404.
    return [Call("GET", f"forecasts/{_ids(ctx, label)['position']}/", expect=(200, 404)) for label in "EBW"] + [
        Call("GET", "forecasts/999999999/", expect=(404,))
    ]


@recipe("GET", "forecast-accuracy/")
def _forecast_accuracy(ctx: Context) -> list[Call]:
    forecast_backtest_run(tenant=ctx.world.tenant, origins=1)
    return [Call("GET", "forecast-accuracy/")]


@recipe("GET", "webhook-endpoints/")
def _endpoints(ctx: Context) -> list[Call]:
    return [Call("GET", "webhook-endpoints/")]


def _promotion(ctx: Context) -> str:
    """A promotion of SKU-W at WH-B made by staff (once per audience's world), for the readers."""
    found = Promotion.objects.filter(tenant=ctx.world.tenant, sku__code="SKU-W").first()
    if found is None:
        today = timezone.now().date()
        found = promotion_create(
            tenant=ctx.world.tenant,
            actor="fixture",
            sku="SKU-W",
            warehouses=["WH-B"],
            starts_on=today + timedelta(days=3),
            ends_on=today + timedelta(days=9),
            discount_percent=25,
        )
    return f"promotions/{found.pk}/"


@recipe("POST", "promotions/")
def _promotion_create(ctx: Context) -> list[Call]:
    day = (timezone.now().date() + timedelta(days=30)).isoformat()
    body = {"sku": "SKU-V", "warehouses": ["all"], "starts_on": day, "ends_on": day, "discount_percent": "10"}
    return [
        Call("POST", "promotions/", body, expect=(201,)),
        Call("POST", "promotions/", body, expect=(400,)),  # the same days again: an overlap
        Call("POST", "promotions/", {**body, "discount_percent": "99"}, expect=(400,)),
    ]


@recipe("GET", "promotions/")
def _promotions(ctx: Context) -> list[Call]:
    _promotion(ctx)
    return [
        Call("GET", "promotions/"),
        Call("GET", "promotions/?warehouse=WH-B&sku=SKU-W"),
        Call("GET", "promotions/?active_on=soon", expect=(400,)),
    ]


@recipe("GET", "promotions/<uuid:promotion_id>/")
def _promotion_get(ctx: Context) -> list[Call]:
    # Every audience that reads promotions sees WH-B (granted, exact or as bands).
    return [Call("GET", _promotion(ctx)), Call("GET", f"promotions/{uuid.uuid4()}/", expect=(404,))]


@recipe("PATCH", "promotions/<uuid:promotion_id>/")
def _promotion_patch(ctx: Context) -> list[Call]:
    return [
        Call("PATCH", _promotion(ctx), {"note": "end cap"}),
        Call("PATCH", _promotion(ctx), {"ends_on": "2000-01-01"}, expect=(400,)),
    ]


@recipe("POST", "webhook-endpoints/")
def _endpoint_create(ctx: Context) -> list[Call]:
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["alert.opened", "alert.resolved"]}
    return [Call("POST", "webhook-endpoints/", body, expect=(201,)), Call("POST", "webhook-endpoints/", {}, (400,))]


def _endpoint(ctx: Context) -> str:
    return f"webhook-endpoints/{ctx.made['endpoint']}/"


@recipe("GET", "webhook-endpoints/<uuid:endpoint_id>/")
def _endpoint_get(ctx: Context) -> list[Call]:
    return [Call("GET", _endpoint(ctx)), Call("GET", f"webhook-endpoints/{uuid.uuid4()}/", expect=(404,))]


@recipe("PATCH", "webhook-endpoints/<uuid:endpoint_id>/")
def _endpoint_patch(ctx: Context) -> list[Call]:
    return [
        Call("PATCH", _endpoint(ctx), {"description": "ours"}),
        Call("PATCH", _endpoint(ctx), {"url": "no"}, (400,)),
    ]


@recipe("POST", "webhook-endpoints/<uuid:endpoint_id>/rotate-secret/")
def _endpoint_rotate(ctx: Context) -> list[Call]:
    return [Call("POST", f"{_endpoint(ctx)}rotate-secret/")]


@recipe("POST", "webhook-endpoints/<uuid:endpoint_id>/test/")
def _endpoint_test(ctx: Context) -> list[Call]:
    return [Call("POST", f"{_endpoint(ctx)}test/", expect=(202,))]


@recipe("GET", "webhook-deliveries/")
def _deliveries(ctx: Context) -> list[Call]:
    return [Call("GET", "webhook-deliveries/"), Call("GET", "webhook-deliveries/?state=nonsense", expect=(400,))]


@recipe("GET", "webhook-deliveries/<uuid:delivery_id>/")
def _delivery(ctx: Context) -> list[Call]:
    return [Call("GET", f"webhook-deliveries/{ctx.made['delivery']}/")]


@recipe("POST", "webhook-deliveries/<uuid:delivery_id>/redeliver/")
def _redeliver(ctx: Context) -> list[Call]:
    return [Call("POST", f"webhook-deliveries/{ctx.made['delivery']}/redeliver/", expect=(202,))]


@recipe("DELETE", "webhook-endpoints/<uuid:endpoint_id>/")
def _endpoint_delete(ctx: Context) -> list[Call]:
    return [Call("DELETE", _endpoint(ctx), expect=(204,)), Call("DELETE", _endpoint(ctx), expect=(404,))]


# The supplier's side.


def _offer(ctx: Context) -> object:
    return SupplierOffer.objects.get(tenant=ctx.world.tenant, supplier=ctx.world.supplier.partner, sku__code="SKU-W").pk


@recipe("GET", "supplier-offers/")
def _offers(ctx: Context) -> list[Call]:
    return [Call("GET", "supplier-offers/")]


@recipe("GET", "supplier-offers/<uuid:offer_id>/")
def _offer_get(ctx: Context) -> list[Call]:
    return [Call("GET", f"supplier-offers/{_offer(ctx)}/")]


@recipe("GET", "rfqs/")
def _rfqs(ctx: Context) -> list[Call]:
    return [Call("GET", "rfqs/"), Call("GET", "rfqs/?sku=SKU-W")]


@recipe("GET", "rfqs/<uuid:rfq_id>/")
def _rfq(ctx: Context) -> list[Call]:
    return [Call("GET", f"rfqs/{ctx.figured.rfq.pk}/")]


@recipe("GET", "rfqs/<uuid:rfq_id>/quotes/")
def _quotes(ctx: Context) -> list[Call]:
    return [Call("GET", f"rfqs/{ctx.figured.rfq.pk}/quotes/")]


@recipe("POST", "rfqs/<uuid:rfq_id>/quotes/")
def _quote(ctx: Context) -> list[Call]:
    valid_until = (timezone.now().date() + timedelta(days=30)).isoformat()
    body = {"unit_price": "1.05", "quantity": 500, "lead_time_days": 4, "valid_until": valid_until}
    path = f"rfqs/{ctx.figured.rfq.pk}/quotes/"
    return [Call("POST", path, body, expect=(201,)), Call("POST", path, {"quantity": 0}, expect=(400,))]


@recipe("GET", "rfqs/<uuid:rfq_id>/quotes/<uuid:quote_id>/")
def _quote_get(ctx: Context) -> list[Call]:
    return [Call("GET", f"rfqs/{ctx.figured.rfq.pk}/quotes/{ctx.made['quote']}/")]


@recipe("POST", "rfqs/<uuid:rfq_id>/quotes/<uuid:quote_id>/withdraw/")
def _withdraw(ctx: Context) -> list[Call]:
    path = f"rfqs/{ctx.figured.rfq.pk}/quotes/{ctx.made['quote']}/withdraw/"
    return [Call("POST", path, {}), Call("POST", path, {}, expect=(409,))]


@recipe("GET", "purchase-orders/")
def _orders(ctx: Context) -> list[Call]:
    return [Call("GET", "purchase-orders/")]


@recipe("GET", "purchase-orders/<uuid:order_id>/")
def _order(ctx: Context) -> list[Call]:
    return [Call("GET", f"purchase-orders/{ctx.figured.order.pk}/")]


# Shared stock and transfers.


@recipe("GET", "shared-stock/")
def _shared(ctx: Context) -> list[Call]:
    return [
        Call("GET", "shared-stock/"),
        Call("GET", "shared-stock/?warehouse=WH-B"),
        Call("GET", "shared-stock/?band=plenty", expect=(400,)),
    ]


@recipe("GET", "shared-stock/regions/")
def _regions(ctx: Context) -> list[Call]:
    return [Call("GET", "shared-stock/regions/"), Call("GET", "shared-stock/regions/?sku=SKU-V")]


@recipe("GET", "transfers/")
def _transfers(ctx: Context) -> list[Call]:
    return [Call("GET", "transfers/"), Call("GET", "transfers/?status=lost", expect=(400,))]


@recipe("POST", "transfers/")
def _transfer_create(ctx: Context) -> list[Call]:
    out = {"sku": "SKU-V", "destination_location": "Dealer yard"}
    return [
        Call("POST", "transfers/", {**out, "source": "WH-E", "quantity": 2}, expect=(201,)),
        Call("POST", "transfers/", {**out, "source": "WH-B", "quantity": 1}, expect=(201,)),
        # Over-large: the refusal names what the caller may see of the source, and no more.
        Call("POST", "transfers/", {**out, "source": "WH-B", "quantity": 9_999_999}, expect=(400,)),
        Call("POST", "transfers/", {**out, "source": "WH-E", "quantity": 9_999_999}, expect=(400,)),
        Call("POST", "transfers/", out | {"sku": "SKU-W", "source": "WH-B", "quantity": 9_999_999}, expect=(400,)),
        Call("POST", "transfers/", out | {"source": "WH-X", "quantity": 1}, expect=(400,)),
    ]


def _transfer(ctx: Context) -> object:
    """The caller's own request (a distributor) or one staff filed (the ERP), approved by a person."""
    if "transfer" not in ctx.made:
        transfers = TransferRequest.objects.filter(tenant=ctx.world.tenant, status="requested")
        if ctx.audience != "erp":
            transfers = transfers.filter(requester=ctx.figured.callers[ctx.audience].partner)
        transfer = transfers.order_by("created_at").first()
        staff = Principal(
            tenant=ctx.world.tenant, user=ctx.world.planner.user, role="planner", api_key=ctx.world.planner.key
        )
        if transfer is None:
            transfer = transfer_request_create(
                principal=staff, tenant=ctx.world.tenant, sku="SKU-V", source="WH-E", destination="WH-B", quantity=3
            )
        transfer_approve(transfer=transfer, actor=staff, note="Fine by us.")
        ctx.made["transfer"] = transfer.pk
    return ctx.made["transfer"]


@recipe("GET", "transfers/<uuid:transfer_id>/")
def _transfer_get(ctx: Context) -> list[Call]:
    return [Call("GET", f"transfers/{_transfer(ctx)}/"), Call("GET", f"transfers/{uuid.uuid4()}/", expect=(404,))]


@recipe("POST", "transfers/<uuid:transfer_id>/cancel/")
def _transfer_cancel(ctx: Context) -> list[Call]:
    path = f"transfers/{_transfer(ctx)}/cancel/"
    return [Call("POST", path, {"note": "found it elsewhere"}), Call("POST", path, {}, expect=(409,))]


@recipe("POST", "transfers/<uuid:transfer_id>/ship/")
def _transfer_ship(ctx: Context) -> list[Call]:
    path = f"transfers/{_transfer(ctx)}/ship/"
    return [Call("POST", path, {}), Call("POST", path, {}, expect=(409,))]


@recipe("POST", "transfers/<uuid:transfer_id>/receive/")
def _transfer_receive(ctx: Context) -> list[Call]:
    return [Call("POST", f"transfers/{_transfer(ctx)}/receive/", {})]


# The ERP's stock, master data and pushes: it sees what staff see; scanned for staff names only.


def _master(kind: str) -> Recipe:
    def calls(ctx: Context) -> list[Call]:
        return [Call("GET", f"{kind}/"), Call("GET", f"{kind}/?ordering=nonsense", expect=(200, 400))]

    return calls


for _kind in ("warehouses", "categories", "skus", "lots", "movements", "stock"):
    recipe("GET", f"{_kind}/")(_master(_kind))


@recipe("GET", "warehouses/<uuid:warehouse_id>/")
def _warehouse(ctx: Context) -> list[Call]:
    return [Call("GET", f"warehouses/{ctx.figured.positions['B'].warehouse_id}/")]


@recipe("GET", "categories/<uuid:category_id>/")
def _category(ctx: Context) -> list[Call]:
    return [Call("GET", f"categories/{ctx.world.category.pk}/")]


@recipe("GET", "skus/<uuid:sku_id>/")
def _sku(ctx: Context) -> list[Call]:
    return [Call("GET", f"skus/{ctx.figured.positions['W'].sku_id}/")]


@recipe("GET", "stock/<int:position_id>/")
def _position(ctx: Context) -> list[Call]:
    return [Call("GET", f"stock/{_ids(ctx, label)['position']}/") for label in "EBW"]


@recipe("GET", "stock/<int:position_id>/daily-sales/")
def _daily(ctx: Context) -> list[Call]:
    return [Call("GET", f"stock/{_ids(ctx, 'W')['position']}/daily-sales/")]


def _push(what: str, good: dict, bad: dict) -> Recipe:
    def calls(ctx: Context) -> list[Call]:
        path = f"ingest/{what}/"
        return [
            Call("POST", path, [good], expect=(200, 201), headers={"HTTP_IDEMPOTENCY_KEY": f"{what}-good"}),
            Call("POST", path, [bad], expect=(400,), headers={"HTTP_IDEMPOTENCY_KEY": f"{what}-bad"}),
        ]

    return calls


_TODAY = timezone.now().date()
for _what, _good, _bad in (
    ("categories", {"code": "C-Z", "name": "Z"}, {"code": ""}),
    ("warehouses", {"code": "WH-Z", "name": "Z", "region": "r", "kind": "store"}, {"code": "WH-Y"}),
    ("skus", {"code": "SKU-Z", "name": "Z", "category": "snacks", "unit_cost": "1", "list_price": "2"}, {}),
    (
        "movements",
        {
            "kind": "receipt",
            "sku": "SKU-1",
            "warehouse": "WH-1",
            "quantity": 1,
            "occurred_at": timezone.now().isoformat(),
            "external_ref": "erp-1",
        },
        {"kind": "sale", "sku": "SKU-1"},
    ),
    ("signals", {"sku": "SKU-1", "day": _TODAY.isoformat(), "social_volume": 5}, {"sku": "SKU-1"}),
):
    recipe("POST", f"ingest/{_what}/")(_push(_what, _good, _bad))


# --- The scan -------------------------------------------------------------------------------------


def _route(endpoint: Endpoint) -> str:
    return endpoint.route.removeprefix(PREFIX)


def _sequence(kind: str) -> list[Endpoint]:
    """The endpoints the kind may call, in the order their recipes are written: a recipe may use
    what an earlier one made (an endpoint before its test ping, a quote before its withdrawal)."""
    order = list(RECIPES)
    granted = [e for e in ENDPOINTS if e.view.allowed(e.method, kind)]
    return sorted(granted, key=lambda e: order.index((e.method, _route(e))))


def _remember(ctx: Context, call: Call, body: object) -> None:
    if not isinstance(body, dict) or "id" not in body:
        return
    if call.path == "webhook-endpoints/":
        ctx.made["endpoint"] = body["id"]
    elif call.path.endswith("/test/"):
        ctx.made["delivery"] = body["id"]
    elif call.path.endswith("/quotes/"):
        ctx.made["quote"] = body["id"]


def test_every_route_a_partner_may_call_has_a_recipe() -> None:
    routed = {(e.method, _route(e)) for e in ENDPOINTS}
    missing = sorted(routed - RECIPES.keys())
    assert not missing, f"add a recipe to {__name__} for {missing}"
    assert not RECIPES.keys() - routed, f"recipes for routes no partner may call: {sorted(RECIPES.keys() - routed)}"
    assert len(routed) >= 50


@pytest.mark.parametrize("audience", AUDIENCES)
def test_no_answer_shows_a_partner_more_than_its_kind_and_grants(figured: Figured, audience: str) -> None:
    ctx = Context(figured=figured, audience=audience)
    caller = figured.callers[audience]
    scan = scan_for(figured, audience)
    assert scan.numbers or audience in ("erp", "distributor:exact")
    leaks, answered = [], 0
    for endpoint in _sequence(audience.split(":")[0]):
        for call in RECIPES[(endpoint.method, _route(endpoint))](ctx):
            url = f"/api/v1/tenants/{figured.world.tenant.slug}/{call.path}"
            response = caller.client.generic(
                call.method, url, data="" if call.body is None else _json(call.body), **_content(call)
            )
            where = f"{call.method} {call.path} ({response.status_code})"
            if response.status_code not in call.expect:
                leaks.append(f"{where}: expected {call.expect}: {response.content[:300]!r}")
            if not response.content:
                continue
            body = response.json()
            _remember(ctx, call, body)
            leaks += [f"{where}: {leak}" for leak in scan.leaks(body)]
            answered += 1
    assert answered >= 20
    assert not leaks, f"{audience} sees more than it may:\n" + "\n".join(leaks)


def _json(body: object) -> str:
    import json

    return json.dumps(body)


def _content(call: Call) -> dict:
    return {"content_type": "application/json", **call.headers}
