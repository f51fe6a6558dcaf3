"""The OpenAPI schema: valid, warning-free, documenting the error format; the docs pages load."""

from io import StringIO

import yaml
from django.core.management import call_command


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
