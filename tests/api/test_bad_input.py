"""Bad input: a clear 4xx in the one error format, and nothing written."""

import pytest

from tenants.models import ApiKey, AuditEvent, Partner


@pytest.fixture
def counts():
    def snapshot() -> tuple[int, int, int]:
        return Partner.objects.count(), ApiKey.objects.count(), AuditEvent.objects.count()

    return snapshot


def _partners_url(world) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/partners/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_malformed_json(world, counts) -> None:
    before = counts()
    response = world.admin.client.post(_partners_url(world), '{"name": "x", "kind": ', content_type="application/json")
    error = assert_error(response, 400, "parse_error")
    assert "JSON" in error["message"]
    assert counts() == before


def test_json_that_is_not_an_object(world, counts) -> None:
    before = counts()
    response = world.admin.client.post(_partners_url(world), "[1, 2]", content_type="application/json")
    assert_error(response, 400, "validation_error")
    assert counts() == before


def test_wrong_content_type(world, counts) -> None:
    # 415 is the precise 4xx for a body in a type the endpoint does not read.
    before = counts()
    response = world.admin.client.post(_partners_url(world), "name=x&kind=erp", content_type="text/plain")
    error = assert_error(response, 415, "unsupported_media_type")
    assert "text/plain" in error["message"]
    assert counts() == before


def test_unknown_fields_are_refused(world, counts) -> None:
    before = counts()
    response = world.admin.client.post(
        _partners_url(world), {"name": "x", "kind": "erp", "tenant": "globex", "colour": "red"}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == {"tenant", "colour"}
    assert "Unknown field" in error["fields"]["colour"][0]
    assert counts() == before


def test_over_long_strings(world, counts) -> None:
    before = counts()
    response = world.admin.client.post(_partners_url(world), {"name": "x" * 201, "kind": "erp"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["fields"]) == ["name"]
    assert "200" in error["fields"]["name"][0]
    key_url = f"/api/v1/tenants/{world.tenant.slug}/partners/{world.erp.partner.pk}/api-keys/"
    response = world.admin.client.post(key_url, {"name": "k" * 101}, format="json")
    assert_error(response, 400, "validation_error")
    assert counts() == before


def test_wrong_types_and_choices(world, counts) -> None:
    before = counts()
    response = world.admin.client.post(
        _partners_url(world), {"name": ["x"], "kind": "wholesaler", "is_active": "maybe"}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == {"name", "kind", "is_active"}
    assert counts() == before


def test_bad_ids_and_unknown_paths_are_404_in_the_format(world) -> None:
    assert_error(world.admin.client.get(f"{_partners_url(world)}not-a-uuid/"), 404, "not_found")
    assert_error(world.admin.client.get("/api/v1/nothing-here/"), 404, "not_found")


def test_method_not_allowed(world) -> None:
    assert_error(world.admin.client.put(_partners_url(world), {}, format="json"), 405, "method_not_allowed")
