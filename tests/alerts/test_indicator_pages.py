"""indicators/ and its rollup page like every list: a cursor and ``page_size``, in any order asked for.

Seven SKUs at one warehouse: five sell (so their days of cover are known, and some are equal),
two never sold (no days of cover: those come last whichever way the list is sorted). With the
world's own SKU-1 at WH-1 (received, never sold), eight readings.
"""

from __future__ import annotations

import pytest

from tests.support.calls import evaluate, ok, pushed, url
from tests.support.documented import openapi_document
from tests.support.ingest import ts

# SKU: (received, sold on each of the last 28 days)
READINGS = 8
STOCK = {"A": (300, 2), "B": (300, 2), "C": (200, 5), "D": (400, 10), "E": (900, 1), "F": (40, 0), "G": (80, 0)}


@pytest.fixture
def shelves(shop):
    pushed(
        shop,
        "skus",
        [{"code": sku, "name": sku, "category": "C", "unit_cost": "1", "list_price": "2"} for sku in STOCK],
    )
    rows = []
    for sku, (received, daily) in STOCK.items():
        rows.append(
            {
                "kind": "receipt",
                "sku": sku,
                "warehouse": "W",
                "quantity": received,
                "occurred_at": ts(60),
                "external_ref": f"{sku}-in",
            }
        )
        rows += [
            {
                "kind": "sale",
                "sku": sku,
                "warehouse": "W",
                "quantity": daily,
                "occurred_at": ts(day),
                "external_ref": f"{sku}-{day}",
            }
            for day in range(28)
            if daily
        ]
    pushed(shop, "movements", rows)
    evaluate(shop)
    return shop


def walk(world, path: str, **params) -> tuple[list[dict], list[list[dict]]]:
    """Every row by following ``next`` from the first page, and the pages seen going back by ``previous``."""
    page = ok(world.admin.client.get(url(world, path), params))
    rows, forward = list(page["results"]), [page["results"]]
    assert page["previous"] is None
    while page["next"]:
        page = ok(world.admin.client.get(page["next"]))
        rows += page["results"]
        forward.append(page["results"])
    assert all(len(shown) <= params["page_size"] for shown in forward)
    backward = [page["results"]]
    while page["previous"]:
        page = ok(world.admin.client.get(page["previous"]))
        backward.append(page["results"])
    assert backward[::-1] == forward  # the way back shows the same pages
    return rows, forward


def test_indicators_page_by_cursor_and_page_size_in_the_default_order(shelves):
    everything = ok(shelves.admin.client.get(url(shelves, "indicators/"), {"page_size": 1000}))["results"]
    assert len(everything) == READINGS
    keys = [(r["health_index"], r["position_id"]) for r in everything]
    assert keys == sorted(keys)  # unhealthiest first, the position breaking ties
    rows, pages = walk(shelves, "indicators/", page_size=2)
    assert rows == everything
    assert [len(page) for page in pages] == [2, 2, 2, 2]


@pytest.mark.parametrize("ordering", ["days_of_cover", "-days_of_cover", "-health_index"])
def test_any_ordering_pages_the_same_rows_and_unknown_values_come_last(shelves, ordering):
    field = ordering.lstrip("-")
    everything = ok(shelves.admin.client.get(url(shelves, "indicators/"), {"page_size": 1000, "ordering": ordering}))
    everything = everything["results"]
    known = [r[field] for r in everything if r[field] is not None]
    assert known == sorted(known, reverse=ordering.startswith("-"))
    assert [r[field] for r in everything[len(known) :]] == [None] * (len(everything) - len(known))
    if field == "days_of_cover":
        assert len(known) == 5  # F, G and SKU-1 never sold: no days of cover, last either way
    rows, _ = walk(shelves, "indicators/", page_size=2, ordering=ordering)
    assert rows == everything


def test_the_rollup_pages_by_key_the_same_way(shelves):
    whole = ok(shelves.admin.client.get(url(shelves, "indicators/rollup/"), {"by": "sku", "page_size": 1000}))
    keys = [row["key"] for row in whole["results"]]
    assert keys == sorted(keys)
    assert len(keys) == READINGS
    rows, pages = walk(shelves, "indicators/rollup/", by="sku", page_size=3)
    assert [row["key"] for row in rows] == keys
    assert [len(page) for page in pages] == [3, 3, 2]


def test_a_forged_cursor_is_not_found_and_limit_offset_are_gone(shelves):
    for cursor in ("garbage", "eyJyIjowLCJ2IjpbIngiLDFdfQ==", "eyJyIjowLCJ2IjpbXX0="):  # [x, 1] and []
        response = shelves.admin.client.get(url(shelves, "indicators/"), {"cursor": cursor})
        assert response.status_code == 404, (cursor, response.content)
    parameters = {
        path: {
            p["name"]
            for p in openapi_document()["paths"][f"/api/v1/tenants/{{tenant_slug}}/{path}"]["get"]["parameters"]
        }
        for path in ("indicators/", "indicators/rollup/")
    }
    for names in parameters.values():
        assert {"cursor", "page_size"} <= names
        assert not {"limit", "offset"} & names
