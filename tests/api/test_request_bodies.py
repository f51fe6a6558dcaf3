"""Request bodies the API cannot take: too large (413), nested too deeply (400), in the one format.

Generated over every write the access matrix routes: a body over Django's upload limit was a 500
(``RequestDataTooBig``) and one nested 50,000 deep a 500 (``RecursionError``). The bulk endpoints
read their body as a stream with their own byte limit, kept apart from Django's. The form and
multipart parsing a browser session goes through (its CSRF check reads the form) and the browsable
API are tried too, so they are no way around.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from api.parsers import MAX_JSON_DEPTH
from tenants.models import AuditEvent, Partner
from tests.support.documented import json_body_schema, operations
from tests.support.endpoints import ACCESS_TOKENS, Endpoint, assert_error, ids_in
from tests.support.ingest import push_rows

WRITES = [
    pytest.param(endpoint, json_body_schema(operation) is not None, id=str(endpoint))
    for endpoint, operation in operations()
    if endpoint.method in ("POST", "PUT", "PATCH") and "/ingest/" not in endpoint.route
]
BULK = [endpoint for endpoint, _ in operations() if "/ingest/" in endpoint.route]
DEEP = "[" * 50_000 + "]" * 50_000


def _send(world, endpoint: Endpoint, body: str | bytes, content_type: str = "application/json"):
    url = endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))
    token = next(token for token in ACCESS_TOKENS if endpoint.view.allowed(endpoint.method, token))
    return world.caller(token).client.generic(
        endpoint.method, url, data=body, content_type=content_type, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )


def test_the_generator_finds_the_writes() -> None:
    assert len(WRITES) >= 40
    assert len(BULK) == 5  # movements, signals and the three kinds of master data


def test_every_write_documents_its_413() -> None:
    writes = [operation for endpoint, operation in operations() if endpoint.method in ("POST", "PUT", "PATCH")]
    assert all("413" in operation["responses"] for operation in writes)


def test_three_mebibytes_to_partners_is_413(world) -> None:
    before = Partner.objects.count(), AuditEvent.objects.count()
    body = json.dumps({"name": "x" * (3 << 20), "kind": "erp"})
    url = f"/api/v1/tenants/{world.tenant.slug}/partners/"
    response = world.admin.client.post(url, body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert str(django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["error"]["message"]
    assert (Partner.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(("endpoint", "takes_a_body"), WRITES)
def test_a_body_over_the_upload_limit_is_413(endpoint: Endpoint, takes_a_body: bool, world, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024  # Django's own limit, made small to keep the test fast
    response = _send(world, endpoint, json.dumps({"note": "x" * 2048}))
    if takes_a_body:
        assert_error(response, 413, "payload_too_large")
    else:  # a write that reads no body never sees it: anything but a crash
        assert response.status_code < 500, response.content[:300]


@pytest.mark.parametrize(("endpoint", "takes_a_body"), WRITES)
def test_a_body_nested_too_deeply_is_a_parse_error(endpoint: Endpoint, takes_a_body: bool, world) -> None:
    for body in (DEEP, "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)):
        response = _send(world, endpoint, body)
        if takes_a_body:
            assert_error(response, 400, "parse_error")
            assert "nested" in response.json()["error"]["message"]
        else:
            assert response.status_code < 500, response.content[:300]


@pytest.mark.parametrize("endpoint", BULK, ids=str)
def test_bulk_bodies_nested_too_deeply_are_a_parse_error(endpoint: Endpoint, world) -> None:
    response = _send(world, endpoint, DEEP, "application/json")
    assert_error(response, 400, "parse_error")
    assert "nested too deeply" in response.json()["error"]["message"]
    response = _send(world, endpoint, '{"sku": "x"}\n' + DEEP + "\n", "application/x-ndjson")
    assert_error(response, 400, "parse_error")
    assert "nested too deeply" in response.json()["error"]["message"]
    assert "line 2" in response.json()["error"]["message"]


@pytest.mark.parametrize("endpoint", BULK, ids=str)
def test_bulk_bodies_keep_their_own_limit(endpoint: Endpoint, world, settings) -> None:
    # Over Django's limit but within INGEST_MAX_BYTES: read as a stream, so it gets through to row
    # validation (the rows are wrong on purpose: nothing is written either way).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    rows = json.dumps([{"code": "x" * 100}] * 40)
    response = _send(world, endpoint, rows)
    assert_error(response, 400, "invalid_rows")
    # Over INGEST_MAX_BYTES: 413 in the one format.
    settings.INGEST_MAX_BYTES = 1024
    response = _send(world, endpoint, rows)
    assert_error(response, 413, "payload_too_large")
    assert "1024" in response.json()["error"]["message"]


def test_a_large_bulk_push_is_accepted(world, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    rows = [
        {
            "kind": "receipt",
            "sku": world.sku.code,
            "warehouse": world.warehouse.code,
            "quantity": 1,
            "occurred_at": "2026-01-01T00:00:00Z",
            "external_ref": f"big-{index}",
        }
        for index in range(40)
    ]
    assert len(json.dumps(rows)) > 1024
    response = push_rows(world.erp, world.tenant.slug, "movements", rows)
    assert response.status_code == 201, response.content[:300]


# --- What a browser session goes through --------------------------------------------------------


@pytest.fixture
def session(world) -> APIClient:
    """A staff session as a browser has it: CSRF checks on (they read the form before the view does)."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.admin.user)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = "a" * 32  # a browser has one from an earlier page
    return client


