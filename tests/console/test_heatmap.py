"""The heat map, the map of warehouses and moving stock by hand: in a real browser, and over HTTP.

Given a tenant with warehouses WA (east) and WB (west), both with coordinates, and categories C1
(SKUs P, Q) and C2 (SKU R), each warehouse holding each SKU, pushed through the bulk endpoints and
evaluated (the world's own WH-1 / snacks / SKU-1 is there too, and gets coordinates):

| position | receipt | sale | on hand |
| --- | --- | --- | --- |
| P@WA | 1,800, 9 days ago | 1,260, 2 days ago | 540 |
| Q@WA | 90, 44 days ago | - | 90 |
| R@WA | 45, 200 days ago | - | 45 |
| P@WB | 60, 29 days ago | - | 60 |
| Q@WB | 30, 120 days ago | - | 30 |
| R@WB | 300, 10 days ago | 100, 3 days ago | 200 |

R@WA has sold nothing: no safety stock, so it can spare all its 45 units available.
Every cell of the page is checked against ``indicators/rollup/?by=category&warehouse=`` (or
``&region=``) as the API answers it, so the figures are whatever the engine made of the above.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from tests.support.browser import PHONE
from tests.support.calls import evaluate, pushed
from tests.support.ingest import ts

WAREHOUSES = {"WA": ("east", "31.230000", "121.470000"), "WB": ("west", "30.570000", "104.060000")}
# WB's name is markup, which the tooltips (HTML) must show as text.
NAMES = {"WA": "East DC", "WB": "<b>West</b> DC"}
CATEGORY_OF = {"P": "C1", "Q": "C1", "R": "C2"}
METRIC_FIELDS = {
    "health_index": lambda row: row["health_index_mean"],
    "days_of_cover": lambda row: row["days_of_cover"],
    "overstock_value": lambda row: row["overstock_value"],
    "stockout_risk": lambda row: row["stockout_risk_positions"],
    "aged_stock": lambda row: row["age_91_180"] + row["age_over_180"],
}
CELL = re.compile(r'data-row="([^"]+)" data-category="([^"]+)" data-value="([^"]*)"')


@pytest.fixture
def stocked(world):
    pushed(world, "categories", [{"code": "C1", "name": "Cat one"}, {"code": "C2", "name": "Cat two"}])
    pushed(
        world,
        "warehouses",
        [
            {"code": code, "name": NAMES[code], "region": region, "kind": "store", "latitude": lat, "longitude": lon}
            for code, (region, lat, lon) in WAREHOUSES.items()
        ]
        + [
            {
                "code": "WH-1",
                "name": "Main DC",
                "region": "north",
                "kind": "distribution_centre",
                "latitude": "39.900000",
                "longitude": "116.400000",
            }
        ],
    )
    pushed(
        world,
        "skus",
        [
            {"code": "P", "name": "Pears", "category": "C1", "unit_cost": "1", "list_price": "2"},
            {"code": "Q", "name": "Quinces", "category": "C1", "unit_cost": "2", "list_price": "4"},
            {"code": "R", "name": "Rice", "category": "C2", "unit_cost": "3", "list_price": "6"},
        ],
    )
    lines = [
        ("receipt", "P", "WA", 1800, 9),
        ("sale", "P", "WA", 1260, 2),
        ("receipt", "Q", "WA", 90, 44),
        ("receipt", "R", "WA", 45, 200),
        ("receipt", "P", "WB", 60, 29),
        ("receipt", "Q", "WB", 30, 120),
        ("receipt", "R", "WB", 300, 10),
        ("sale", "R", "WB", 100, 3),
    ]
    pushed(
        world,
        "movements",
        [
            {
                "kind": kind,
                "sku": sku,
                "warehouse": warehouse,
                "quantity": quantity,
                "occurred_at": ts(days_ago),
                "external_ref": f"heat-{index}",
            }
            for index, (kind, sku, warehouse, quantity, days_ago) in enumerate(lines)
        ],
    )
    evaluate(world)
    return world


def _api(world, path: str, **params: object) -> dict:
    response = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()


def _expected_cells(world, metric: str, rows: str, keys: list[str]) -> dict[tuple[str, str], str]:
    """Each (row, category) cell as the API's rollup of that row's readings by category answers it."""
    cells = {}
    for key in keys:
        for row in _api(world, "indicators/rollup/", by="category", **{rows: key})["results"]:
            value = METRIC_FIELDS[metric](row)
            cells[(key, row["key"])] = "—" if value is None else str(value)
    return cells


def _transfers(world) -> list[dict]:
    return _api(world, "transfers/")["results"]


def _pixel(page, chart: str, index: int) -> tuple[float, float]:
    """Where the chart drew its series' item ``index``, in page coordinates."""
    x, y = page.evaluate(
        """([id, index]) => {
            const el = document.getElementById(id);
            const item = el.chart.getOption().series[0].data[index];
            return el.chart.convertToPixel({seriesIndex: 0}, item.value.slice(0, 2));
        }""",
        [chart, index],
    )
    box = page.locator(f"#{chart}").bounding_box()
    return box["x"] + x, box["y"] + y


