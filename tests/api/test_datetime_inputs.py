"""Every date-time the API reads refuses a UTC offset PostgreSQL cannot store: a 400 naming it.

Python parses offsets up to ±23:59:59.999999; PostgreSQL stores up to ±15:59:59 in whole
seconds, and anything else reaching a query was a 500. The cases are generated from the OpenAPI
document, which drf-spectacular builds from the views' own filter sets and request serializers:
every query parameter and every request-body field of ``format: date-time``, for each caller the
operation grants. A new date-time filter or input is covered as soon as it is routed.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from core.timestamps import UTC_OFFSET_MESSAGE
from tests.support.documented import json_body_schema, operations, resolve
from tests.support.endpoints import ACCESS_TOKENS, Endpoint, ids_in
from tests.support.ingest import push_rows

# Offsets Python parses and PostgreSQL refuses: beyond ±15:59, or not whole minutes.
UNSTORABLE = ["-22:35", "+16:00", "+23:59", "+05:30:15", "-03:00:00.500000"]
# The widest offsets it stores, and real ones.
STORABLE = ["-15:59", "+15:59", "+14:00", "-12:00", "Z"]


def _datetime_fields(schema: dict, prefix: str = "") -> list[str]:
    """Dotted paths of the date-time fields of a request body schema (array items as ``1``, the first row)."""
    schema = resolve(schema)
    if schema.get("type") == "array":
        return _datetime_fields(schema["items"], f"{prefix}1.")
    found = []
    for name, field in schema.get("properties", {}).items():
        if field.get("format") == "date-time":
            found.append(prefix + name)
        elif "$ref" in field or field.get("type") in ("object", "array"):
            found += _datetime_fields(field, f"{prefix}{name}.")
    return found


def _cases() -> tuple[list, list]:
    params, bodies = [], []
    for endpoint, operation in operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"].get("format") == "date-time":
                params.append(pytest.param(endpoint, parameter["name"], id=f"{endpoint} ?{parameter['name']}"))
        body = json_body_schema(operation)
        for field in _datetime_fields(body) if body else []:
            bodies.append(pytest.param(endpoint, field, id=f"{endpoint} {field}"))
    return params, bodies


PARAMS, BODIES = _cases()


def test_the_generator_finds_the_known_date_times() -> None:
    # Guards the generator: these are the date-times the API read when this test was written.
    assert {param.id for param in PARAMS} >= {
        "GET /api/v1/tenants/<slug:tenant_slug>/movements/ ?occurred_before",
        "GET /api/v1/tenants/<slug:tenant_slug>/movements/ ?occurred_after",
        "GET /api/v1/tenants/<slug:tenant_slug>/alerts/ ?opened_since",
        "GET /api/v1/tenants/<slug:tenant_slug>/anomalies/ ?created_at__lte",
        "GET /api/v1/tenants/<slug:tenant_slug>/anomalies/ ?created_at__gte",
    }
    assert {param.id for param in BODIES} >= {
        "POST /api/v1/tenants/<slug:tenant_slug>/alerts/<uuid:alert_id>/snooze/ until",
        "POST /api/v1/tenants/<slug:tenant_slug>/me/api-keys/ expires_at",
        "POST /api/v1/tenants/<slug:tenant_slug>/partners/<uuid:partner_id>/api-keys/ expires_at",
        "POST /api/v1/tenants/<slug:tenant_slug>/ingest/movements/ 1.occurred_at",
    }


def _offset_errors(response, field: str) -> list[str]:
    assert response.status_code < 500, response.content[:300]
    fields = response.json()["error"]["fields"] if response.status_code >= 400 else {}
    return [message for message in fields.get(field, []) if message == UTC_OFFSET_MESSAGE]


@pytest.mark.parametrize(("endpoint", "name"), PARAMS)
def test_date_time_filters_refuse_unstorable_offsets(endpoint: Endpoint, name: str, world) -> None:
    url = endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))
    granted = [token for token in ACCESS_TOKENS if endpoint.view.allowed(endpoint.method, token)]
    for token in granted:  # partners too, where the list is theirs (alerts/)
        client = world.caller(token).client
        for offset in UNSTORABLE:
            response = client.get(url, {name: f"2026-01-01T00:00:00{offset}"})
            assert response.status_code == 400, (token, offset, response.content[:300])
            error = response.json()["error"]
            assert error["code"] == "validation_error"
            assert error["fields"] == {name: [UTC_OFFSET_MESSAGE]}, (token, offset)
        for offset in STORABLE:
            response = client.get(url, {name: f"2026-01-01T00:00:00{offset}"})
            assert response.status_code == 200, (token, offset, response.content[:300])


@pytest.mark.parametrize(("endpoint", "field"), BODIES)
def test_date_time_inputs_refuse_unstorable_offsets(endpoint: Endpoint, field: str, world) -> None:
    url = endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))
    token = next(token for token in ACCESS_TOKENS if endpoint.view.allowed(endpoint.method, token))
    *parents, name = field.split(".")
    error_field = "rows." + field if parents else field  # a bulk body's errors are per row

    def send(value: str):
        body: object = {name: value}
        if parents:  # a bulk body: a list of rows
            body = [body]
        return world.caller(token).client.generic(
            endpoint.method,
            url,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )

    moment = (timezone.now() + timedelta(days=1)).replace(microsecond=0, tzinfo=None).isoformat()
    for offset in UNSTORABLE:
        response = send(moment + offset)
        assert response.status_code == 400, (offset, response.content[:300])
        assert _offset_errors(response, error_field) == [UTC_OFFSET_MESSAGE], (offset, response.content[:300])
    for offset in STORABLE:
        assert _offset_errors(send(moment + offset), error_field) == [], offset


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_ingested_rows_refuse_unstorable_offsets_in_every_format(world, fmt: str) -> None:
    rows = [
        {
            "kind": "receipt",
            "sku": world.sku.code,
            "warehouse": world.warehouse.code,
            "quantity": 1,
            "occurred_at": f"2026-01-01T00:00:00{offset}",
            "external_ref": f"offset-{index}",
        }
        for index, offset in enumerate(["+01:00", *UNSTORABLE, "-15:59"], start=1)
    ]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        body: object = out.getvalue()
    else:
        body = rows
    response = push_rows(world.erp, world.tenant.slug, "movements", body, fmt=fmt)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    # Rows 2 to 6 carry the unstorable offsets; rows 1 and 7 are fine, and nothing was written.
    assert error["fields"] == {f"rows.{row}.occurred_at": [UTC_OFFSET_MESSAGE] for row in range(2, 7)}
    assert world.position.movements.filter(external_ref__startswith="offset-").count() == 0
