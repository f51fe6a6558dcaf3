"""The alert page and the position page: in a real browser for what a planner sees and does, over
HTTP for who may do what and for refused input.

The data goes in as partners push it and the engine raises it (tests.support.procurement's
shortage): S at W sold 10 a day for the last 28 days and has 50 left against a 10-day lead time,
a red stock-out alert whose RFQ goes to the backup suppliers; O and O2 at W have sat on 90 units
for months after selling 10 once (turnover far beyond the 180-day standard), red overstock alerts
whose playbook proposes a clearance plan. Every figure the pages show is checked against what the
API answers for the same alert or position.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.alerts.models import Alert, AlertEvent
from core.playbooks.models import Recommendation
from tests.support.browser import PHONE
from tests.support.calls import evaluate, ok, pushed, url
from tests.support.ingest import ts
from tests.support.procurement import backup_suppliers, quote, respond, short_stock
from workers.tasks.procurement import procurement_settle

OVERSTOCKED = ("O", "O2")


@pytest.fixture
def trouble(shop):
    """S short at W (a red stock-out alert with its RFQ), O and O2 piled up at W (red overstock
    alerts with a proposed clearance plan each), all through the bulk endpoints and the engine."""
    suppliers = backup_suppliers(shop)
    # A category policy, so that one setting of the stock-out alert comes from a policy version.
    policy = {"rule": "stock_out_risk", "category": "C", "parameters": {"rfq_response_hours": 48}}
    ok(shop.admin.client.post(url(shop, "alert-policies/"), policy, format="json"), 201)
    short_stock(shop)
    pushed(
        shop,
        "skus",
        [{"code": code, "name": code, "category": "C", "unit_cost": "1", "list_price": "2"} for code in OVERSTOCKED],
    )
    rows = []
    for code in OVERSTOCKED:
        rows += [
            {"kind": "receipt", "sku": code, "warehouse": "W", "quantity": 100, "occurred_at": ts(200)},
            {"kind": "sale", "sku": code, "warehouse": "W", "quantity": 10, "occurred_at": ts(44)},
        ]
    for number, row in enumerate(rows):
        row["external_ref"] = f"over-{number}"
    pushed(shop, "movements", rows)
    evaluate(shop)
    respond(shop)
    shop.suppliers = suppliers
    return shop


def api(world, path: str, caller=None, **params) -> dict:
    return ok((caller or world.admin).client.get(url(world, path), params))


def the_alert(world, sku: str, rule: str) -> dict:
    """The SKU's alert of ``rule`` at W, as alerts/{id}/ answers it."""
    (found,) = api(world, "alerts/", sku=sku, rule=rule, warehouse="W")["results"]
    return api(world, f"alerts/{found['id']}/")


def alert_path(world, alert: dict) -> str:
    return f"/console/{world.tenant.slug}/alerts/{alert['id']}/"


def position_path(world, position_id: int) -> str:
    return f"/console/{world.tenant.slug}/positions/{position_id}/"


def award_the_rfq(world, suppliers) -> dict:
    """Both invited backups quote; quick's lower landed cost wins when the RFQ settles."""
    (rfq,) = api(world, "rfqs/")["results"]
    ok(quote(suppliers["cheap"], world, rfq["id"], unit_price="1.00", quantity=160, lead_time_days=4), 201)
    ok(quote(suppliers["quick"], world, rfq["id"], unit_price="0.98", quantity=150, lead_time_days=3), 201)
    assert procurement_settle(rfq["id"]) == "awarded"
    return api(world, f"rfqs/{rfq['id']}/")


def cells(page, selector: str) -> list[list[str]]:
    """The rows of a table as the browser shows them (inner text of each cell), hidden or not."""
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )


def ids(page, selector: str, attribute: str) -> list[str]:
    """An attribute of each body row of a table, in order."""
    return page.eval_on_selector_all(f"{selector} tbody tr", f"rows => rows.map(r => r.getAttribute('{attribute}'))")


def writes_of(alert_id: str) -> tuple:
    """What an action on the alert would change: its row and its timeline."""
    alert = Alert.objects.get(pk=alert_id)
    return alert.status, alert.updated_at, alert.snoozed_until, AlertEvent.objects.filter(alert_id=alert_id).count()


# --- In the browser -------------------------------------------------------------------------------