def _chart_items(page, chart: str) -> list[dict]:
    return page.evaluate(
        "(id) => document.getElementById(id).chart.getOption().series[0].data.map(d => ({...d}))", chart
    )


# --- HTTP: every metric and both row kinds equal the API --------------------------------------------


@pytest.mark.parametrize("rows", ["warehouse", "region"])
@pytest.mark.parametrize("metric", list(METRIC_FIELDS))
def test_every_cell_equals_the_apis_rollup_of_its_row_and_category(
    stocked, metric, rows, django_assert_max_num_queries
):
    client = Client()
    client.force_login(stocked.planner.user)
    with django_assert_max_num_queries(5):  # session, user, membership, tenants, the one grid query
        response = client.get(f"/console/acme/heatmap/?metric={metric}&rows={rows}")
    assert response.status_code == 200
    page = response.content.decode()
    cells = {(row, category): value for row, category, value in CELL.findall(page)}
    keys = ["WA", "WB", "WH-1"] if rows == "warehouse" else ["east", "west", "north"]
    expected = _expected_cells(stocked, metric, rows, keys)
    assert cells == expected
    assert len(set(expected.values())) > 1  # the cells differ: a page showing one value everywhere fails
    # Every warehouse (region) x category that holds stock, and only those: WH-1 holds snacks only.
    expected_pairs = {(key, category) for key in keys[:2] for category in ("C1", "C2")} | {(keys[2], "snacks")}
    assert set(cells) == expected_pairs
    # Each cell's link is the inbox filtered to it.
    assert f'href="/console/acme/alerts/?{rows}={keys[0]}&amp;category=C1"' in page


def test_the_overstock_value_is_on_hand_at_unit_cost_of_the_overstock_positions(stocked):
    readings = [r for r in _api(stocked, "indicators/", page_size=100)["results"] if r["sku"] in CATEGORY_OF]
    cost = {"P": 1, "Q": 2, "R": 3}
    values = set()
    for warehouse in WAREHOUSES:
        rows = {r["key"]: r for r in _api(stocked, "indicators/rollup/", by="category", warehouse=warehouse)["results"]}
        for category in ("C1", "C2"):
            held = sum(
                r["on_hand"] * cost[r["sku"]]
                for r in readings
                if r["warehouse"] == warehouse and CATEGORY_OF[r["sku"]] == category and r["overstock"]
            )
            assert rows[category]["overstock_value"] == f"{held:.2f}"
            values.add(held)
    assert len(values) > 1  # some cell holds overstock and some none


def test_bad_choices_are_named_with_400(stocked):
    client = Client()
    client.force_login(stocked.analyst.user)
    response = client.get("/console/acme/heatmap/?metric=colour&rows=planet")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown metric &#x27;colour&#x27;" in page
    assert "not &#x27;planet&#x27;" in page


# --- HTTP: moving stock by hand ---------------------------------------------------------------------


