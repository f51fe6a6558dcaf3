"""Partners CRUD for admins: created with a guardian group, audited, deletable with their keys."""

from django.contrib.auth.models import Group

from tenants.models import ApiKey, AuditEvent, Partner


def test_admin_creates_lists_filters_updates_and_deletes_a_partner(world) -> None:
    base = f"/api/v1/tenants/{world.tenant.slug}/partners/"
    # Given an admin, when they create a supplier
    created = world.admin.client.post(
        base, {"name": "Backup Plastics", "kind": "supplier", "contact_email": "rfq@backup.example"}, format="json"
    )
    # Then it exists with the fields given, a guardian group of its own, and an audit row
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("name", "kind", "contact_email", "is_active")} == {
        "name": "Backup Plastics",
        "kind": "supplier",
        "contact_email": "rfq@backup.example",
        "is_active": True,
    }
    partner = Partner.objects.get(pk=body["id"])
    assert partner.tenant == world.tenant
    assert Group.objects.filter(partner=partner).exists()
    assert AuditEvent.objects.filter(tenant=world.tenant, action="partner.created", target_id=str(partner.pk)).exists()

    # The list filters by kind
    suppliers = world.planner.client.get(base, {"kind": "supplier"}).json()["results"]
    assert sorted(p["name"] for p in suppliers) == ["Backup Plastics", "acme Supplier"]

    # PATCH changes what it names and nothing else
    patched = world.admin.client.patch(f"{base}{partner.pk}/", {"is_active": False}, format="json")
    assert patched.status_code == 200
    assert patched.json()["is_active"] is False
    assert patched.json()["name"] == "Backup Plastics"

    # DELETE removes the partner, its keys and its group
    key_response = world.admin.client.post(f"{base}{partner.pk}/api-keys/", {"name": "erp"}, format="json")
    group_id = partner.group_id
    assert world.admin.client.delete(f"{base}{partner.pk}/").status_code == 204
    assert not Partner.objects.filter(pk=partner.pk).exists()
    assert not ApiKey.objects.filter(pk=key_response.json()["id"]).exists()
    assert not Group.objects.filter(pk=group_id).exists()


def test_partner_names_are_unique_per_tenant_only(world, other_world) -> None:
    name = world.supplier.partner.name
    response = world.admin.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/partners/", {"name": name, "kind": "erp"}, format="json"
    )
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]
    # Another tenant may use the same name
    response = other_world.admin.client.post(
        f"/api/v1/tenants/{other_world.tenant.slug}/partners/", {"name": name, "kind": "erp"}, format="json"
    )
    assert response.status_code == 201


def test_a_partners_kind_cannot_change(world) -> None:
    partner = world.supplier.partner
    response = world.admin.client.patch(
        f"/api/v1/tenants/{world.tenant.slug}/partners/{partner.pk}/", {"kind": "distributor"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"kind": [response.json()["error"]["fields"]["kind"][0]]}
    partner.refresh_from_db()
    assert partner.kind == "supplier"


def test_list_is_cursor_paginated(world) -> None:
    base = f"/api/v1/tenants/{world.tenant.slug}/partners/"
    for i in range(5):
        world.admin.client.post(base, {"name": f"Extra {i}", "kind": "erp"}, format="json")
    first = world.admin.client.get(base, {"page_size": 3}).json()
    assert len(first["results"]) == 3
    assert first["next"]
    second = world.admin.client.get(first["next"]).json()
    seen = [p["id"] for p in first["results"] + second["results"]]
    assert len(seen) == len(set(seen)) == 6
    everything = world.admin.client.get(base, {"page_size": 100}).json()["results"]
    assert len(everything) == 8  # three from the fixture, five made here