def test_a_planner_reads_a_stock_out_alert_acts_on_it_and_opens_its_position(console_site, trouble):
    world = trouble
    rfq = award_the_rfq(world, world.suppliers)
    alert = the_alert(world, "S", "stock_out_risk")
    assert (alert["grade"], alert["status"]) == ("red", "open")

    page = console_site.signed_in(world.planner.user)
    page.goto(alert_path(world, alert))
    assert page.get_by_role("heading", level=1).inner_text() == "Stock-out risk: S at W"
    assert page.locator("#alert-grade").inner_text().strip() == alert["grade"]
    assert page.locator("#alert-rule").inner_text() == alert["rule"]
    assert page.locator("#alert-explanation").inner_text() == alert["explanation"]
    assert page.locator("#alert-deviation").inner_text() == str(alert["deviation"])

    # The inputs and every threshold, parameter and band with its source: the API's values.
    inputs = {row[0]: row[1] for row in cells(page, "#inputs")}
    assert inputs == {name: "—" if value is None else str(value) for name, value in alert["inputs"].items()}
    shown = dict(zip(ids(page, "#thresholds", "data-key"), cells(page, "#thresholds"), strict=True))
    stored = alert["thresholds"]
    expected = {f"thresholds.{name}": value for name, value in stored["thresholds"].items()}
    expected |= {f"parameters.{name}": value for name, value in stored["parameters"].items()}
    assert {key for key in shown if key != "bands"} == set(expected)
    for key, value in expected.items():
        assert shown[key][1] == str(value), key
        assert shown[key][2] == stored["sources"][key], key
    assert shown["parameters.rfq_response_hours"][1:3] == ["48", "category C"]
    (version,) = api(world, "policy-changes/", rule="stock_out_risk")["results"]
    assert shown["parameters.rfq_response_hours"][3].startswith(f"v{version['version']} · created")
    assert {row[3] for key, row in shown.items() if row[2] == "built-in default"} == {"—"}
    bands = stored["bands"]
    assert shown["bands"][1] == " / ".join(f"{bands[g] * 100:g} %" for g in ("yellow", "orange", "red"))
    assert shown["bands"][2] == stored["sources"]["bands"]

    # The recommendation and the RFQ with its quotes and award, as rfqs/{id}/ has them.
    assert page.locator("#advice-summary").inner_text() == alert["recommendation"]["summary"]
    assert page.locator("#rfq-status").inner_text() == rfq["status"] == "awarded"
    quotes = dict(zip(ids(page, "#quotes", "data-quote"), cells(page, "#quotes"), strict=True))
    assert {key: (row[2], row[3], row[4]) for key, row in quotes.items()} == {
        q["id"]: (q["status"], q["unit_price"], q["landed_unit_cost"]) for q in rfq["quotes"]
    }
    assert quotes[rfq["awarded_quote_id"]][0] == "backup quick (awarded)"
    assert [row for row in quotes.values() if "(awarded)" in row[0]] == [quotes[rfq["awarded_quote_id"]]]
    assert "backup quick" in page.locator("#rfq-award").inner_text()
    assert rfq["purchase_order"]["reference"] in page.locator("#rfq-award").inner_text()
    console_site.screenshot(page, "alert")

    # Acknowledge from the page: the API shows it, with the planner on the timeline.
    page.get_by_role("form", name="Acknowledge").get_by_label("Note").fill("Calling the supplier")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector(".messages li.success")
    assert page.locator("#alert-status").inner_text() == "acknowledged"
    after = api(world, f"alerts/{alert['id']}/")
    assert after["status"] == "acknowledged"
    last = after["timeline"][-1]
    assert (last["kind"], last["actor"], last["note"]) == (
        "acknowledged",
        f"user:{world.planner.user.get_username()}",
        "Calling the supplier",
    )
    assert [row[1] for row in cells(page, "#timeline-table")] == [event["kind"] for event in after["timeline"]]
    assert page.get_by_role("button", name="Acknowledge").count() == 0  # acknowledged once

    # Dismissing as "other" without a note is refused on the page, and nothing changes.
    before = writes_of(alert["id"])
    dismiss = page.get_by_role("form", name="Dismiss")
    dismiss.get_by_label("Reason").select_option("other")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        dismiss.get_by_role("button", name="Dismiss").click()
    assert answer.value.status == 400
    assert "note: Say why in the note" in page.locator(".messages li.error").inner_text()
    assert writes_of(alert["id"]) == before

    # The position page from the alert: the sales pushed, then the forecast and its band.
    call_command("forecast", tenant=world.tenant.slug, stdout=StringIO())
    forecast = api(world, f"forecasts/{alert['position_id']}/")
    page.locator("#position-link").click()
    page.wait_for_url(re.compile(rf"/positions/{alert['position_id']}/$"))
    reading = api(world, f"indicators/{alert['position_id']}/")
    assert page.locator("#health-index").inner_text() == str(reading["health_index"])
    rows = {row[0]: row[1:] for row in cells(page, "#sales-table")}
    today = timezone.now().date()
    for days_ago in range(28):  # short_stock sold 10 on each of the last 28 days
        assert rows[str(today - timedelta(days=days_ago))][0] == "10"
    assert rows[str(today - timedelta(days=29))][0] == "0"
    assert len(forecast["days"]) == forecast["horizon"]
    for day in forecast["days"]:
        shown_day = rows[day["date"]]
        assert [float(v) for v in shown_day[1:]] == [
            pytest.approx(round(day[name], 2)) for name in ("mean", "p50", "quantile")
        ], day
    assert page.locator("[data-chart=chart-sales] svg path").count() > 3  # drawn, with the band
    # The band is stacked on the median: base + width is the quantile of each forecast day.
    option = json.loads(page.locator("#chart-sales").text_content())
    series = {entry["name"]: entry["data"] for entry in option["series"]}
    at = option["xAxis"]["data"].index(forecast["days"][0]["date"])
    base, width = series["Median"][at:], series["Band to the 95 % quantile"][at:]
    assert [pytest.approx(b + w, abs=0.011) for b, w in zip(base, width, strict=True)] == [
        day["quantile"] for day in forecast["days"]
    ]
    assert series["Units sold"][at - 1] == 10
    assert "Band to the 95 % quantile" in page.locator("[data-chart=chart-sales]").inner_text()
    assert cells(page, "#lots-table")[0][1] == str(reading["on_hand"])
    assert alert["id"] in ids(page, "#alerts-table", "data-alert")
    assert "awarded" in page.locator("#rfqs-table").inner_text()
    console_site.screenshot(page, "position")

    # An analyst reads the same page and has nothing to press.
    analyst = console_site.signed_in(world.analyst.user)
    analyst.goto(alert_path(world, alert))
    assert analyst.locator("#alert-explanation").inner_text() == alert["explanation"]
    assert analyst.locator("main button, main form[method=post]").count() == 0