def test_refused_drafts_show_the_services_message_with_400_and_write_nothing(stocked):
    client = Client()
    client.force_login(stocked.planner.user)
    url = "/console/acme/transfers/draft/"
    base = {"source": "WA", "destination": "WB", "sku": "R", "quantity": "10", "note": ""}
    refusals = [
        ({"quantity": "46"}, "WA can spare 45 units of R now: available 45 less safety stock 0"),
        ({"destination": "WA"}, "The destination is the source."),
        ({"sku": "NOPE"}, "No SKU &#x27;NOPE&#x27; in this tenant."),
        ({"source": "ZZ"}, "No warehouse &#x27;ZZ&#x27; that you can see."),
        ({"quantity": "0"}, "Quantity: Ensure this value is greater than or equal to 1."),
        ({"quantity": "-5"}, "Quantity: Ensure this value is greater than or equal to 1."),
        ({"quantity": "many"}, "Quantity: Enter a whole number."),
    ]
    for change, message in refusals:
        response = client.post(url, {**base, **change})
        assert response.status_code == 400, change
        assert message in response.content.decode(), (change, response.content.decode()[-3000:])
    assert _transfers(stocked) == []

    # Without a CSRF token: refused, nothing written.
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(stocked.planner.user)
    assert guarded.post(url, base).status_code == 403
    assert _transfers(stocked) == []

    response = client.post(url, base)
    assert response.status_code == 302
    [transfer] = _transfers(stocked)
    assert (transfer["sku"], transfer["source"], transfer["destination"], transfer["quantity"]) == ("R", "WA", "WB", 10)


def test_an_analyst_may_not_move_and_another_tenants_pages_answer_404(stocked, other_world):
    analyst = Client()
    analyst.force_login(stocked.analyst.user)
    page = analyst.get("/console/acme/transfers/draft/?source=WA&destination=WB")
    assert page.status_code == 200
    assert 'id="draft-form"' not in page.content.decode()
    assert "Move stock by hand" not in analyst.get("/console/acme/heatmap/?view=map").content.decode()
    post = analyst.post(
        "/console/acme/transfers/draft/", {"source": "WA", "destination": "WB", "sku": "R", "quantity": "1"}
    )
    assert post.status_code == 403
    assert _transfers(stocked) == []

    planner = Client()
    planner.force_login(stocked.planner.user)
    for path in ("heatmap/", "heatmap/?view=map", "transfers/draft/"):
        assert planner.get(f"/console/globex/{path}").status_code == 404
    foreign = planner.post(
        "/console/globex/transfers/draft/", {"source": "WH-1", "destination": "WH-1", "sku": "SKU-1", "quantity": "1"}
    )
    assert foreign.status_code == 404


# --- In the browser ---------------------------------------------------------------------------------


def test_the_heat_map_shows_the_rollup_and_a_cell_opens_its_alerts(console_site, stocked):
    page = console_site.signed_in(stocked.planner.user)
    page.goto("/console/acme/heatmap/?metric=aged_stock")
    page.wait_for_selector("#heatmap-chart svg")
    expected = _expected_cells(stocked, "aged_stock", "warehouse", ["WA", "WB", "WH-1"])

    # The chart draws one cell per warehouse x category, each hovering with the rollup's value.
    items = _chart_items(page, "heatmap-chart")
    assert {(item["row"], item["category"]) for item in items} == set(expected)
    assert len(items) == len(expected) == 5
    for index, item in enumerate(items):
        page.mouse.move(*_pixel(page, "heatmap-chart", index))
        tooltip = page.locator("#heatmap-chart div").filter(has_text="Aged stock").last
        text = tooltip.inner_text()
        assert f"Aged stock (units over 90 days): {expected[(item['row'], item['category'])]}" in text, text
    # The cells are in the SVG too, labelled with their values.
    svg_text = page.locator("#heatmap-chart svg").text_content()
    for value in expected.values():
        assert value in svg_text

    # The table toggle has the same values, readable without colour.
    page.get_by_text("Table", exact=True).click()
    cells = page.locator("#heatmap-table td[data-value]")
    assert cells.count() == 5
    shown = {
        (cells.nth(i).get_attribute("data-row"), cells.nth(i).get_attribute("data-category")): cells.nth(i).inner_text()
        for i in range(5)
    }
    assert shown == expected
    console_site.screenshot(page, "heatmap")

    # Clicking the WA x C1 cell opens the inbox filtered to it.
    index = next(i for i, item in enumerate(items) if (item["row"], item["category"]) == ("WA", "C1"))
    page.mouse.click(*_pixel(page, "heatmap-chart", index))
    page.wait_for_url(re.compile(r"/console/acme/alerts/\?"))
    assert parse_qs(urlparse(page.url).query) == {"warehouse": ["WA"], "category": ["C1"]}
    assert page.get_by_role("heading", level=1).inner_text().startswith("Alert")


