"""The overview in a real browser: its counts and values against what the API lists for alerts the
engine opened from pushed movements; the month's KPIs once the month is closed; a phone's width;
and a query count that does not grow with the tenant."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.quality.kpi_reports import kpi_month_close, month_before
from tests.support.browser import PHONE
from tests.support.calls import evaluate, ok, url
from tests.support.console_alerts import api_alert, api_alerts, graded, master, overstocked
from tests.support.histories import steady_sales

LIVE = {"active": "true", "status": ["open", "acknowledged"]}
GRADES = ("red", "orange", "yellow")


def overview_world(world):
    """Overstock (red on A, orange on D, yellow on B), one red acknowledged, one dismissed, the
    yellow one snoozed; E
    selling 3 a day, sold out at W1 and nearly so at W2: stock-out risk."""
    master(
        world,
        categories={"C1": "Food oil", "C2": "Rice"},
        warehouses={"W1": "north", "W2": "south"},
        skus={"A": "C1", "B": "C1", "D": "C2", "E": "C2"},
    )
    overstocked(world, [("A", "W1"), ("A", "W2"), ("B", "W1"), ("D", "W2"), ("D", "W1")], evaluated=False)
    steady_sales(world, "W1", 0, sku="E", days=40, per_day=3)
    steady_sales(world, "W2", 4, sku="E", days=40, per_day=3)
    evaluate(world)
    graded(world, "B", "yellow")
    graded(world, "D", "orange")
    (a1,) = api_alerts(world, sku="A", warehouse="W1", rule="overstock")
    (d1,) = api_alerts(world, sku="D", warehouse="W1", rule="overstock")
    client = world.planner.client
    ok(client.post(url(world, f"alerts/{a1['id']}/acknowledge/"), {}, format="json"))
    ok(client.post(url(world, f"alerts/{d1['id']}/dismiss/"), {"reason": "too_early"}, format="json"))
    (b1,) = api_alerts(world, sku="B", warehouse="W1", rule="overstock")
    until = (timezone.now() + timedelta(days=3)).isoformat()
    ok(client.post(url(world, f"alerts/{b1['id']}/snooze/"), {"until": until}, format="json"))
    return world


def readings(world) -> list[dict]:
    return ok(world.planner.client.get(url(world, "indicators/"), {"page_size": 1000}))["results"]


def skus(world) -> dict[str, dict]:
    return {s["code"]: s for s in ok(world.planner.client.get(url(world, "skus/"), {"page_size": 1000}))["results"]}


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def cents(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_the_overview_shows_what_the_api_lists(console_site, world):
    overview_world(world)
    page = console_site.signed_in(world.planner.user)
    page.goto("/console/acme/")

    # Live alerts by grade, and by rule and grade, as alerts/ counts them.
    live = api_alerts(world, **LIVE)
    assert {a["status"] for a in live} == {"open", "acknowledged"}
    for grade in GRADES:
        expected = len(api_alerts(world, grade=grade, **LIVE))
        assert page.locator(f'#live-alerts .figure[data-grade="{grade}"] .count').inner_text() == str(expected)
    assert page.locator('#live-alerts .figure[data-grade="all"] .count').inner_text() == str(len(live))
    snoozed = api_alerts(world, snoozed="true", **LIVE)
    assert len(snoozed) == 1
    assert page.locator('#live-alerts .figure[data-grade="snoozed"] .count').inner_text() == "1"
    per_rule = Counter((a["rule"], a["grade"]) for a in live)
    assert per_rule[("overstock", "red")] == 2  # A at W1 (acknowledged) and W2; D at W1 was dismissed
    for rule in {a["rule"] for a in live}:
        for grade in GRADES:
            cell = page.locator(f'#rules-table tr[data-rule="{rule}"] td[data-grade="{grade}"]').inner_text()
            assert int(cell) == per_rule[(rule, grade)], (rule, grade)
    assert page.locator("#chart-rules ~ .chart svg, .chart[data-chart=chart-rules] svg").count() == 1

    # The trend: opened and closed per day, from the timelines the API shows.
    events = [e for a in api_alerts(world) for e in api_alert(world, a["id"])["timeline"]]
    today = timezone.now().date().isoformat()
    opened = sum(1 for e in events if e["kind"] in ("opened", "reopened") and e["created_at"].startswith(today))
    closed = sum(
        1
        for e in events
        if e["kind"] in ("resolved", "auto_resolved", "dismissed") and e["created_at"].startswith(today)
    )
    assert opened >= 7
    assert closed >= 1
    last_row = page.locator("#trend-table tbody tr").last
    assert last_row.locator("td").all_text_contents() == [today, str(opened), str(closed)]
    assert page.locator("#trend-table tbody tr").count() == 30

    # The health histogram: every reading the API lists, in its band.
    shown = readings(world)
    bands = page.locator("#health-table tbody tr")
    assert bands.count() == 10
    for k in range(10):
        low, high = 10 * k, (100 if k == 9 else 10 * k + 9)
        expected = sum(1 for r in shown if low <= r["health_index"] <= high)
        assert bands.nth(k).locator("td").all_text_contents() == [f"{low}\u2013{high}", str(expected)]

    # Values, from the readings and the SKUs' prices the API lists.
    prices = skus(world)
    over = [r for r in shown if r["overstock"]]
    at_risk = [r for r in shown if r["stockout_risk"]]
    empty = [r for r in shown if r["ads_28"] > 0 and r["available"] <= 0]
    assert over
    assert at_risk
    assert empty
    overstock_value = sum(r["on_hand"] * Decimal(prices[r["sku"]]["unit_cost"]) for r in over)
    shortfall = sum(
        max(r["reorder_point_cover"] - r["available"], 0) * float(prices[r["sku"]]["unit_cost"]) for r in at_risk
    )
    lost = sum(r["ads_28"] * float(prices[r["sku"]]["list_price"]) for r in empty)
    assert money(page.locator("#overstock-value .value").inner_text()) == cents(overstock_value)
    assert money(page.locator("#shortfall-value .value").inner_text()) == cents(shortfall)
    assert money(page.locator("#lost-per-day .value").inner_text()) == cents(lost)
    assert f"{len(over)} positions" in page.locator("#overstock-value .label").inner_text()
    assert "reorder point" in page.locator("#shortfall-value").get_attribute("title")

    # The latest events: the newest timeline entry first, linking to its alert.
    newest = max(
        ((e, a) for a in api_alerts(world) for e in api_alert(world, a["id"])["timeline"]),
        key=lambda pair: pair[0]["created_at"],
    )
    first = page.locator("#events-table tbody tr").first
    assert first.locator("a").get_attribute("href") == f"/console/acme/alerts/{newest[1]['id']}/"

    # No month closed yet: the KPIs say so.
    assert "No month has been closed yet" in page.locator("#kpis").inner_text()
    console_site.screenshot(page, "overview")

    # A count opens the inbox filtered to it: the same alerts.
    page.locator('#live-alerts .figure[data-grade="red"] .count').click()
    page.wait_for_url(re.compile(r"/console/acme/alerts/\?"))
    listed = sorted(page.locator("#inbox-body tr").evaluate_all("rs => rs.map(r => r.dataset.id)"))
    assert listed == sorted(a["id"] for a in api_alerts(world, grade="red", **LIVE))


def test_the_closed_months_kpis_at_phone_width(console_site, world, other_world):
    overview_world(world)
    month = month_before(timezone.now().date())
    _, created = kpi_month_close(tenant=world.tenant, month=month)
    assert created
    api = ok(world.planner.client.get(url(world, f"kpis/reports/{month:%Y-%m}/")))
    page = console_site.signed_in(world.analyst.user, viewport=PHONE)
    page.goto("/console/acme/")

    assert page.locator("#kpis h2").inner_text() == f"KPIs of {month:%Y-%m}"
    row = page.locator('#kpi-table tr[data-kpi="alerts_closed"] td')
    assert row.nth(1).inner_text() == str(api["figures"]["alerts_closed"])
    assert row.nth(2).inner_text() == str(api["previous"]["alerts_closed"])
    overstock_held = page.locator('#kpi-table tr[data-kpi="overstock_value_held"] td').nth(1).inner_text()
    assert money(overstock_held) == Decimal(api["figures"]["overstock_value_held"])
    link = page.get_by_role("link", name="JSON").get_attribute("href")
    assert link == f"/api/v1/tenants/acme/kpis/reports/{month:%Y-%m}/"
    # Drawn (SVG), readable at 390 px: nothing but the tables' own boxes scrolls sideways.
    assert page.locator(".chart svg").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.goto("/console/globex/").status == 404


def test_the_overview_costs_the_same_queries_for_a_bigger_tenant(world):
    client = Client()
    client.force_login(world.planner.user)
    master(world, categories={"C1": "x"}, warehouses={"W1": "north", "W2": "south"}, skus={"A": "C1", "B": "C1"})
    overstocked(world, [("A", "W1")])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/console/acme/").status_code == 200
        return len(captured)

    small = queries()
    overstocked(world, [("A", "W2"), ("B", "W1"), ("B", "W2")])
    client.post("/console/acme/alerts/bulk/", {"ids": [a["id"] for a in api_alerts(world)], "action": "acknowledge"})
    assert len(api_alerts(world, status="acknowledged")) >= 4
    assert queries() == small
    assert small <= 15