def test_a_planner_accepts_one_clearance_plan_and_rejects_another_on_a_phone(console_site, trouble):
    world = trouble
    plans = {}
    for sku in OVERSTOCKED:
        alert = the_alert(world, sku, "overstock")
        (record,) = api(world, "recommendations/", alert_id=alert["id"])["results"]
        assert (record["kind"], record["status"]) == ("clearance", "proposed")
        plans[sku] = (alert, record)

    # Some of O's pile goes to another warehouse by hand: the alert and position pages list it.
    pushed(world, "warehouses", [{"code": "W2", "name": "W2", "region": "r", "kind": "store"}])
    body = {"sku": "O", "source": "W", "destination": "W2", "quantity": 20, "note": "by hand"}
    transfer = ok(world.planner.client.post(url(world, "transfers/"), body, format="json"), 201)

    page = console_site.signed_in(world.planner.user, viewport=PHONE)
    for sku, verdict, status in (("O", "Accept", "accepted"), ("O2", "Reject", "rejected")):
        alert, record = plans[sku]
        page.goto(alert_path(world, alert))
        box = page.locator(f"[data-record='{record['id']}']")
        assert box.locator(".record-summary").inner_text() == record["summary"]
        box.get_by_label("Note").fill(f"{verdict}ed on the phone")
        box.get_by_role("button", name=verdict).click()
        page.wait_for_selector(".messages li.success")
        decided = api(world, f"recommendations/{record['id']}/")
        assert (decided["status"], decided["decision_note"]) == (status, f"{verdict}ed on the phone")
        assert decided["decided_by"] == f"user:{world.planner.user.get_username()}"
        assert page.locator(f"[data-record='{record['id']}']").get_attribute("data-status") == status
        assert page.locator(f"[data-record='{record['id']}'] button").count() == 0
    alert, _ = plans["O"]
    for path in (alert_path(world, alert), position_path(world, alert["position_id"])):
        page.goto(path)
        (row,) = [row for row in cells(page, "#transfers table") if row[0] == transfer["reference"]]
        assert row[1:4] == ["W", "W2", "20"]
        assert row[4].split(" ")[0] == transfer["status"]
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone"


