"""One structured line per request: its id (the caller's or a new one, echoed in ``X-Request-ID``),
tenant, kind of caller (never its key), route pattern, method, status and duration; the project's own
log messages written during the request carry the same id. Lines are captured as the JSON formatter
of ``LOGGING`` renders them in production.
"""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from django.test import Client

from core.observability.logs import formatter
from tests.support.calls import ok, url


@pytest.fixture
def json_lines():
    """The JSON lines the ``tripline`` loggers write while the test runs, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    tripline = logging.getLogger("tripline")
    level = tripline.level
    tripline.addHandler(handler)
    tripline.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    tripline.removeHandler(handler)
    tripline.setLevel(level)


def _requests(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["event"] == "request"]


def test_a_partners_request_is_one_line_with_its_id_tenant_kind_route_status_and_duration(world, json_lines) -> None:
    response = world.erp.client.get(url(world, "stock/"), HTTP_X_REQUEST_ID="erp-batch-42.7")
    ok(response)
    assert response["X-Request-ID"] == "erp-batch-42.7"
    (line,) = _requests(json_lines())
    assert line["request_id"] == "erp-batch-42.7"
    assert line["tenant"] == world.tenant.slug
    assert line["principal"] == "erp"  # the partner's kind
    assert line["route"] == "/api/v1/tenants/<slug:tenant_slug>/stock/"
    assert line["path"] == f"/api/v1/tenants/{world.tenant.slug}/stock/"
    assert (line["method"], line["status"], line["level"], line["logger"]) == ("GET", 200, "info", "tripline.requests")
    assert isinstance(line["duration_ms"], int | float)
    assert line["duration_ms"] > 0
    raw = json.dumps(line)
    assert world.erp.raw_key not in raw
    assert world.erp.key.prefix not in raw


def test_a_staff_members_line_names_the_role_and_a_refusal_its_status(world, json_lines) -> None:
    world.analyst.client.post(url(world, "ingest/movements/"), [], format="json", HTTP_X_REQUEST_ID="r-1")
    world.planner.client.get(url(world, f"alerts/{uuid.uuid4()}/"), HTTP_X_REQUEST_ID="r-2")
    lines = {line["request_id"]: line for line in _requests(json_lines())}
    assert (lines["r-1"]["principal"], lines["r-1"]["status"]) == ("analyst", 403)
    assert (lines["r-2"]["principal"], lines["r-2"]["status"]) == ("planner", 404)
    assert lines["r-2"]["route"] == "/api/v1/tenants/<slug:tenant_slug>/alerts/<uuid:alert_id>/"


def test_without_a_sane_request_id_one_is_made_and_echoed(db, json_lines) -> None:
    for sent in (None, "", "x" * 129, "has spaces", 'quote"d'):
        extra = {"HTTP_X_REQUEST_ID": sent} if sent is not None else {}
        response = Client().get("/healthz", **extra)
        made = response["X-Request-ID"]
        assert made != sent
        assert len(made) == 32
        int(made, 16)
    lines = _requests(json_lines())
    assert len({line["request_id"] for line in lines}) == 5
    assert all((line["tenant"], line["principal"], line["route"]) == (None, "anonymous", "/healthz") for line in lines)


def test_the_projects_own_messages_during_a_request_carry_its_id(world, json_lines, settings) -> None:
    # A wrong key is answered 401 and counted; the limits' Redis is out of reach, which
    # api/throttling.py logs as a warning on the tripline.api logger while the request runs.
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    response = Client().get(url(world, "stock/"), HTTP_AUTHORIZATION="Bearer tl_nope_nope", HTTP_X_REQUEST_ID="r-9")
    assert response.status_code == 401
    lines = json_lines()
    warning = next(line for line in lines if line["logger"] == "tripline.api")
    assert warning["level"] == "warning"
    assert warning["request_id"] == "r-9"
    assert "Redis did not answer" in warning["event"]
    (request,) = _requests(lines)
    assert (request["request_id"], request["status"], request["principal"], request["tenant"]) == (
        "r-9",
        401,
        "anonymous",
        None,
    )


def test_a_console_pages_line_names_the_tenant_and_the_role(world, json_lines) -> None:
    browser = Client()
    browser.force_login(world.planner.user)
    assert browser.get("/console/acme/heatmap/", HTTP_X_REQUEST_ID="console-1").status_code == 200
    (line,) = _requests(json_lines())
    assert (line["request_id"], line["tenant"], line["principal"]) == ("console-1", "acme", "planner")
    assert line["route"] == "/console/<slug:tenant_slug>/heatmap/"
