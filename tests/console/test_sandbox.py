"""The what-if sandbox page: a scenario run in a real browser against figures worked out by hand, the
live tenant unchanged after it, bad input refused with its message (400), and another tenant's page 404.

The position (tests/support/sandbox_shop.py): HAND at W holds ``available`` units and sells ``ads_28``
a day, no forecast, lead time 14 days; HAND at V holds ``spare`` and sells nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from core.alerts.sandbox import HORIZON_DAYS
from tests.support.browser import PHONE
from tests.support.ingest import push_rows
from tests.support.sandbox_shop import DEFAULT_LEAD_TIME, hand_made_position, live_counts


def shocked_by_hand(available: float, ads: float, k: float, days: int) -> tuple[int | None, int, float]:
    """(first day at or below zero, days at or below zero within the horizon, days of cover) when demand
    runs at ads x k for the first ``days`` days and at ads after."""
    left, first, out, cover, used = float(available), None, 0, None, 0.0
    for day in range(HORIZON_DAYS):
        demand = ads * (k if day < days else 1)
        if cover is None and used + demand >= available:
            cover = day + (available - used) / demand
        used += demand
        left -= demand
        if left <= 0:
            out += 1
            first = day if first is None else first
    return first, out, cover


def api_counts(world) -> dict:
    """What the API lists of the tenant that the sandbox must leave alone."""
    base = f"/api/v1/tenants/{world.tenant.slug}"
    seen = {}
    for path in ("alerts/", "indicators/", "rfqs/", "movements/"):
        response = world.admin.client.get(f"{base}/{path}")
        assert response.status_code == 200, (path, response.content)
        body = response.json()
        seen[path] = sorted(
            (row.get("id") or row.get("position_id"), row.get("grade"), row.get("on_hand")) for row in body["results"]
        )
    return seen


def test_a_planner_runs_a_demand_shock_and_reads_the_stock_out_worked_out_by_hand(console_site, world) -> None:
    hand = hand_made_position(world)
    counts, listed = live_counts(world.tenant), api_counts(world)
    k, days = 3, 10
    first, out_days, cover = shocked_by_hand(hand.available, hand.ads_28, k, days)
    plain_first = next(d for d in range(HORIZON_DAYS) if hand.available - hand.ads_28 * (d + 1) <= 0)
    today = timezone.now().date()

    page = console_site.signed_in(world.planner.user)
    page.goto("/console/acme/sandbox/")
    assert page.get_by_role("heading", level=1).inner_text() == "What-if sandbox"
    page.get_by_label("SKU codes").fill(hand.sku)
    page.get_by_label("Warehouse codes").fill("all")
    page.get_by_label("Scenario").select_option("demand_shock")
    assert page.get_by_label("Discount %").is_hidden()  # only the chosen kind's fields
    page.get_by_label("Demand x k").fill(str(k))
    page.get_by_label("Days", exact=True).fill(str(days))
    page.get_by_role("button", name="Run scenario").click()
    row = page.locator("#sandbox-positions tr[data-warehouse='W']")
    row.wait_for()
    assert page.url.endswith("/console/acme/sandbox/")  # answered in place, not a new page
    cell = row.locator("[data-cell]")
    cells = dict(zip(cell.evaluate_all("cells => cells.map(c => c.dataset.cell)"), cell.all_inner_texts(), strict=True))
    assert cells["first-out-after"] == f"{today + timedelta(days=first)} (day {first})"
    assert cells["first-out-before"] == f"{today + timedelta(days=plain_first)} (day {plain_first})"
    assert int(cells["out-days-after"]) == out_days
    assert float(cells["cover-after"]) == cover
    assert float(cells["cover-before"]) == hand.available / hand.ads_28
    # Cover falls below the 14-day lead time only under the shock: the stock-out alert would open.
    assert cover < DEFAULT_LEAD_TIME < hand.available / hand.ads_28
    assert "stock_out_risk" in cells["opening"]
    assert page.locator("[data-figure='stock-out-days']").inner_text().endswith(f"→ {out_days}")
    # The chart: two lines, rolled up first, then one position's chosen (its table follows).
    assert page.locator("#sandbox-chart svg path").count() >= 2
    page.select_option("#sandbox-chart-of", label=f"{hand.sku} @ W")
    shown = page.locator("[data-series-of]:not([hidden])")
    assert shown.locator("summary").inner_text() == f"Table: {hand.sku} @ W"
    console_site.screenshot(page, "sandbox")
    shown.locator("summary").click()
    day_row = shown.locator("tbody tr").nth(first)
    assert day_row.locator("td").nth(0).inner_text() == str(today + timedelta(days=first))
    assert (
        float(day_row.locator("td").nth(2).inner_text())
        <= 0
        < float(shown.locator("tbody tr").nth(first - 1).locator("td").nth(2).inner_text())
    )
    # Nothing in the live tenant changed: rows, alerts, stock, and what the API lists.
    assert live_counts(world.tenant) == counts
    assert api_counts(world) == listed


def test_an_analyst_at_phone_width_runs_scenarios_and_bad_input_shows_its_message(
    console_site, world, other_world
) -> None:
    hand = hand_made_position(world)
    pushed = push_rows(
        other_world.admin,
        other_world.tenant.slug,
        "skus",
        [{"code": "GLOBEX-ONLY", "name": "G", "category": "snacks", "unit_cost": "1", "list_price": "2"}],
    )
    assert pushed.status_code == 201, pushed.content
    counts = live_counts(world.tenant)
    page = console_site.signed_in(world.analyst.user, viewport=PHONE)
    page.goto("/console/acme/sandbox/")
    refusals = page.locator("#sandbox-results [role='alert']")

    def run(**fields: str) -> None:
        page.get_by_label("SKU codes").fill(fields.pop("skus", hand.sku))
        page.get_by_label("Scenario").select_option(fields.pop("kind"))
        for label, value in fields.items():
            page.get_by_label(label, exact=True).fill(value)
        with page.expect_response(re.compile(r"/sandbox/$")) as answered:
            page.get_by_role("button", name="Run scenario").click()
        return answered.value.status

    assert run(kind="promotion", **{"Discount %": "100", "Days": "5"}) == 400
    expect(refusals).to_contain_text("Discount %: The discount is a percentage above 0 and below 100 (got 100).")
    assert run(kind="promotion", **{"Discount %": "0", "Days": "5"}) == 400
    expect(refusals).to_contain_text("above 0 and below 100 (got 0)")
    assert run(kind="demand_shock", **{"Demand x k": "2", "Days": "-2"}) == 400
    expect(refusals).to_contain_text("Days: A whole number of days from 1 to 365 (got -2).")
    assert run(kind="demand_shock", skus="NOPE", **{"Demand x k": "2", "Days": "3"}) == 400
    expect(refusals).to_contain_text("Unknown SKU code: NOPE.")
    assert run(kind="demand_shock", skus="GLOBEX-ONLY", **{"Demand x k": "2", "Days": "3"}) == 400
    expect(refusals).to_contain_text("Unknown SKU code: GLOBEX-ONLY.")
    assert (
        run(
            kind="transfer",
            **{
                "SKU to move": hand.sku,
                "From warehouse": "W",
                "To warehouse": "V",
                "Quantity": str(hand.available + 1),
            },
        )
        == 400
    )
    expect(refusals).to_contain_text(f"more than the {hand.available} available of {hand.sku} at W")
    # A good run answers at phone width without widening the page (tables scroll in their own box).
    assert run(kind="transfer", Quantity="100") == 200
    page.locator("#sandbox-positions tr[data-warehouse='V']").wait_for()
    assert refusals.count() == 0
    assert "Transfer 100 of HAND from W to V" in page.locator("#sandbox-summary-title").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("form.sandbox-form").evaluate("f => f.getBoundingClientRect().right") <= PHONE["width"]
    assert live_counts(world.tenant) == counts


def test_over_http_bad_kinds_400_another_tenant_404_csrf_refused_and_no_js_gets_the_page(world, other_world) -> None:
    hand = hand_made_position(world)
    counts = live_counts(world.tenant)
    client = Client()
    client.force_login(world.analyst.user)
    good = {"skus": hand.sku, "warehouses": "", "kind": "demand_shock", "factor": "2", "days": "14"}
    refused = client.post("/console/acme/sandbox/", {**good, "kind": "weather"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert "Unknown scenario kind &#x27;weather&#x27;" in refused.content.decode()
    refused = client.post("/console/acme/sandbox/", {**good, "factor": "lots"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert "Demand x k: Enter a number." in refused.content.decode()
    refused = client.post("/console/acme/sandbox/", {**good, "warehouses": "W, NOWHERE"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert "Unknown warehouse code: NOWHERE." in refused.content.decode()
    # A transfer moves the one SKU chosen unless another is named; with none chosen or named it asks.
    transfer = {"kind": "transfer", "from_warehouse": "W", "to_warehouse": "V", "quantity": "10"}
    moved = client.post("/console/acme/sandbox/", {"skus": hand.sku, **transfer}, HTTP_HX_REQUEST="true")
    assert moved.status_code == 200
    assert f"Transfer 10 of {hand.sku} from W to V" in moved.content.decode()
    asked = client.post("/console/acme/sandbox/", {"skus": "", **transfer}, HTTP_HX_REQUEST="true")
    assert asked.status_code == 400
    assert "SKU to move: Required for a transfer." in asked.content.decode()
    # Without htmx the whole page answers, with the results in it.
    page = client.post("/console/acme/sandbox/", good)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>What-if sandbox</h1>" in body
    assert 'id="sandbox-positions"' in body
    # Another tenant's sandbox is not found, to read or to run.
    assert client.get("/console/globex/sandbox/").status_code == 404
    assert client.post("/console/globex/sandbox/", good).status_code == 404
    # A post without its CSRF token is refused.
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(world.planner.user)
    assert guarded.post("/console/acme/sandbox/", good).status_code == 403
    assert live_counts(world.tenant) == counts
