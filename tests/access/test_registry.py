"""The access registry on its own: the table, failing closed, the words partners get, event payloads,
and the layers it sits between."""

from __future__ import annotations

import ast
import dataclasses
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from core.access import registry
from core.access.registry import BANDS, EXACT, NOTHING, STAFF, capabilities
from core.access.scope import warehouse_grant
from core.access.views import (
    actor_word,
    event_payloads,
    partner_alert,
    partner_explanation,
    partner_reading,
    partner_recommendation,
    spare_refusal,
    stock_quantities,
)
from core.alerts.engine import chunk_evaluate
from core.inventory import master_services
from core.inventory.ingestion import movement_rows_parse, movements_ingest
from core.inventory.models import Position
from core.webhooks.models import Delivery, OutboxEvent
from core.webhooks.relay import outbox_relay
from core.webhooks.services import endpoint_create
from tenants import services as tenant_services
from tenants.models import Partner, PartnerKind
from tenants.principals import Principal

ROOT = Path(__file__).resolve().parents[2]
KNOWN = [(STAFF, None), ("erp", None), ("supplier", None), ("distributor", EXACT), ("distributor", BANDS)]
ALERT = {
    "id": "a",
    "rule": "stock_out_risk",
    "direction": "stock_out",
    "grade": "red",
    "peak_grade": "red",
    "status": "open",
    "active": True,
    "position_id": 1,
    "sku": "SKU-1",
    "warehouse": "WH-1",
    "region": "north",
    "category": "c",
    "band": "low",
    "recommendation": {"action": "emergency_rfq", "quantity": 120, "suppliers": [{"unit_price": "9.99"}]},
    "opened_at": "t",
    "acknowledged_at": None,
    "resolved_at": None,
    "created_at": "t",
    "updated_at": "t",
}


def test_the_table_knows_staff_the_erp_suppliers_and_both_distributor_grants() -> None:
    assert {(str(kind), level) for kind, level in registry.REGISTRY} == set(KNOWN)
    staff, erp = capabilities(STAFF), capabilities(PartnerKind.ERP)
    # The ERP sees what staff see of stock and alerts; who acted only as a role.
    assert dataclasses.replace(erp, audience=STAFF, actor_names=True) == staff
    for kind, level in KNOWN[2:]:
        caps = capabilities(kind, level)
        assert caps.view == "partner"
        assert not caps.indicators, (kind, level)
        assert not caps.alert_figures, (kind, level)
        assert not caps.actor_names, (kind, level)
    assert capabilities("distributor", EXACT).quantities
    assert not capabilities("distributor", BANDS).quantities
    assert not capabilities("supplier").quantities


@pytest.mark.parametrize(
    ("kind", "level"),
    [("broker", None), ("broker", EXACT), ("distributor", None), ("distributor", "partial"), ("supplier", EXACT)],
)
def test_a_kind_or_level_the_table_does_not_know_sees_nothing(kind: str, level: str | None) -> None:
    caps = capabilities(kind, level)
    assert caps is NOTHING
    assert not any(getattr(caps, f.name) for f in dataclasses.fields(caps) if f.name != "audience")
    assert partner_alert(ALERT, caps) is None
    assert partner_reading({"band": "low", "on_hand": 7919}, caps) is None
    assert stock_quantities({"on_hand": 7919, "available": 7000}, caps) == {
        "exact": False,
        "on_hand": None,
        "available": None,
    }
    assert partner_recommendation(ALERT["recommendation"], caps, due=date(2026, 3, 14)) == {
        "action": "emergency_rfq",
        "quantity": None,
        "due_on": None,
    }
    assert actor_word("user:admin key:7ji2abcd", caps) == "staff"
    figures = {"spare_units": 18, "available": 24, "safety_stock": 5.39, "method": "cover", "band": "low"}
    refusal = spare_refusal(caps, source="WH-1", sku="S", quantity=9, **figures)
    assert not re.search(r"18|24|5\.39|low", refusal)
    if kind not in registry.REGISTRY_KINDS:
        assert event_payloads("alert.opened", {"alert_id": "a", "deviation": 0.4}, kinds=[kind]) == {}


def test_an_unknown_kind_of_principal_gets_no_shape_at_all(world) -> None:
    broker = Partner(tenant=world.tenant, kind="broker", name="Broker")
    principal = Principal(tenant=world.tenant, partner=broker)
    assert registry.view_of(principal) == ""
    assert registry.of(principal) is NOTHING
    assert registry.of(principal, EXACT) is NOTHING