# --- Over HTTP: who may act, refused input, other tenants -----------------------------------------


def signed_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_an_analyst_sees_no_action_and_is_refused_if_it_posts(trouble):
    world = trouble
    alert = the_alert(world, "S", "stock_out_risk")
    overstock = the_alert(world, "O", "overstock")
    (record,) = api(world, "recommendations/", alert_id=overstock["id"])["results"]
    analyst = signed_in(world.analyst.user)
    for path in (alert_path(world, alert), alert_path(world, overstock)):
        html = analyst.get(path).content.decode()
        assert 'name="action"' not in html
        assert "<button" not in html.split("<main", 1)[1]
    before = writes_of(alert["id"])
    assert analyst.post(alert_path(world, alert), {"action": "acknowledge"}).status_code == 403
    assert writes_of(alert["id"]) == before
    answer = analyst.post(alert_path(world, overstock), {"action": "accept", "recommendation": record["id"]})
    assert answer.status_code == 403
    assert Recommendation.objects.get(pk=record["id"]).status == "proposed"
    # The planner's own form without its CSRF token is refused too.
    forged = signed_in(world.planner.user, csrf=True).post(alert_path(world, alert), {"action": "resolve"})
    assert forged.status_code == 403
    assert writes_of(alert["id"]) == before


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"action": "dismiss", "reason": "bored"}, "reason: One of: false_alarm, too_early"),
        ({"action": "dismiss", "reason": "other", "note": "  "}, "note: Say why in the note"),
        ({"action": "snooze", "until": "2020-01-01T10:00"}, "until: Must be in the future."),
        ({"action": "snooze", "until": "tomorrow"}, "until: Enter a valid date/time."),
        ({"action": "launch"}, "Unknown action 'launch'"),
        ({"action": "accept", "recommendation": "not-a-uuid"}, "recommendation: Enter a valid UUID."),
    ],
)
def test_refused_input_says_why_with_400_and_writes_nothing(trouble, body, words):
    world = trouble
    alert = the_alert(world, "S", "stock_out_risk")
    before = writes_of(alert["id"])
    answer = signed_in(world.planner.user).post(alert_path(world, alert), body)
    assert answer.status_code == 400
    assert words in answer.content.decode().replace("&#x27;", "'")
    assert writes_of(alert["id"]) == before


def test_snoozing_and_dismissing_from_the_page_show_in_the_api(trouble):
    world = trouble
    alert = the_alert(world, "S", "stock_out_risk")
    planner = signed_in(world.planner.user)
    until = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    done = planner.post(alert_path(world, alert), {"action": "snooze", "until": f"{until:%Y-%m-%dT%H:%M}"})
    assert (done.status_code, done["Location"]) == (302, alert_path(world, alert))
    snoozed = api(world, f"alerts/{alert['id']}/")
    assert (snoozed["snoozed"], snoozed["snoozed_until"]) == (True, until.isoformat().replace("+00:00", "Z"))
    page = planner.get(done["Location"]).content.decode()
    assert f"Snoozed until {until:%Y-%m-%d %H:%M} UTC" in page
    done = planner.post(alert_path(world, alert), {"action": "dismiss", "reason": "too_late", "note": "PO placed"})
    assert done.status_code == 302
    dismissed = api(world, f"alerts/{alert['id']}/")
    assert (dismissed["status"], dismissed["dismissed_reason"], dismissed["dismissed_note"]) == (
        "dismissed",
        "too_late",
        "PO placed",
    )
    assert dismissed["timeline"][-1]["data"] == {"reason": "too_late"}


