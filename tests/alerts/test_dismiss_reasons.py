"""Dismissal reasons with structure: one of five codes and a note, through the alert API.

The tuner counts the codes (a ``false_alarm`` is evidence against the rule's threshold), so an
unknown code, or the old free-text body, is a 400 that lists the codes, and writes nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.webhooks.models import OutboxEvent
from tests.support.calls import error, evaluate, ok, pushed, url
from tests.support.ingest import ts

REASONS = ["false_alarm", "too_early", "too_late", "duplicate", "other"]


@pytest.fixture
def overstocked(shop):
    """One overstock alert on S at W: 100 units received 200 days ago, 10 sold since."""
    rows = [
        {"kind": "receipt", "sku": "S", "warehouse": "W", "quantity": 100, "occurred_at": ts(200)},
        {"kind": "sale", "sku": "S", "warehouse": "W", "quantity": 10, "occurred_at": ts(44)},
    ]
    pushed(shop, "movements", [{**row, "external_ref": f"d-{n}"} for n, row in enumerate(rows)])
    evaluate(shop)
    return shop


def _alert(world) -> dict:
    (alert,) = ok(world.admin.client.get(url(world, "alerts/"), {"rule": "overstock", "active": "true"}))["results"]
    return alert


def _dismiss(world, alert_id: str, body: dict):
    return world.planner.client.post(url(world, f"alerts/{alert_id}/dismiss/"), body, format="json")


@pytest.mark.parametrize("reason", REASONS)
def test_each_reason_is_kept_on_the_alert_its_timeline_and_its_event(overstocked, reason: str) -> None:
    alert = _alert(overstocked)
    dismissed = ok(_dismiss(overstocked, alert["id"], {"reason": reason, "note": f"  {reason} here  "}))
    assert (dismissed["status"], dismissed["dismissed_reason"]) == ("dismissed", reason)
    assert dismissed["dismissed_note"] == f"{reason} here"
    event = dismissed["timeline"][-1]
    assert (event["kind"], event["note"], event["data"]) == ("dismissed", f"{reason} here", {"reason": reason})
    outbox = OutboxEvent.objects.get(tenant=overstocked.tenant, type="alert.dismissed")
    assert (outbox.data["reason"], outbox.data["note"]) == (reason, f"{reason} here")


def test_the_note_is_optional_but_other_needs_one(overstocked) -> None:
    alert = _alert(overstocked)
    refused = error(_dismiss(overstocked, alert["id"], {"reason": "other"}), 400)
    assert set(refused["fields"]) == {"note"}
    assert ok(overstocked.admin.client.get(url(overstocked, f"alerts/{alert['id']}/")))["status"] == "open"
    dismissed = ok(_dismiss(overstocked, alert["id"], {"reason": "false_alarm"}))
    assert (dismissed["dismissed_reason"], dismissed["dismissed_note"]) == ("false_alarm", "")


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "seasonal stock, sells in spring"},  # the old free-text body
        {"reason": "FALSE_ALARM"},
        {"reason": ""},
        {"note": "no reason given"},
        {"reason": "false_alarm", "comment": "unknown field"},
    ],
)
def test_an_unknown_reason_or_the_old_free_text_body_is_a_400_that_lists_the_codes(overstocked, body: dict) -> None:
    alert = _alert(overstocked)
    refused = error(_dismiss(overstocked, alert["id"], body), 400)
    if "comment" in body:
        assert set(refused["fields"]) == {"comment"}
    else:
        assert set(refused["fields"]) == {"reason"}
    if body.get("reason") and "comment" not in body:
        message = " ".join(refused["fields"]["reason"])
        assert all(code in message for code in REASONS)
        assert "note" in message
    after = ok(overstocked.admin.client.get(url(overstocked, f"alerts/{alert['id']}/")))
    assert (after["status"], after["dismissed_reason"], [e["kind"] for e in after["timeline"]]) == (
        "open",
        "",
        ["opened"],
    )
    assert not OutboxEvent.objects.filter(tenant=overstocked.tenant, type="alert.dismissed").exists()


def test_a_reopened_alert_drops_its_reason_and_note_the_timeline_keeps_them(overstocked) -> None:
    (reading,) = ok(overstocked.admin.client.get(url(overstocked, "indicators/"), {"sku": "S"}))["results"]
    days = Decimal(str(reading["turnover_days"]))
    policies = url(overstocked, "alert-policies/")
    # A standard of days / 1.15 grades S yellow (15 % beyond), days / 1.5 red (50 %).
    yellow = {"rule": "overstock", "sku": "S", "standard": str((days / Decimal("1.15")).quantize(Decimal("0.0001")))}
    policy = ok(overstocked.admin.client.post(policies, yellow, format="json"), 201)
    evaluate(overstocked)
    alert = _alert(overstocked)
    assert alert["grade"] == "yellow"
    ok(_dismiss(overstocked, alert["id"], {"reason": "too_early", "note": "clearing next month"}))

    red = {"standard": str((days / Decimal("1.5")).quantize(Decimal("0.0001")))}
    ok(overstocked.admin.client.patch(f"{policies}{policy['id']}/", red, format="json"))
    evaluate(overstocked)
    after = ok(overstocked.admin.client.get(url(overstocked, f"alerts/{alert['id']}/")))
    assert (after["status"], after["grade"], after["dismissed_reason"], after["dismissed_note"]) == (
        "open",
        "red",
        "",
        "",
    )
    dismissal = next(event for event in after["timeline"] if event["kind"] == "dismissed")
    assert (dismissal["data"], dismissal["note"]) == ({"reason": "too_early"}, "clearing next month")