def test_partners_get_words_of_their_own_with_no_figure_but_the_quantity_and_day() -> None:
    actions = ["review", "replenishment_order", "emergency_rfq", "markdown", "transfer", "redistribution"]
    actions += ["clearance", "risk_review", None, "something_new"]
    for direction in ("stock_out", "overstock", "launch", "decline", "compound", "new"):
        for action in actions:
            for band in ("available", "low", "out", None):
                hidden = {"action": action, "quantity": None, "due_on": None}
                text = partner_explanation(
                    direction=direction, grade="red", sku="SKU-A", warehouse="WH-B", recommendation=hidden, band=band
                )
                assert not re.search(r"\d", text.replace("SKU-A", "").replace("WH-B", "")), text
                shown = {"action": action, "quantity": 120, "due_on": "2026-03-14"}
                text = partner_explanation(
                    direction=direction, grade="red", sku="SKU-A", warehouse="WH-B", recommendation=shown, band=band
                )
                assert "by 14 March" in text
    supplier = partner_alert(ALERT, capabilities("supplier"), due=date(2026, 3, 14))
    assert supplier["explanation"] == (
        "Stock of SKU-1 at WH-1 is expected to run short; 120 units are being sourced by 14 March. "
        "For now stock there is low. Graded red."
    )
    assert supplier["recommendation"] == {"action": "emergency_rfq", "quantity": 120, "due_on": "2026-03-14"}
    bands = partner_alert(ALERT, capabilities("distributor", BANDS), due=date(2026, 3, 14))
    assert bands["recommendation"] == {"action": "emergency_rfq", "quantity": None, "due_on": None}
    assert not re.search(r"\d", bands["explanation"].replace("SKU-1", "").replace("WH-1", ""))
    assert "low" in bands["explanation"]


def test_who_acted_is_a_role_for_partners_and_a_name_for_staff() -> None:
    partner = capabilities("distributor", EXACT)
    assert actor_word("user:admin key:7ji2abcd", capabilities(STAFF)) == "user:admin key:7ji2abcd"
    assert actor_word("user:admin key:7ji2abcd", capabilities("erp")) == "staff"
    assert actor_word("partner:42 key:abcd", partner, viewer=42) == "you"
    assert actor_word("partner:42 key:abcd", partner, viewer=7) == "partner"
    assert actor_word("policy", partner) == actor_word("system:evaluation 9", partner) == "system"


def test_event_payloads_by_kind() -> None:
    data = {
        "alert_id": "a",
        "grade": "red",
        "deviation": 0.42,
        "reason": "other",
        "note": "48314 left",
        "by": "user:admin key:7ji2",
    }
    payloads = event_payloads("alert.dismissed", data)
    assert payloads["erp"] == {**data, "by": "staff"}
    for kind in ("supplier", "distributor"):
        assert payloads[kind] == {"alert_id": "a", "grade": "red", "by": "staff"}
    # Tenant-wide and data-quality events reach the ERP alone; RFQs the supplier, transfers the distributor.
    assert set(event_payloads("evaluation.completed", {"counts": {}})) == {"erp"}
    assert set(event_payloads("stock.anomaly_flagged", {"quantity": 3})) == {"erp"}
    assert set(event_payloads("rfq.invited", {"quantity": 3})) == {"erp", "supplier"}
    assert set(event_payloads("transfer.rejected", {"note": "no"})) == {"erp", "distributor"}
    assert set(event_payloads("recommendation.proposed", {"summary": "x"})) == {"erp"}


def test_inventory_shapes_its_anomaly_event_as_the_registry_says(world) -> None:
    # Inventory lies below the registry and cannot ask it; this holds the two alike.
    columns, errors = movement_rows_parse(
        [
            {
                "kind": "sale",
                "sku": "SKU-1",
                "warehouse": "WH-1",
                "quantity": "1",
                "unit_price": "0",
                "occurred_at": "2026-01-01T00:00:00Z",
                "external_ref": "free",
            }
        ]
    )
    assert not errors
    movements_ingest(tenant=world.tenant, source="fixture", columns=columns)
    (event,) = OutboxEvent.objects.filter(tenant=world.tenant, type="stock.anomaly_flagged")
    assert event.partner_payloads == event_payloads(event.type, event.data)