def test_a_decided_recommendation_or_a_closed_alert_cannot_be_decided_again(trouble):
    world = trouble
    overstock = the_alert(world, "O", "overstock")
    (record,) = api(world, "recommendations/", alert_id=overstock["id"])["results"]
    planner = signed_in(world.planner.user)
    done = planner.post(alert_path(world, overstock), {"action": "reject", "recommendation": record["id"]})
    assert done.status_code == 302
    again = planner.post(alert_path(world, overstock), {"action": "accept", "recommendation": record["id"]})
    assert again.status_code == 400
    assert "This recommendation is rejected" in again.content.decode()
    assert api(world, f"recommendations/{record['id']}/")["status"] == "rejected"
    # Another alert's recommendation is not decided from this page.
    other = the_alert(world, "O2", "overstock")
    (other_record,) = api(world, "recommendations/", alert_id=other["id"])["results"]
    wrong = planner.post(alert_path(world, overstock), {"action": "accept", "recommendation": other_record["id"]})
    assert wrong.status_code == 400
    assert api(world, f"recommendations/{other_record['id']}/")["status"] == "proposed"
    # Resolved, the alert takes no more actions: a conflict is a 400 with the reason.
    assert planner.post(alert_path(world, overstock), {"action": "resolve"}).status_code == 302
    before = writes_of(overstock["id"])
    late = planner.post(alert_path(world, overstock), {"action": "acknowledge"})
    assert late.status_code == 400
    assert "This alert is resolved" in late.content.decode()
    assert writes_of(overstock["id"]) == before
    # The position page lists it among the recent alerts, no longer among the active ones.
    position = planner.get(position_path(world, overstock["position_id"])).content.decode()
    assert f'data-alert="{overstock["id"]}" class="recent' in position


def test_the_alert_page_reads_the_same_number_of_statements_however_long_its_rfq_and_timeline(trouble):
    world = trouble
    alert = the_alert(world, "S", "stock_out_risk")
    planner = signed_in(world.planner.user)
    path = alert_path(world, alert)

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert planner.get(path).status_code == 200
        return len(queries.captured_queries)

    before = statements()
    (rfq,) = api(world, "rfqs/")["results"]
    for price in ("1.00", "0.99", "0.985"):  # cheap's quote and two revisions
        ok(quote(world.suppliers["cheap"], world, rfq["id"], unit_price=price, quantity=160, lead_time_days=4), 201)
    ok(quote(world.suppliers["quick"], world, rfq["id"], unit_price="0.98", quantity=150, lead_time_days=3), 201)
    assert procurement_settle(rfq["id"]) == "awarded"
    assert planner.post(path, {"action": "acknowledge", "note": "on it"}).status_code == 302
    until = f"{timezone.now() + timedelta(days=1):%Y-%m-%dT%H:%M}"
    assert planner.post(path, {"action": "snooze", "until": until}).status_code == 302
    assert len(api(world, f"alerts/{alert['id']}/")["timeline"]) == len(alert["timeline"]) + 2
    assert len(api(world, f"rfqs/{rfq['id']}/quotes/")) == 4
    assert statements() == before


def test_another_tenants_alerts_and_positions_answer_404(trouble, other_world):
    world = trouble
    alert = the_alert(world, "S", "stock_out_risk")
    # Globex has a stock-out alert of its own on its SKU-1 at WH-1.
    short_stock(other_world, sku="SKU-1", warehouse="WH-1", prefix="globex-")
    evaluate(other_world)
    (theirs,) = api(other_world, "alerts/", rule="stock_out_risk")["results"]
    planner = signed_in(world.planner.user)
    assert planner.get(alert_path(world, alert)).status_code == 200
    assert planner.get(position_path(world, alert["position_id"])).status_code == 200
    lone = planner.get(position_path(world, world.position.pk)).content.decode()  # no sale, no forecast
    assert "No forecast for this position yet" in lone
    # Globex's own position under acme's slug, and acme's ids under globex's: both unknown.
    assert planner.get(position_path(world, other_world.position.pk)).status_code == 404
    assert planner.get(alert_path(world, theirs)).status_code == 404
    assert planner.post(alert_path(world, theirs), {"action": "acknowledge"}).status_code == 404
    assert api(other_world, f"alerts/{theirs['id']}/")["status"] == "open"
    stranger = signed_in(other_world.planner.user)
    assert stranger.get(f"/console/globex/alerts/{alert['id']}/").status_code == 404
    assert stranger.post(f"/console/globex/alerts/{alert['id']}/", {"action": "resolve"}).status_code == 404
    assert stranger.get(f"/console/globex/positions/{alert['position_id']}/").status_code == 404
    assert stranger.get(alert_path(world, alert)).status_code == 404
    assert api(world, f"alerts/{alert['id']}/")["status"] == "open"
    for path in (
        "alerts/00000000-0000-0000-0000-000000000000/",
        "positions/999999999/",
        "positions/0/",
        f"positions/{2**70}/",
    ):
        assert planner.get(f"/console/acme/{path}").status_code == 404
