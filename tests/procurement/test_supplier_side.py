"""What a supplier sees and may do with its key: its invitations only, its own quotes only, before
the deadline only; and what the planners do by hand (manual award, cancel)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import path
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from api.procurement.serializers import SupplierRfqOutput
from core.procurement.models import Rfq, RfqStatus
from core.webhooks.models import Delivery, OutboxEvent
from core.webhooks.relay import outbox_relay
from core.webhooks.services import endpoint_create
from tests.support.calls import error, evaluate, ok, url
from tests.support.documented import assert_documented
from tests.support.procurement import quote, respond
from workers.tasks.procurement import procurement_settle


def test_a_supplier_lists_its_invitations_with_its_own_terms_and_nobody_elses(opened):
    world, cheap = opened.world, opened.suppliers["cheap"]
    (mine,) = ok(cheap.client.get(url(world, "rfqs/")))["results"]
    assert mine["id"] == opened.rfq_id
    assert (mine["quantity"], mine["status"], mine["invitation_status"]) == (160, "open", "invited")  # its MOQ
    detail = ok(cheap.client.get(url(world, f"rfqs/{opened.rfq_id}/")))
    assert not {"invitations", "quotes", "skipped", "basis", "alert_id"} & set(detail)
    # Invited to nothing: the primary supplier, and the backups that were skipped.
    for caller in (world.supplier, opened.suppliers["slow"]):
        assert ok(caller.client.get(url(world, "rfqs/")))["results"] == []
        assert error(caller.client.get(url(world, f"rfqs/{opened.rfq_id}/")), 404)["code"] == "not_found"
        assert error(quote(caller, world, opened.rfq_id), 404)["code"] == "not_found"
    # Distributors and the ERP are not in procurement at all.
    for caller in (world.distributor, world.erp):
        assert error(caller.client.get(url(world, "rfqs/")), 403)["code"] == "permission_denied"


def test_a_supplier_never_reads_another_suppliers_quote(opened):
    world, cheap, quick = opened.world, opened.suppliers["cheap"], opened.suppliers["quick"]
    theirs = ok(quote(quick, world, opened.rfq_id, unit_price="0.99"), 201)
    mine = ok(quote(cheap, world, opened.rfq_id, unit_price="1.01", quantity=160), 201)
    listed = ok(cheap.client.get(url(world, f"rfqs/{opened.rfq_id}/quotes/")))
    assert [q["id"] for q in listed] == [mine["id"]]
    assert error(cheap.client.get(url(world, f"rfqs/{opened.rfq_id}/quotes/{theirs['id']}/")), 404)
    assert error(cheap.client.post(url(world, f"rfqs/{opened.rfq_id}/quotes/{theirs['id']}/withdraw/")), 404)
    # Staff see both, with the landed cost the award compares.
    staff = ok(world.planner.client.get(url(world, f"rfqs/{opened.rfq_id}/quotes/")))
    assert {q["id"]: q["landed_unit_cost"] for q in staff} == {theirs["id"]: "1.0900", mine["id"]: "1.1105"}


def test_quotes_after_the_deadline_or_beyond_the_revision_limit_are_refused(opened):
    world, quick = opened.world, opened.suppliers["quick"]
    ok(world.admin.client.patch(url(world, "procurement-limits/"), {"quote_revisions": 2}, format="json"))
    ok(quote(quick, world, opened.rfq_id), 201)
    ok(quote(quick, world, opened.rfq_id, unit_price="0.97"), 201)
    refused = error(quote(quick, world, opened.rfq_id, unit_price="0.96"), 409)
    assert "limit is 2" in refused["message"]
    bad = error(quote(quick, world, opened.rfq_id, unit_price="0", quantity=0, valid_until="2001-01-01"), 400)
    assert {"unit_price", "quantity"} <= set(bad["fields"])
    assert "valid_until" in error(quote(quick, world, opened.rfq_id, valid_until="2001-01-01"), 400)["fields"]
    assert "colour" in error(quote(quick, world, opened.rfq_id, colour="red"), 400)["fields"]
    Rfq.objects.filter(pk=opened.rfq_id).update(respond_by=timezone.now() - timedelta(minutes=1))
    late = error(quote(opened.suppliers["cheap"], world, opened.rfq_id, quantity=160), 409)
    assert "deadline passed" in late["message"]


def test_a_withdrawn_quote_counts_as_an_answer_and_is_not_awarded(opened):
    world, cheap, quick = opened.world, opened.suppliers["cheap"], opened.suppliers["quick"]
    cheapest = ok(quote(cheap, world, opened.rfq_id, unit_price="0.50", quantity=160, lead_time_days=4), 201)
    ok(cheap.client.post(url(world, f"rfqs/{opened.rfq_id}/quotes/{cheapest['id']}/withdraw/")))
    again = error(cheap.client.post(url(world, f"rfqs/{opened.rfq_id}/quotes/{cheapest['id']}/withdraw/")), 409)
    assert "withdrawn" in again["message"]
    ok(quote(quick, world, opened.rfq_id, unit_price="1.20"), 201)
    assert procurement_settle(opened.rfq_id) == "awarded"  # everyone answered; the withdrawn one is out
    rfq = ok(world.admin.client.get(url(world, f"rfqs/{opened.rfq_id}/")))
    assert {i["supplier"]: i["status"] for i in rfq["invitations"]} == {"backup cheap": "lost", "backup quick": "won"}
    assert error(quote(quick, world, opened.rfq_id), 409)["message"].startswith("This RFQ is awarded")


def test_quotes_too_slow_for_the_needed_by_day_are_not_awarded_automatically(opened):
    world = opened.world
    ok(quote(opened.suppliers["quick"], world, opened.rfq_id, unit_price="0.10", lead_time_days=8), 201)
    ok(quote(opened.suppliers["cheap"], world, opened.rfq_id, unit_price="1.10", quantity=160, lead_time_days=5), 201)
    procurement_settle(opened.rfq_id)
    rfq = ok(world.admin.client.get(url(world, f"rfqs/{opened.rfq_id}/")))
    assert (rfq["status"], rfq["purchase_order"]["supplier_id"]) == ("awarded", str(opened.partner("cheap").pk))


def test_under_the_manual_rule_the_planner_awards_and_may_cancel_another(opened):
    world = opened.world
    rfq = Rfq.objects.get(pk=opened.rfq_id)
    Rfq.objects.filter(pk=rfq.pk).update(award_rule="manual")
    slow_but_chosen = ok(quote(opened.suppliers["quick"], world, opened.rfq_id, unit_price="1.50"), 201)
    ok(quote(opened.suppliers["cheap"], world, opened.rfq_id, unit_price="0.90", quantity=160), 201)
    assert procurement_settle(opened.rfq_id) == "awaiting award"
    assert error(opened.suppliers["quick"].client.post(url(world, f"rfqs/{opened.rfq_id}/award/"), {}), 403)
    assert error(world.analyst.client.post(url(world, f"rfqs/{opened.rfq_id}/award/"), {}), 403)
    unknown = {"quote_id": "00000000-0000-0000-0000-000000000000"}
    unknown_quote = error(
        world.planner.client.post(url(world, f"rfqs/{opened.rfq_id}/award/"), unknown, format="json"), 400
    )
    assert unknown_quote["fields"] == {"quote_id": ["No such quote on this RFQ."]}
    body = {"quote_id": slow_but_chosen["id"]}
    awarded = ok(world.planner.client.post(url(world, f"rfqs/{opened.rfq_id}/award/"), body, format="json"))
    assert (awarded["status"], awarded["awarded_quote_id"]) == ("awarded", slow_but_chosen["id"])
    assert awarded["decided_by"].startswith("user:")
    cancel = world.planner.client.post(url(world, f"rfqs/{opened.rfq_id}/cancel/"), {"reason": "x"}, format="json")
    assert "only an open RFQ" in error(cancel, 409)["message"]


def test_cancelling_tells_every_invitee(opened):
    world = opened.world
    cancel = world.planner.client.post(
        url(world, f"rfqs/{opened.rfq_id}/cancel/"), {"reason": "found stock"}, format="json"
    )
    assert ok(cancel)["status"] == "cancelled"
    closed = OutboxEvent.objects.filter(tenant=world.tenant, type="rfq.closed")
    assert {(e.recipient_id, e.data["reason"]) for e in closed} == {
        (opened.partner("cheap").pk, "cancelled"),
        (opened.partner("quick").pk, "cancelled"),
    }
    assert ok(opened.suppliers["cheap"].client.get(url(world, f"rfqs/{opened.rfq_id}/")))["status"] == "closed"


def test_rfq_events_reach_the_addressed_supplier_and_the_tenant_never_another_supplier(shortage):
    world = shortage.world
    hooks = {}
    for name in ("cheap", "quick", "slow"):
        hooks[name], _ = endpoint_create(
            tenant=world.tenant,
            actor="test",
            partner=shortage.partner(name),
            url=f"http://127.0.0.1:9/{name}",
            event_types=["rfq.invited", "rfq.quoted"],
        )
    hooks["staff"], _ = endpoint_create(
        tenant=world.tenant, actor="test", url="http://127.0.0.1:9/staff", event_types=["rfq.invited", "rfq.quoted"]
    )
    evaluate(world)
    respond(world)
    rfq_id = str(Rfq.objects.get(tenant=world.tenant).pk)
    ok(quote(shortage.suppliers["quick"], world, rfq_id), 201)
    outbox_relay()
    got = {
        name: sorted(Delivery.objects.filter(endpoint=hook).values_list("event__type", flat=True))
        for name, hook in hooks.items()
    }
    assert got == {
        "cheap": ["rfq.invited"],
        "quick": ["rfq.invited"],
        "slow": [],  # offers the SKU, was not invited: hears nothing
        "staff": ["rfq.invited", "rfq.invited", "rfq.quoted"],  # quotes are the tenant's business only
    }


def test_a_quote_for_more_than_asked_orders_what_was_asked(opened):
    world = opened.world
    ok(quote(opened.suppliers["quick"], world, opened.rfq_id, unit_price="0.90", quantity=50_000_000), 201)
    ok(quote(opened.suppliers["cheap"], world, opened.rfq_id, unit_price="1.50", quantity=160), 201)
    assert procurement_settle(opened.rfq_id) == "awarded"
    rfq = ok(world.admin.client.get(url(world, f"rfqs/{opened.rfq_id}/")))
    assert rfq["purchase_order"]["quantity"] == 150  # the invitation's quantity, not the quote's


def test_suppliers_do_not_see_the_tenants_responses_on_an_alert_timeline(opened):
    world = opened.world
    alert_id = str(Rfq.objects.get(pk=opened.rfq_id).alert_id)
    staff_kinds = [e["kind"] for e in ok(world.admin.client.get(url(world, f"alerts/{alert_id}/")))["timeline"]]
    assert "rfq_opened" in staff_kinds
    for caller in (world.supplier, opened.suppliers["cheap"], opened.suppliers["slow"]):
        timeline = ok(caller.client.get(url(world, f"alerts/{alert_id}/")))["timeline"]
        assert [e["kind"] for e in timeline] == [k for k in staff_kinds if k not in ("rfq_opened", "response_held")]


def test_the_rfq_list_and_detail_match_the_shape_documented_for_each_caller(opened):
    world, cheap = opened.world, opened.suppliers["cheap"]
    ok(quote(cheap, world, opened.rfq_id, quantity=160), 201)
    for caller in (world.planner, cheap):
        listed = caller.client.get(url(world, "rfqs/"))
        assert listed.status_code == 200
        assert listed.json()["results"]
        assert_documented(listed, "GET", "/api/v1/tenants/{tenant_slug}/rfqs/")
        detail = caller.client.get(url(world, f"rfqs/{opened.rfq_id}/"))
        assert_documented(detail, "GET", "/api/v1/tenants/{tenant_slug}/rfqs/{rfq_id}/")
    # A supplier's row is its own shape, without the staff fields a client would otherwise require.
    (row,) = ok(cheap.client.get(url(world, "rfqs/")))["results"]
    assert not {"position_id", "alert_id"} & set(row)


def test_a_supplier_whose_quote_won_cannot_be_deleted_and_stays(opened):
    world, quick = opened.world, opened.suppliers["quick"]
    won = ok(quote(quick, world, opened.rfq_id), 201)
    body = {"quote_id": won["id"]}
    ok(world.planner.client.post(url(world, f"rfqs/{opened.rfq_id}/award/"), body, format="json"))
    refused = error(world.admin.client.delete(url(world, f"partners/{quick.partner.pk}/")), 409)
    assert "is_active" in refused["message"]
    assert ok(world.admin.client.get(url(world, f"partners/{quick.partner.pk}/")))["id"] == str(quick.partner.pk)


def test_a_supplier_sees_an_rfq_that_waits_for_the_planners_award_as_such(shortage):
    world, cheap, quick = shortage.world, shortage.suppliers["cheap"], shortage.suppliers["quick"]
    manual = {"rule": "stock_out_risk", "parameters": {"rfq_award_rule": "manual"}}
    ok(world.admin.client.post(url(world, "alert-policies/"), manual, format="json"), 201)
    evaluate(world)
    respond(world)
    rfq_id = str(Rfq.objects.get(tenant=world.tenant).pk)
    chosen = ok(quote(quick, world, rfq_id, unit_price="1.50"), 201)
    ok(quote(cheap, world, rfq_id, unit_price="0.90", quantity=160), 201)
    assert procurement_settle(rfq_id) == "awaiting award"  # everyone answered; the planner decides

    for supplier in (cheap, quick):
        (listed,) = ok(supplier.client.get(url(world, "rfqs/")))["results"]
        detail = ok(supplier.client.get(url(world, f"rfqs/{rfq_id}/")))
        assert (listed["status"], detail["status"], detail["invitation_status"]) == (
            "awaiting_award",
            "awaiting_award",
            "quoted",
        )

    body = {"quote_id": chosen["id"]}
    ok(world.planner.client.post(url(world, f"rfqs/{rfq_id}/award/"), body, format="json"))
    seen = {name: ok(shortage.suppliers[name].client.get(url(world, f"rfqs/{rfq_id}/"))) for name in ("cheap", "quick")}
    assert {name: (rfq["status"], rfq["invitation_status"]) for name, rfq in seen.items()} == {
        "cheap": ("closed", "lost"),
        "quick": ("closed", "won"),
    }


def test_the_schema_documents_every_status_a_supplier_can_be_shown():
    """The supplier's shape as drf-spectacular renders it, through a view that answers with it."""

    class SupplierRfqView(APIView):
        @extend_schema(responses=SupplierRfqOutput)
        def get(self, request):
            raise NotImplementedError

    schema = SchemaGenerator(patterns=[path("rfq/", SupplierRfqView.as_view())]).get_schema(public=True)

    def resolved(node: dict) -> dict:
        """A component in place of its reference (``allOf`` wraps one that carries a description)."""
        node = node["allOf"][0] if len(node.get("allOf", ())) == 1 else node
        return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node

    shape = resolved(schema["paths"]["/rfq/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    documented = resolved(shape["properties"]["status"])
    shown = {SupplierRfqOutput().get_status(Rfq(status=status)) for status in RfqStatus.values}
    assert set(documented["enum"]) == shown == {"open", "awaiting_award", "closed"}
