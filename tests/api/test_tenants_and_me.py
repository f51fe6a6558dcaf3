"""The caller's tenants and who the caller is in one of them."""

from tests.support.documented import assert_documented


def test_staff_session_lists_its_tenants_with_roles(world, other_world, client) -> None:
    from tenants import services

    services.membership_set(tenant=other_world.tenant, user=world.planner.user, role="analyst")
    client.force_login(world.planner.user)
    assert client.get("/api/v1/tenants/").json() == [
        {"slug": "acme", "name": "Tenant acme", "access": "planner"},
        {"slug": "globex", "name": "Tenant globex", "access": "analyst"},
    ]
    # and in each it has the role of that tenant
    assert client.get("/api/v1/tenants/globex/me/").json()["role"] == "analyst"
    assert client.get("/api/v1/tenants/acme/me/").json()["role"] == "planner"


def test_me_for_each_kind_of_caller(world) -> None:
    url = f"/api/v1/tenants/{world.tenant.slug}/me/"
    for role in ("admin", "planner", "analyst"):
        me = world.caller(role).client.get(url).json()
        assert (me["kind"], me["role"], me["partner"]) == ("staff", role, None)
        assert me["api_key"]["prefix"] == world.caller(role).key.prefix
    for kind in ("supplier", "distributor", "erp"):
        me = world.caller(kind).client.get(url).json()
        assert (me["kind"], me["role"], me["user"]) == ("partner", None, None)
        assert me["partner"] == {
            "id": str(world.caller(kind).partner.pk),
            "name": world.caller(kind).partner.name,
            "kind": kind,
        }
        assert me["tenant"]["slug"] == world.tenant.slug


def test_anonymous_gets_401_on_tenant_list(anonymous_client) -> None:
    response = anonymous_client.get("/api/v1/tenants/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_request_without_credentials_is_told_what_to_send(world, anonymous_client) -> None:
    # No Authorization header, and one of a scheme the API does not take: both are no credentials.
    basic = {"HTTP_AUTHORIZATION": "Basic YWRtaW46cHc="}
    for path, headers in (("/api/v1/tenants/", {}), (f"/api/v1/tenants/{world.tenant.slug}/me/", basic)):
        response = anonymous_client.get(path, **headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="tripline"'
        error = response.json()["error"]
        assert error["code"] == "not_authenticated"
        assert "`Authorization: Bearer tl_" in error["message"]
        assert "/api-auth/login/" in error["message"]


def test_deactivated_partner_is_locked_out(world) -> None:
    partner = world.distributor.partner
    world.admin.client.patch(
        f"/api/v1/tenants/{world.tenant.slug}/partners/{partner.pk}/", {"is_active": False}, format="json"
    )
    response = world.distributor.client.get(f"/api/v1/tenants/{world.tenant.slug}/me/")
    assert response.status_code == 401
    assert "deactivated" in response.json()["error"]["message"]


def test_me_matches_its_documented_shape_for_a_user_without_an_email(world) -> None:
    # A staff user need not have an email address on file: me/ says "", which the document allows.
    type(world.admin.user).objects.filter(pk=world.admin.user.pk).update(email="")
    for caller in (world.admin, world.supplier):
        response = caller.client.get(f"/api/v1/tenants/{world.tenant.slug}/me/")
        assert response.status_code == 200
        assert_documented(response, "GET", "/api/v1/tenants/{tenant_slug}/me/")
    assert world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/me/").json()["user"]["email"] == ""
