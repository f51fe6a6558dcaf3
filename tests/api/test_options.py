"""``OPTIONS`` on every API route, generated from the URL patterns: never a 500, always JSON.

A caller granted something on a route learns the methods it may use there and, for its writes,
the fields of the documented request body; a caller granted nothing gets the same 403 as for any
other method. A new route is covered as soon as it is routed.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from api.tenant_scope import TenantScopedView
from tests.support.endpoints import ENDPOINTS, ID_SOURCES, Endpoint, assert_error, ids_in, walk_routes

PARTNER_KINDS = ["supplier", "distributor", "erp"]
ROUTES = sorted({endpoint.route: endpoint for endpoint in ENDPOINTS}.values(), key=lambda endpoint: endpoint.route)
OTHER_API_ROUTES = sorted(
    route
    for route, callback in walk_routes(get_resolver().url_patterns)
    if route.startswith("api/") and not issubclass(getattr(callback, "view_class", object), TenantScopedView)
)


def _options(client, route: Endpoint, url: str):
    response = client.options(url)
    assert response.status_code < 500, (str(route), response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), (str(route), response["Content-Type"])
    return response


def test_every_route_is_covered() -> None:
    names = {route.view.__name__ for route in ROUTES}
    assert {"EvaluationListView", "OfferListView", "LaneListView", "PlanListView", "GrantListView"} <= names
    assert len(ROUTES) >= 80
    assert "api/v1/tenants/" in OTHER_API_ROUTES


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.route)
def test_options_describes_what_the_caller_may_do(route: Endpoint, world) -> None:
    url = route.url(tenant_slug=world.tenant.slug, **ids_in(world, route))
    for access in ["admin", *PARTNER_KINDS]:
        response = _options(world.caller(access).client, route, url)
        granted = sorted(method for method in route.view.access if route.view.allowed(method, access))
        if not granted:
            assert_error(response, 403, "permission_denied")
            continue
        assert response.status_code == 200, (access, response.content[:300])
        body = response.json()
        assert set(body["allowed_methods"]) == {*granted, "OPTIONS", *(["HEAD"] if "GET" in granted else [])}
        # Only writes the caller may use are described, each with the fields it reads.
        actions = body.get("actions", {})
        assert set(actions) <= {"POST", "PUT", "PATCH"} & set(granted), access
        for fields in actions.values():
            assert fields
            assert all("type" in field for field in fields.values())


@pytest.mark.parametrize("route", OTHER_API_ROUTES)
def test_options_on_the_other_api_routes(route: str, world) -> None:
    response = world.admin.client.options("/" + route)
    assert response.status_code < 500, (route, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), (route, response["Content-Type"])


def test_options_names_the_fields_of_the_documented_body(world) -> None:
    # partners/ documents PartnerCreateInput for POST: its fields, not those of the partner rows it lists.
    body = world.admin.client.options(f"/api/v1/tenants/{world.tenant.slug}/partners/").json()
    assert set(body["actions"]["POST"]) == {"name", "kind", "contact_email", "description", "is_active"}
    assert body["actions"]["POST"]["kind"]["type"] == "choice"
    # A supplier may not create partners: nothing of that body is shown to it.
    body = world.supplier.client.options(f"/api/v1/tenants/{world.tenant.slug}/rfqs/").json()
    assert "actions" not in body or "POST" not in body["actions"]


def test_each_alert_action_describes_its_own_body(world) -> None:
    # The four actions share one view class; each documents (and describes) its own input.
    alert_url = f"/api/v1/tenants/{world.tenant.slug}/alerts/{ID_SOURCES['alert_id'](world, 'alerts/')}/"
    fields = {
        action: set(world.admin.client.options(f"{alert_url}{action}/").json()["actions"]["POST"])
        for action in ("acknowledge", "resolve", "dismiss", "snooze")
    }
    assert fields == {
        "acknowledge": {"note"},
        "resolve": {"note"},
        "dismiss": {"reason", "note"},
        "snooze": {"until", "note"},
    }
