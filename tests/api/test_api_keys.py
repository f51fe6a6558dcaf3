"""API keys: shown once, stored as a hash, revocable, expiring, never in the admin."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tenants.models import ApiKey


def _create_key(world, **body):
    url = f"/api/v1/tenants/{world.tenant.slug}/partners/{world.erp.partner.pk}/api-keys/"
    return world.admin.client.post(url, {"name": "nightly sync", **body}, format="json")


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_secret_is_shown_once_and_works(world) -> None:
    response = _create_key(world)
    assert response.status_code == 201
    raw = response.json()["key"]
    assert raw.startswith("tl_")
    assert raw.split("_")[1] == response.json()["prefix"]
    me = _bearer(raw).get(f"/api/v1/tenants/{world.tenant.slug}/me/")
    assert me.status_code == 200
    assert me.json()["partner"]["id"] == str(world.erp.partner.pk)
    assert me.json()["kind"] == "partner"
    # Listing and reading never carry the secret again
    listing = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/partners/{world.erp.partner.pk}/api-keys/")
    assert raw not in listing.content.decode()
    assert all("key" not in row for row in listing.json()["results"])


def test_the_database_never_holds_the_secret(world) -> None:
    raw = _create_key(world).json()["key"]
    secret = raw.split("_", 2)[2]
    _bearer(raw).get(f"/api/v1/tenants/{world.tenant.slug}/me/")  # a use writes last_used_at
    # Every row of every table, as text: the secret appears nowhere.
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}" AS t WHERE t::text LIKE %s', [f"%{secret}%"])
            assert cursor.fetchone()[0] == 0, table
    assert len(tables) > 10


def test_revoked_key_is_refused_at_once(world) -> None:
    response = _create_key(world)
    raw, key_id = response.json()["key"], response.json()["id"]
    url = f"/api/v1/tenants/{world.tenant.slug}/partners/{world.erp.partner.pk}/api-keys/{key_id}/revoke/"
    revoked = world.admin.client.post(url)
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    again = world.admin.client.post(url)  # harmless twice, and the time does not move
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    refused = _bearer(raw).get(f"/api/v1/tenants/{world.tenant.slug}/me/")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


def test_expiry_is_enforced(world) -> None:
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = _create_key(world, expires_at=past)
    assert response.status_code == 400
    assert "expires_at" in response.json()["error"]["fields"]

    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    response = _create_key(world, expires_at=soon)
    assert response.status_code == 201
    raw = response.json()["key"]
    ApiKey.objects.filter(pk=response.json()["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _bearer(raw).get(f"/api/v1/tenants/{world.tenant.slug}/me/").status_code == 401


def test_default_expiry_and_last_used(world, settings) -> None:
    response = _create_key(world)
    key = ApiKey.objects.get(pk=response.json()["id"])
    assert timedelta(days=settings.API_KEY_DEFAULT_TTL_DAYS - 1) < key.expires_at - timezone.now()
    assert key.last_used_at is None
    _bearer(response.json()["key"]).get(f"/api/v1/tenants/{world.tenant.slug}/me/")
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert timezone.now() - key.last_used_at < timedelta(seconds=30)


def test_staff_user_keys_act_with_the_users_role(world) -> None:
    # An analyst makes a script key for itself; with it, it is still an analyst.
    response = world.analyst.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/me/api-keys/", {"name": "report script"}, format="json"
    )
    assert response.status_code == 201
    script = _bearer(response.json()["key"])
    me = script.get(f"/api/v1/tenants/{world.tenant.slug}/me/").json()
    assert (me["kind"], me["role"], me["user"]["username"]) == ("staff", "analyst", world.analyst.user.username)
    denied = script.post(f"/api/v1/tenants/{world.tenant.slug}/partners/", {"name": "x", "kind": "erp"}, format="json")
    assert denied.status_code == 403
    # A user's own key list holds only their keys
    mine = world.analyst.client.get(f"/api/v1/tenants/{world.tenant.slug}/me/api-keys/").json()["results"]
    assert {row["name"] for row in mine} == {"analyst script", "report script"}


def test_partner_key_is_bound_to_its_tenant(world, other_world) -> None:
    tenants = world.supplier.client.get("/api/v1/tenants/").json()
    assert tenants == [{"slug": world.tenant.slug, "name": world.tenant.name, "access": "supplier"}]


def test_admin_site_never_shows_secret_or_hash(world, client) -> None:
    from django.contrib.auth import get_user_model

    raw = _create_key(world).json()["key"]
    key = ApiKey.objects.get(prefix=raw.split("_")[1])
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(superuser)
    for url in ("/admin/tenants/apikey/", f"/admin/tenants/apikey/{key.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert key.prefix in html
        assert raw.split("_", 2)[2] not in html
        assert key.secret_hash not in html
