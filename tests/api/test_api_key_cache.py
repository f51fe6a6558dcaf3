"""API keys kept in memory (API_KEY_CACHE_SECONDS): a change made by another process takes effect
within the bound; one made through the services, at once; grants are never kept.

"Another process" is a write straight to the table (``.update()``), as another gunicorn worker's
service would make it: nothing clears this process's copy, only time does.
"""

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from core.access.scope import warehouse_grant, warehouse_revoke
from tenants import services
from tenants.models import ApiKey, Membership, Partner, Role

BOUND = 1  # seconds: short, so the tests wait little


def _me(world, caller):
    return caller.client.get(f"/api/v1/tenants/{world.tenant.slug}/me/")


def _after_the_bound() -> None:
    time.sleep(BOUND + 0.1)


@pytest.fixture
def bound():
    with override_settings(API_KEY_CACHE_SECONDS=BOUND):
        yield


@pytest.mark.usefixtures("bound")
def test_a_key_revoked_elsewhere_is_refused_within_the_bound(world) -> None:
    assert _me(world, world.erp).status_code == 200  # read once: kept
    ApiKey.objects.filter(pk=world.erp.key.pk).update(revoked_at=timezone.now())
    # The price of the copy: until the bound, this process has not seen the revocation.
    assert _me(world, world.erp).status_code == 200
    _after_the_bound()
    refused = _me(world, world.erp)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


@pytest.mark.usefixtures("bound")
def test_a_key_revoked_through_the_api_is_refused_at_once(world) -> None:
    assert _me(world, world.erp).status_code == 200
    url = f"/api/v1/tenants/{world.tenant.slug}/partners/{world.erp.partner.pk}/api-keys/{world.erp.key.pk}/revoke/"
    assert world.admin.client.post(url).status_code == 200
    assert _me(world, world.erp).status_code == 401


@pytest.mark.usefixtures("bound")
def test_a_role_lowered_elsewhere_narrows_the_key_within_the_bound(world) -> None:
    partners = f"/api/v1/tenants/{world.tenant.slug}/partners/"
    body = {"kind": "supplier", "name": "Backup mill"}
    assert world.planner.client.post(partners, {**body, "name": "Mill 1"}, format="json").status_code == 403
    # An admin's key creates partners; lowered to analyst by another process, it no longer may.
    assert world.admin.client.post(partners, {**body, "name": "Mill 1"}, format="json").status_code == 201
    Membership.objects.filter(tenant=world.tenant, user=world.admin.user).update(role=Role.ANALYST)
    _after_the_bound()
    assert world.admin.client.post(partners, {**body, "name": "Mill 2"}, format="json").status_code == 403
    assert _me(world, world.admin).json()["role"] == Role.ANALYST


@pytest.mark.usefixtures("bound")
def test_a_role_changed_through_the_services_applies_at_once(world) -> None:
    assert _me(world, world.admin).json()["role"] == Role.ADMIN
    services.membership_set(tenant=world.tenant, user=world.admin.user, role=Role.PLANNER)
    assert _me(world, world.admin).json()["role"] == Role.PLANNER


@pytest.mark.usefixtures("bound")
def test_a_membership_removed_elsewhere_loses_the_tenant_within_the_bound(world) -> None:
    assert _me(world, world.analyst).status_code == 200
    Membership.objects.filter(tenant=world.tenant, user=world.analyst.user).delete()
    _after_the_bound()
    assert _me(world, world.analyst).status_code == 404


@pytest.mark.usefixtures("bound")
def test_a_partner_deactivated_elsewhere_is_refused_within_the_bound(world) -> None:
    assert _me(world, world.distributor).status_code == 200
    Partner.objects.filter(pk=world.distributor.partner.pk).update(is_active=False)
    _after_the_bound()
    refused = _me(world, world.distributor)
    assert refused.status_code == 401
    assert "deactivated" in refused.json()["error"]["message"]


@pytest.mark.usefixtures("bound")
def test_a_kept_key_is_refused_at_its_expiry_within_the_bound(world) -> None:
    ApiKey.objects.filter(pk=world.erp.key.pk).update(expires_at=timezone.now() + timedelta(seconds=0.4))
    assert _me(world, world.erp).status_code == 200  # kept, with its expiry
    time.sleep(0.5)  # past the expiry, inside the bound: the clock is read on every request
    refused = _me(world, world.erp)
    assert refused.status_code == 401
    assert "expired" in refused.json()["error"]["message"]


@pytest.mark.usefixtures("bound")
def test_a_wrong_secret_with_a_kept_prefix_is_refused(world) -> None:
    assert _me(world, world.erp).status_code == 200  # the prefix's key is kept
    prefix = world.erp.raw_key.split("_")[1]
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Bearer tl_{prefix}_{'x' * 43}")
    assert forged.get(f"/api/v1/tenants/{world.tenant.slug}/me/").status_code == 401


@pytest.mark.usefixtures("bound")
def test_a_grant_removed_narrows_the_shared_view_at_once(world) -> None:
    url = f"/api/v1/tenants/{world.tenant.slug}/shared-stock/"
    warehouse_grant(partner=world.distributor.partner, warehouses=[world.warehouse])
    rows = world.distributor.client.get(url).json()["results"]
    assert [row["warehouse"] for row in rows] == [world.warehouse.code]
    warehouse_revoke(partner=world.distributor.partner, warehouse=world.warehouse)
    assert world.distributor.client.get(url).json()["results"] == []


@override_settings(API_KEY_CACHE_SECONDS=0)
def test_with_no_copy_a_revocation_elsewhere_is_refused_at_once(world) -> None:
    assert _me(world, world.erp).status_code == 200
    ApiKey.objects.filter(pk=world.erp.key.pk).update(revoked_at=timezone.now())
    assert _me(world, world.erp).status_code == 401
