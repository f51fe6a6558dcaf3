"""A client generated from the OpenAPI document with openapi-python-client reads a supplier's RFQs.

Generated clients trust the document: a field it marks required that an answer leaves out is a
crash (a supplier's RFQ rows carry neither ``position_id`` nor ``alert_id``, which staff rows do).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.calls import ok
from tests.support.documented import in_process_app, openapi_document
from tests.support.procurement import quote


def generated_client(tmp_path: Path) -> object:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(openapi_document()))
    command = Path(sys.executable).parent / "openapi-python-client"
    subprocess.run(
        [command, "generate", "--path", spec, "--output-path", tmp_path / "tripline_client", "--meta", "none"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module("tripline_client")
    finally:
        sys.path.remove(str(tmp_path))


def test_a_generated_client_lists_and_reads_a_suppliers_rfqs(opened, tmp_path):
    world, cheap = opened.world, opened.suppliers["cheap"]
    ok(quote(cheap, world, opened.rfq_id, quantity=160), 201)
    client_package = generated_client(tmp_path)
    rfqs_list = importlib.import_module("tripline_client.api.v1.v1_tenants_rfqs_list")
    rfqs_retrieve = importlib.import_module("tripline_client.api.v1.v1_tenants_rfqs_retrieve")
    with in_process_app() as app:
        for caller, row_shape, detail_shape in (
            (cheap, "SupplierRfqOutput", "SupplierRfqOutput"),
            (world.planner, "RfqOutput", "RfqDetailOutput"),
        ):
            client = client_package.AuthenticatedClient(
                base_url="http://testserver",
                token=caller.raw_key,
                httpx_args={"transport": httpx.WSGITransport(app=app)},
            )
            (row,) = rfqs_list.sync(client=client, tenant_slug=world.tenant.slug).results
            detail = rfqs_retrieve.sync(client=client, tenant_slug=world.tenant.slug, rfq_id=opened.rfq_id)
            assert (type(row).__name__, type(detail).__name__) == (row_shape, detail_shape)
            assert str(row.id) == str(detail.id) == opened.rfq_id
            if caller is cheap:
                assert row.quantity == detail.quantity == 160  # asked of it: its minimum order