def _imports(folder: str) -> set[str]:
    names = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
    return names


def test_the_registry_sits_above_inventory_and_below_the_domains_that_render() -> None:
    project = [name for name in _imports("core/access") if name.split(".")[0] in ("core", "tenants", "api", "workers")]
    allowed = ("core.access", "core.inventory", "core.procurement.models", "core.base_models", "core.exceptions")
    # Supplier offers lie below it (a supplier's scope), and so does the webhooks' hook it answers.
    allowed += ("core.supply", "core.webhooks.audience")
    assert all(name.startswith((*allowed, "tenants")) for name in project), project
    assert not any(name.startswith("core.access") for name in _imports("core/webhooks"))
    assert not any(name.startswith("core.access") for name in _imports("core/inventory"))


def test_a_grant_level_dropped_from_the_table_shows_its_rows_nothing(figured, monkeypatch) -> None:
    # The mixed distributor holds WH-E with numbers and WH-B as bands; without a bands row in the
    # table, WH-B is a level nobody knows: its rows go, and a refusal there names nothing.
    monkeypatch.delitem(registry.REGISTRY, ("distributor", BANDS))
    client, base = figured.callers["distributor:mixed"].client, f"/api/v1/tenants/{figured.world.tenant.slug}/"
    for path in ("alerts/", "indicators/", "shared-stock/"):
        rows = client.get(base + path).json()["results"]
        assert {row["warehouse"] for row in rows} == {"WH-E"}, path
    assert client.get(f"{base}alerts/{figured.alerts['B'].pk}/").status_code == 404
    assert client.get(f"{base}indicators/{figured.positions['B'].pk}/").status_code == 404
    refused = client.post(
        base + "transfers/",
        {"sku": "SKU-V", "source": "WH-B", "destination_location": "Yard", "quantity": 9_999_999},
        format="json",
    )
    assert refused.json()["error"]["fields"]["quantity"] == ["WH-B cannot spare 9999999 units of SKU-V now."]


def test_an_endpoint_of_a_kind_the_table_does_not_know_hears_nothing(world) -> None:
    # A distributor granted the world's warehouse, whose kind then becomes one nobody knows.
    broker = tenant_services.partner_create(tenant=world.tenant, kind="distributor", name="Broker")
    warehouse_grant(partner=broker, warehouses=[world.warehouse])
    url = "http://127.0.0.1:9/hook"
    theirs, _ = endpoint_create(
        tenant=world.tenant, actor="fixture", url=url, event_types=["alert.opened"], partner=broker
    )
    ours, _ = endpoint_create(tenant=world.tenant, actor="fixture", url=url, event_types=["alert.opened"])
    Partner.objects.filter(pk=broker.pk).update(kind="broker")
    sku = master_services.sku_create(
        tenant=world.tenant, code="SKU-OLD", name="Old", category=world.category, unit_cost=1, list_price=2
    )
    old = (timezone.now() - timedelta(days=200)).isoformat()
    columns, errors = movement_rows_parse(
        [
            {
                "kind": "receipt",
                "sku": sku.code,
                "warehouse": "WH-1",
                "quantity": "5",
                "occurred_at": old,
                "external_ref": "o",
            }
        ]
    )
    assert not errors
    movements_ingest(tenant=world.tenant, source="fixture", columns=columns)
    ids = list(Position.objects.filter(tenant=world.tenant).values_list("pk", flat=True))
    chunk_evaluate(tenant=world.tenant, position_ids=ids, today=timezone.now().date(), actor="system")
    outbox_relay()
    assert Delivery.objects.filter(endpoint=ours).exists()
    assert not Delivery.objects.filter(endpoint=theirs).exists()


def test_every_event_a_kind_hears_is_a_declared_type_and_its_keys_are_in_the_payload():
    # Access lies below the apps that declare alert and transfer events, so it names them; a name or
    # payload key that drifts from the event registry would leave partners hearing nothing of it.
    from core.webhooks.events import EVENT_TYPES

    heard = {
        (event_type, keys)
        for row in registry.KINDS.values()
        for seen in row.sees.values()
        if isinstance(seen.events, dict)  # a row that hears every event names none
        for event_type, keys in seen.events.items()
    }
    assert heard
    for event_type, keys in heard:
        assert event_type in EVENT_TYPES, event_type
        if isinstance(keys, frozenset):
            assert keys <= EVENT_TYPES[event_type].schema["properties"].keys(), event_type
