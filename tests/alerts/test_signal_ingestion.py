"""``ingest/signals/``: market signals per SKU and day, with the rules of every bulk endpoint."""

import uuid

from tests.support.ingest import TODAY, push_rows, ts
from workers.tasks.evaluation import evaluation_incremental


def _reading_details(world) -> dict:
    evaluation_incremental(str(world.tenant.pk))
    response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/indicators/?sku=S")
    (reading,) = response.json()["results"]
    detail = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/indicators/{reading['position_id']}/")
    return detail.json()["details"]


def _stock(shop) -> None:
    rows = [{"kind": "receipt", "sku": "S", "warehouse": "W", "quantity": 5, "occurred_at": ts(3), "external_ref": "r"}]
    assert push_rows(shop.admin, shop.tenant.slug, "movements", rows).status_code == 201


def test_signals_merge_per_day_and_reach_the_readings(shop) -> None:
    _stock(shop)
    day = str(TODAY)
    first = push_rows(shop.erp, shop.tenant.slug, "signals", [{"sku": "S", "day": day, "competitor_price": "1.50"}])
    assert first.status_code == 201, first.json()
    assert first.json() == {"rows": 1, "created": 1, "updated": 0, "skus": 1}
    # A second feed pushes the same day with another signal: the price it leaves out is kept.
    csv = f"sku,day,supplier_lead_time_index\nS,{day},1.3\n"
    second = push_rows(shop.admin, shop.tenant.slug, "signals", csv, fmt="csv")
    assert second.status_code == 201, second.json()
    assert second.json()["updated"] == 1
    details = _reading_details(shop)
    assert details["competitor_price"] == 1.5
    assert details["competitor_price_gap"] == -0.25  # 1.50 against a list price of 2.00
    assert details["supplier_lead_time_index"] == 1.3


def test_bad_rows_are_refused_by_row_and_nothing_is_written(shop) -> None:
    _stock(shop)
    day = str(TODAY)
    rows = [
        {"sku": "S", "day": day, "competitor_price": "1.80"},
        {"sku": "S", "day": day, "social_volume": 10},
        {"sku": "NOPE", "day": day, "social_volume": 3},
        {"sku": "S", "day": "2026-02-30", "social_volume": 3},
        {"sku": "S", "day": str(TODAY.replace(day=1)), "competitor_price": "-1"},
        {"sku": "S", "day": str(TODAY.replace(day=2))},
    ]
    response = push_rows(shop.admin, shop.tenant.slug, "signals", rows)
    assert response.status_code == 400, response.json()
    fields = response.json()["error"]["fields"]
    assert "rows.2.day" in fields  # the same SKU and day as row 1
    assert "rows.4.day" in fields
    assert "rows.5.competitor_price" in fields
    assert "rows.6" in fields  # carries no signal
    # Unknown codes are checked against the database once the rows themselves are sound.
    unknown = push_rows(shop.admin, shop.tenant.slug, "signals", [{"sku": "NOPE", "day": day, "social_volume": 3}])
    assert unknown.status_code == 400
    assert "rows.1.sku" in unknown.json()["error"]["fields"]
    assert _reading_details(shop)["competitor_price"] is None


def test_a_retried_push_is_answered_from_the_key_and_partners_without_the_right_are_refused(shop) -> None:
    key = str(uuid.uuid4())
    rows = [{"sku": "S", "day": str(TODAY), "social_volume": 7}]
    first = push_rows(shop.erp, shop.tenant.slug, "signals", rows, key=key)
    again = push_rows(shop.erp, shop.tenant.slug, "signals", rows, key=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other_body = push_rows(shop.erp, shop.tenant.slug, "signals", [{**rows[0], "social_volume": 8}], key=key)
    assert other_body.status_code == 422
    assert push_rows(shop.supplier, shop.tenant.slug, "signals", rows).status_code == 403
    assert push_rows(shop.analyst, shop.tenant.slug, "signals", rows).status_code == 403


def test_a_row_that_is_no_object_is_named_not_a_crash(shop) -> None:
    for body in ([None], [1, {"sku": "S", "day": str(TODAY), "social_volume": 1}], ["S"]):
        response = push_rows(shop.admin, shop.tenant.slug, "signals", body)
        assert response.status_code == 400, response.content
        assert response.json()["error"]["fields"]["rows.1"] == ["Each row must be an object of field names to values."]