def test_session_forms_are_refused_before_they_are_read(world, session) -> None:
    # DRF parses the body for the CSRF check with the API's parsers: JSON only, so a form or a
    # multipart body is a 415 however large or malformed, and Django's form parsing never runs.
    url = f"/api/v1/tenants/{world.tenant.slug}/partners/"
    before = Partner.objects.count()
    form = "application/x-www-form-urlencoded"
    too_many = "&".join(f"f{index}=1" for index in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    for content_type, body in (
        (form, "name=" + "x" * (3 << 20)),
        (form, too_many),
        ("multipart/form-data", "--x\r\n"),
        ("multipart/form-data; boundary=x", "--x\r\n" + "x" * (3 << 20)),
    ):
        assert_error(session.generic("POST", url, data=body, content_type=content_type), 415, "unsupported_media_type")
    assert Partner.objects.count() == before


def test_too_many_query_parameters_are_a_parse_error(world) -> None:
    query = "&".join(f"sku=S{index}" for index in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/alerts/?{query}")
    assert_error(response, 400, "parse_error")


def test_the_login_form_over_the_limits_is_4xx(world) -> None:
    # Django's own login view reads the form itself: its refusals go through handler400.
    client, url = APIClient(), "/api-auth/login/"
    form = "application/x-www-form-urlencoded"
    assert_error(client.post(url, "username=" + "x" * (3 << 20), content_type=form), 413, "payload_too_large")
    too_many = "&".join(f"f{index}=1" for index in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    assert_error(client.post(url, too_many, content_type=form), 400, "parse_error")
    assert_error(client.post(url, "--x\r\n", content_type="multipart/form-data"), 400, "parse_error")


def test_the_browsable_api_offers_the_callers_writes_only(world, session) -> None:
    # A list with writes the view declares per method (no serializer of its own) renders, with the
    # documented body in its raw-data form; an analyst, who may not create partners, gets no form.
    for path in ("partners/", "evaluations/", "transfer-lanes/", "supplier-offers/"):
        response = session.get(f"/api/v1/tenants/{world.tenant.slug}/{path}", HTTP_ACCEPT="text/html")
        assert response.status_code == 200, (path, response.content[:300])
    response = session.get(f"/api/v1/tenants/{world.tenant.slug}/partners/", HTTP_ACCEPT="text/html")
    assert b'name="_content"' in response.content
    raw_form = response.content.split(b'name="_content"', 1)[1].split(b"</textarea>", 1)[0]
    assert b"&quot;contact_email&quot;" in raw_form  # PartnerCreateInput's fields
    session.force_login(world.analyst.user)
    response = session.get(f"/api/v1/tenants/{world.tenant.slug}/partners/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b'name="_content"' not in response.content