def test_the_map_has_one_point_per_warehouse_and_a_drag_drafts_a_transfer(console_site, stocked):
    page = console_site.signed_in(stocked.planner.user)
    page.goto("/console/acme/heatmap/?metric=health_index&view=map")
    page.wait_for_selector("#map-chart svg")
    by_warehouse = {row["key"]: row for row in _api(stocked, "indicators/rollup/", by="warehouse")["results"]}
    items = _chart_items(page, "map-chart")
    assert sorted(item["code"] for item in items) == ["WA", "WB", "WH-1"]
    for index, item in enumerate(items):
        page.mouse.move(*_pixel(page, "map-chart", index))
        health = by_warehouse[item["code"]]["health_index_mean"]
        tooltip = page.locator("#map-chart div").filter(has_text=f"Health index (mean): {health}").last
        tooltip.wait_for()
        if item["code"] == "WB":
            assert "WB · <b>West</b> DC (west)" in tooltip.inner_text()
    page.get_by_text("Table", exact=True).click()
    assert page.locator("#map-table tbody tr").count() == 3
    console_site.screenshot(page, "map")

    # Drag WA onto WB: the draft opens with both filled in.
    source = next(i for i, item in enumerate(items) if item["code"] == "WA")
    destination = next(i for i, item in enumerate(items) if item["code"] == "WB")
    page.mouse.move(*_pixel(page, "map-chart", source))
    page.mouse.down()
    page.mouse.move(*_pixel(page, "map-chart", destination), steps=8)
    page.mouse.up()
    page.wait_for_url(re.compile(r"/transfers/draft/\?"))
    assert parse_qs(urlparse(page.url).query) == {"source": ["WA"], "destination": ["WB"]}
    assert page.locator("#draft-source").inner_text() == "WA"
    assert page.locator("#draft-destination").inner_text() == "WB"
    # The picker lists WA's SKUs with what each can spare: R, unsold, all its 45.
    assert page.locator("#draft-sku option[value=R]").get_attribute("data-spare") == "45"

    page.select_option("#draft-sku", "R")
    page.fill("#draft-quantity", "46")
    page.get_by_role("button", name="Request the transfer").click()
    page.locator(".messages li.error").filter(has_text="WA can spare 45 units of R now").wait_for()
    assert _transfers(stocked) == []

    page.select_option("#draft-sku", "R")
    page.fill("#draft-quantity", "12")
    page.get_by_role("button", name="Request the transfer").click()
    message = page.locator(".messages li.success")
    message.wait_for()
    [transfer] = _transfers(stocked)
    assert (transfer["sku"], transfer["source"], transfer["destination"], transfer["quantity"]) == ("R", "WA", "WB", 12)
    assert transfer["reference"] in message.inner_text()
    assert transfer["reference"] in page.locator("#recent").inner_text()


def test_on_a_phone_a_planner_drafts_with_the_menus_and_an_analyst_reads(console_site, stocked):
    page = console_site.signed_in(stocked.planner.user, viewport=PHONE)
    page.goto("/console/acme/heatmap/?metric=stockout_risk&rows=region")
    page.wait_for_selector("#heatmap-chart svg")
    assert page.locator("#heatmap-table td[data-value]").count() == 5
    page.get_by_role("link", name="Move stock by hand").click()
    page.select_option("#route-source", "WA")
    page.wait_for_url(re.compile(r"source=WA"))
    page.select_option("#route-destination", "WB")
    page.wait_for_url(re.compile(r"destination=WB"))
    page.select_option("#draft-sku", "Q")
    page.fill("#draft-quantity", "5")
    page.get_by_role("button", name="Request the transfer").click()
    page.locator(".messages li.success").wait_for()
    [transfer] = _transfers(stocked)
    assert (transfer["sku"], transfer["source"], transfer["destination"], transfer["quantity"]) == ("Q", "WA", "WB", 5)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]

    analyst = console_site.signed_in(stocked.analyst.user, viewport=PHONE)
    analyst.goto("/console/acme/heatmap/?view=map")
    analyst.wait_for_selector("#map-chart svg")
    assert analyst.locator("#map-chart").get_attribute("data-draft-url") is None
    analyst.goto("/console/acme/transfers/draft/?source=WA&destination=WB")
    assert analyst.locator("#draft-form").count() == 0
    assert transfer["reference"] in analyst.locator("#recent").inner_text()
