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


def test_values_of_another_json_type_are_refused_not_guessed_at(world, counts) -> None:
    before = counts()
    body = {"name": 5, "kind": "erp", "is_active": "yes"}
    error = assert_error(world.admin.client.post(_partners_url(world), body, format="json"), 400, "validation_error")
    assert error["fields"] == {"name": ["Expected a string."], "is_active": ["Expected true or false."]}
    policy = f"/api/v1/tenants/{world.tenant.slug}/transfer-policy/"
    for body, field in (
        ({"low_cover_days": "12"}, "low_cover_days"),  # a number as text
        ({"cost_per_unit_km": 0.5}, "cost_per_unit_km"),  # a decimal travels as a string
        ({"cost_per_unit_km": "1e3"}, "cost_per_unit_km"),  # in plain notation
    ):
        refused = assert_error(world.admin.client.patch(policy, body, format="json"), 400, "validation_error")
        assert list(refused["fields"]) == [field], body
    keys = f"/api/v1/tenants/{world.tenant.slug}/me/api-keys/"
    naive = assert_error(
        world.admin.client.post(keys, {"name": "k", "expires_at": "2099-01-01T00:00:00"}, format="json"),
        400,
        "validation_error",
    )
    assert "offset" in naive["fields"]["expires_at"][0]
    assert counts() == before
    # JSON has one number type: 30.0 is the whole number 30, for a count and a decimal alike.
    body = {"low_cover_days": 30.0, "cost_per_unit_km": "0.25", "shortage_penalty_per_unit": 12.0}
    accepted = world.admin.client.patch(policy, body, format="json")
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["low_cover_days"], accepted.json()["shortage_penalty_per_unit"]) == (30, "12.0000")


def test_page_size_is_a_whole_number_from_1_to_1000(world) -> None:
    for value in ("0", "1001", "ten", "-5", "2.5"):
        response = world.admin.client.get(_partners_url(world), {"page_size": value})
        assert assert_error(response, 400, "validation_error")["fields"] == {
            "page_size": ["A whole number from 1 to 1000."]
        }
    page = world.admin.client.get(_partners_url(world), {"page_size": "2"}).json()
    assert len(page["results"]) == 2
    assert page["next"]


def test_query_filters_read_one_notation_and_refuse_the_rest(world) -> None:
    base = f"/api/v1/tenants/{world.tenant.slug}/"
    for path, params in (
        ("alerts/", {"active": "null"}),  # django-filter read this as "no filter"
        ("alerts/", {"active": ""}),
        ("partners/", {"is_active": "1"}),
        ("partners/", {"kind": ""}),
        ("lots/", {"expires_before": "10/25/2026"}),  # a date is YYYY-MM-DD
        ("movements/", {"occurred_after": "2026-01-01"}),  # a date-time has a time and an offset
        ("supplier-offers/", {"supplier_id": "0" * 32}),  # a UUID has its dashes
        ("indicators/", {"health_index_lt": ""}),
        ("indicators/", {"health_index_lt": "0.5"}),  # a whole number
        ("supplier-offers/", {"rank": "1.5"}),
    ):
        response = world.admin.client.get(base + path, params)
        error = assert_error(response, 400, "validation_error")
        assert list(error["fields"]) == list(params), (path, params)
    assert world.admin.client.get(base + "alerts/", {"active": "true"}).status_code == 200
    assert world.admin.client.get(base + "partners/", {"name": ""}).status_code == 200  # not a filter: ignored
    unknown_endpoint = {"endpoint": "00000000-0000-0000-0000-000000000000"}
    assert world.admin.client.get(base + "webhook-deliveries/", unknown_endpoint).json()["results"] == []
