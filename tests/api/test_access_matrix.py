"""Tenant isolation and access, as a matrix generated from the URL patterns.

Every tenant-scoped route and every method its view declares is tried: with another tenant's
slug, with another tenant's object ids, with each role or partner kind the view does not grant,
and with no, malformed, revoked or expired credentials. A new endpoint is covered as soon as it
is routed; a new id in a path needs one line in ``ID_SOURCES`` (tests/support/endpoints.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.models import ApiKey
from tests.support.endpoints import ACCESS_TOKENS, ENDPOINTS, Endpoint, assert_error, call, ids_in
from tests.support.world import TenantWorld


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
