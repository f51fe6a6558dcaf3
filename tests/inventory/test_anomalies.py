"""Data cleaning: suspicious sales stay in the ledger, out of the daily facts, until dismissed."""

from datetime import timedelta

from core.inventory.models import DailyFact, Movement
from tests.support.ingest import TODAY, push_rows, ts


def sale(qty: int, ref: str, days_ago: int = 1, **extra) -> dict:
    return {
        "kind": "sale",
        "sku": "S",
        "warehouse": "W",
        "quantity": qty,
        "occurred_at": ts(days_ago),
        "external_ref": ref,
        **extra,
    }


def stock_up(world, qty: int = 10_000) -> None:
    row = {
        "kind": "receipt",
        "sku": "S",
        "warehouse": "W",
        "quantity": qty,
        "occurred_at": ts(60),
        "external_ref": "stock",
    }
    assert push_rows(world.erp, world.tenant.slug, "movements", [row]).status_code == 201


def fact(days_ago: int = 1) -> DailyFact:
    return DailyFact.objects.get(position__sku__code="S", day=TODAY - timedelta(days=days_ago))


def anomalies(world, **params) -> list[dict]:
    response = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/anomalies/", params)
    assert response.status_code == 200
    return response.json()["results"]


def test_zero_or_negative_price_is_flagged_and_kept_out(shop) -> None:
    stock_up(shop)
    response = push_rows(
        shop.erp,
        shop.tenant.slug,
        "movements",
        [sale(3, "a", unit_price="0"), sale(2, "b", unit_price="-1.5"), sale(4, "c", unit_price="2")],
    )
    assert response.json()["flagged"] == 2
    assert (fact().units_sold, fact().units_flagged, fact().revenue) == (4, 5, 8)
    assert Movement.objects.filter(kind="sale", position__sku__code="S").count() == 3  # kept in the ledger
    flagged = anomalies(shop)
    assert sorted((a["external_ref"], a["reason"]) for a in flagged) == [
        ("a", "non_positive_price"),
        ("b", "non_positive_price"),
    ]


def test_repeated_order_lines_in_the_batch_and_across_batches(shop) -> None:
    stock_up(shop)
    push_rows(
        shop.erp,
        shop.tenant.slug,
        "movements",
        [sale(1, "l1", order_ref="o-1"), sale(1, "l2", order_ref="o-1"), sale(1, "l3", order_ref="o-2")],
    )
    push_rows(shop.erp, shop.tenant.slug, "movements", [sale(1, "l4", order_ref="o-2")])
    assert sorted(a["external_ref"] for a in anomalies(shop, reason="repeated_order_line")) == ["l2", "l4"]
    assert fact().units_sold == 2


def test_spikes_beyond_median_plus_k_mad(shop, settings) -> None:
    settings.ANOMALY_SPIKE_K = 5
    stock_up(shop)
    # Ten days of history: median 10, MAD 1, so the threshold is 10 + 5 x 1 = 15
    history = [10, 12, 9, 11, 10, 13, 10, 8, 11, 10]
    rows = [sale(units, f"h{day}", days_ago=day + 2) for day, units in enumerate(history)]
    assert push_rows(shop.erp, shop.tenant.slug, "movements", rows).json()["flagged"] == 0
    response = push_rows(shop.erp, shop.tenant.slug, "movements", [sale(15, "edge"), sale(16, "spike")])
    assert response.json()["flagged"] == 1
    (spike,) = anomalies(shop, reason="spike")
    assert spike["external_ref"] == "spike"
    assert spike["detail"] == {
        "quantity": 16,
        "median": 10.0,
        "mad": 1.0,
        "k": 5.0,
        "threshold": 15.0,
        "baseline_days": 10,
    }
    assert (fact().units_sold, fact().units_flagged) == (15, 16)


def test_no_spike_without_enough_baseline(shop) -> None:
    stock_up(shop)
    rows = [sale(10, f"h{day}", days_ago=day + 2) for day in range(3)]
    push_rows(shop.erp, shop.tenant.slug, "movements", rows)
    assert push_rows(shop.erp, shop.tenant.slug, "movements", [sale(500, "big")]).json()["flagged"] == 0


def test_dismissed_anomaly_counts_again_and_confirmed_stays_out(shop) -> None:
    stock_up(shop)
    push_rows(shop.erp, shop.tenant.slug, "movements", [sale(3, "a", unit_price="0"), sale(2, "b", unit_price="0")])
    by_ref = {a["external_ref"]: a for a in anomalies(shop)}
    base = f"/api/v1/tenants/{shop.tenant.slug}/anomalies/"
    dismissed = shop.planner.client.post(f"{base}{by_ref['a']['id']}/dismiss/")
    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["reviewed_by"].startswith("user:")
    confirmed = shop.admin.client.post(f"{base}{by_ref['b']['id']}/confirm/")
    assert confirmed.json()["status"] == "confirmed"
    # The dismissed sale counts again at its own price (0), the confirmed one stays out
    assert (fact().units_sold, fact().units_flagged, fact().revenue) == (3, 2, 0)
    # A second review of the same anomaly is a conflict, and analysts may not review
    again = shop.planner.client.post(f"{base}{by_ref['a']['id']}/confirm/")
    assert again.status_code == 409
    assert "already dismissed" in again.json()["error"]["message"]
    assert shop.analyst.client.post(f"{base}{by_ref['b']['id']}/dismiss/").status_code == 403
    assert [a["external_ref"] for a in anomalies(shop, status="flagged")] == []


def test_order_references_are_per_partner(shop) -> None:
    # The same order number from two pushers is two orders, not a repeat.
    stock_up(shop)
    push_rows(shop.erp, shop.tenant.slug, "movements", [sale(1, "l1", order_ref="o-1")])
    response = push_rows(shop.admin, shop.tenant.slug, "movements", [sale(1, "l1", order_ref="o-1")])
    assert response.json()["flagged"] == 0
    assert fact().units_sold == 2
