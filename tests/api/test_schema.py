"""The OpenAPI schema: valid, warning-free, documenting the error format; the docs pages load."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import get_resolver
from openapi_spec_validator import validate
from rest_framework import serializers

from api.inventory.bulk_body import IDEMPOTENCY_KEY_PATTERN
from api.schema import role_shapes
from api.tenant_scope import TenantScopedView
from core.alerts.signal_ingestion import SIGNAL_COLUMNS
from core.inventory.ingestion import MOVEMENT_COLUMNS
from core.inventory.master_ingestion import SPECS
from tests.support.documented import openapi_document
from tests.support.endpoints import walk_routes


def test_schema_validates_without_warnings(tmp_path) -> None:
    out = tmp_path / "schema.yml"
    # --fail-on-warn turns any generation warning into an error: this fails if one appears.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(out), stdout=StringIO(), stderr=StringIO()
    )
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/tenants/{tenant_slug}/partners/" in schema["paths"]


def test_every_operation_documents_its_errors_in_the_one_format(client) -> None:
    schema = yaml.safe_load(client.get("/api/schema/").content)
    error = schema["components"]["schemas"]["ErrorResponse"]
    assert error["properties"]["error"]["$ref"] == "#/components/schemas/ErrorBody"
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"code", "message", "fields"}
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) >= 15
    for path, method, operation in operations:
        for code in ("400", "401", "403", "404", "500"):
            ref = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorResponse", (path, method, code)
    assert {"apiKey", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_docs_pages_load_without_a_cdn(client) -> None:
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        assert b"cdn.jsdelivr" not in page.content
        assert b"/static/drf_spectacular_sidecar/" in page.content


# --- What tools read: the document is valid OpenAPI 3.1 and says what the API does ----------------


def _walk(node: object, path: str = "") -> list[tuple[str, dict]]:
    """Every object in the document, with where it is."""
    found = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found += _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _walk(value, f"{path}/{index}")
    return found


def test_the_document_is_valid_openapi_3_1() -> None:
    schema = openapi_document()
    assert schema["openapi"].startswith("3.1")
    validate(schema)  # openapi-spec-validator: what client generators check first


def test_the_document_never_says_nullable_which_openapi_3_1_does_not_have() -> None:
    # 3.1 is JSON Schema: a value that may be null has "null" among its types.
    assert [path for path, node in _walk(openapi_document()) if "nullable" in node] == []
    pages = [
        schema for name, schema in openapi_document()["components"]["schemas"].items() if name.startswith("Paginated")
    ]
    assert len(pages) >= 20
    assert {page["properties"]["next"]["type"][1] for page in pages} == {"null"}


def test_every_json_body_refuses_unknown_fields_as_the_api_does() -> None:
    schemas = openapi_document()["components"]["schemas"]
    bodies = []
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                body = content["schema"]
                body = body.get("items", body)  # a JSON array of rows or offers
                bodies.append((method, path, schemas[body["$ref"].rsplit("/", 1)[1]]))
    assert len(bodies) >= 40
    assert [(method, path) for method, path, body in bodies if body.get("additionalProperties") is not False] == []


def test_webhook_entries_list_what_the_receiver_answers_not_the_apis_errors() -> None:
    webhooks = openapi_document()["webhooks"]
    assert len(webhooks) >= 20
    for name, item in webhooks.items():
        assert set(item["post"]["responses"]) == {"200", "default"}, name


def test_lists_answered_whole_are_documented_as_arrays() -> None:
    paths = openapi_document()["paths"]
    for path, method in (("alert-policies/rules/", "get"), ("transfer-plans/{plan_id}/accept/", "post")):
        response = paths[f"/api/v1/tenants/{{tenant_slug}}/{path}"][method]["responses"]["200"]
        assert response["content"]["application/json"]["schema"]["type"] == "array", path


def test_each_alert_action_documents_its_own_body() -> None:
    paths = openapi_document()["paths"]
    bodies = {
        action: paths[f"/api/v1/tenants/{{tenant_slug}}/alerts/{{alert_id}}/{action}/"]["post"]["requestBody"]
        for action in ("acknowledge", "resolve", "dismiss", "snooze")
    }
    refs = {action: body["content"]["application/json"]["schema"]["$ref"] for action, body in bodies.items()}
    assert refs == {
        "acknowledge": "#/components/schemas/AlertNoteInputRequest",
        "resolve": "#/components/schemas/AlertNoteInputRequest",
        "dismiss": "#/components/schemas/AlertDismissInputRequest",
        "snooze": "#/components/schemas/AlertSnoozeInputRequest",
    }


def test_bulk_rows_are_documented_with_the_columns_the_parsers_read() -> None:
    paths, schemas = openapi_document()["paths"], openapi_document()["components"]["schemas"]
    columns = {
        "movements": MOVEMENT_COLUMNS,
        "signals": SIGNAL_COLUMNS,
        **{name: spec.columns for name, spec in SPECS.items()},
    }
    for what, parsed in columns.items():
        body = paths[f"/api/v1/tenants/{{tenant_slug}}/ingest/{what}/"]["post"]["requestBody"]["content"]
        row = schemas[body["application/json"]["schema"]["items"]["$ref"].rsplit("/", 1)[1]]
        assert set(row["properties"]) == {column.name for column in parsed}, what
        assert set(row.get("required", [])) == {column.name for column in parsed if column.required}, what


def test_the_idempotency_key_of_every_bulk_endpoint_is_documented_as_the_api_checks_it() -> None:
    for path, item in openapi_document()["paths"].items():
        if "/ingest/" not in path:
            continue
        operation = item["post"]
        (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
        assert (header["name"], header["required"]) == ("Idempotency-Key", True), path
        assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 255), path
        assert header["schema"]["pattern"] == IDEMPOTENCY_KEY_PATTERN
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"], path


def test_every_handler_of_a_view_is_granted_to_someone() -> None:
    # A handler no role may use would be documented, and answer 403 to everyone (405 is the truth).
    for endpoint_route, callback in _routes():
        view = callback.view_class
        handlers = {method.upper() for method in ("get", "post", "put", "patch", "delete") if hasattr(view, method)}
        assert handlers <= set(view.access), (endpoint_route, handlers - set(view.access))


def _routes() -> list[tuple[str, object]]:
    return [
        (route, callback)
        for route, callback in walk_routes(get_resolver().url_patterns)
        if isinstance(getattr(callback, "view_class", None), type) and issubclass(callback.view_class, TenantScopedView)
    ]


def test_rotating_a_secret_and_a_test_ping_are_posts_only(world) -> None:
    paths = openapi_document()["paths"]
    base = f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/"
    created = world.admin.client.post(
        base, {"url": "http://127.0.0.1:9/hook", "event_types": ["webhook.ping"]}, format="json"
    )
    assert created.status_code == 201, created.content
    for action in ("rotate-secret", "test"):
        assert set(paths[f"/api/v1/tenants/{{tenant_slug}}/webhook-endpoints/{{endpoint_id}}/{action}/"]) == {"post"}
        url = f"{base}{created.json()['id']}/{action}/"
        for method in ("get", "patch", "delete"):
            response = getattr(world.admin.client, method)(url)
            assert response.status_code == 405, (action, method, response.content)
            assert response.json()["error"]["code"] == "method_not_allowed"
            assert set(response["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_a_union_of_role_shapes_that_a_body_could_match_twice_is_refused_where_declared() -> None:
    class Staff(serializers.Serializer):
        id = serializers.UUIDField()
        cost = serializers.DecimalField(max_digits=8, decimal_places=2)

    class Partner(serializers.Serializer):
        id = serializers.UUIDField()

    # A partner's body ({"id"}) would match the staff shape too were cost optional; here the
    # partner shape requires nothing the staff shape lacks, so a staff body matches both.
    with pytest.raises(AssertionError, match="Partner requires no field"):
        role_shapes("Row", Staff, Partner)

    class PartnerRow(Partner):
        band = serializers.CharField()

    assert role_shapes("Row", Staff, PartnerRow).serializers == [Staff, PartnerRow]
