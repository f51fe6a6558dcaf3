"""The promotion uplift on hand-made histories pushed through ingestion: learned from past promotions,
stated, from the price elasticity; the refit a promotion change causes; the backtest's promotion
figure; and the selector the stocking rules read."""

from __future__ import annotations

import math
from datetime import date, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from core.forecasting.elasticity import DEFAULT_ELASTICITY, price_responses
from core.forecasting.models import Forecast
from core.forecasting.promotion_selectors import promotions_upcoming
from core.forecasting.services import forecasts_changed_pass
from core.forecasting.uplift import SHRINKAGE_DAYS
from core.inventory.models import Position
from tests.support.ingest import push_rows

TODAY = timezone.now().date()
BASE = 10
UPLIFT = 2.0


def _day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def _push_history(world, code: str, days: int, units_on, price_on=lambda day: "2") -> int:
    """A SKU in WH-1 stocked the morning of ``days`` days ago, then each day's sales (``units_on(day)``) at
    ``price_on(day)``; answer the position id."""
    slug = world.tenant.slug
    sku = {"code": code, "name": code, "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, slug, "skus", [sku]).status_code == 201
    rows = [
        {
            "kind": "receipt",
            "sku": code,
            "warehouse": world.warehouse.code,
            "quantity": 1_000_000,
            "occurred_at": f"{_day(-days)}T06:00:00Z",
            "external_ref": f"{code}-stock",
        }
    ]
    for back in range(days, 0, -1):
        day = _day(-back)
        units = units_on(day)
        if units:
            quantity = int(units)
            rows.append(
                {
                    "kind": "sale",
                    "sku": code,
                    "warehouse": world.warehouse.code,
                    "quantity": quantity,
                    "unit_price": price_on(day),
                    "occurred_at": f"{day}T12:00:00Z",
                    "external_ref": f"{code}-sale-{day}",
                }
            )
    response = push_rows(world.admin, slug, "movements", rows)
    assert response.status_code == 201, response.json()
    return Position.objects.get(tenant=world.tenant, sku__code=code).id


def _promote(world, code: str, starts: date, ends: date, **extra: object) -> dict:
    body = {
        "sku": code,
        "warehouses": [world.warehouse.code],
        "starts_on": starts.isoformat(),
        "ends_on": ends.isoformat(),
        "discount_percent": "20",
    } | extra
    response = world.planner.client.post(f"/api/v1/tenants/{world.tenant.slug}/promotions/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _refresh(world) -> str:
    out = StringIO()
    call_command("forecast", tenant=world.tenant.slug, stdout=out)
    return out.getvalue()


def _detail(world, position_id: int) -> dict:
    response = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecasts/{position_id}/")
    assert response.status_code == 200, response.json()
    return response.json()


# Three past promotions of a week each, 10 a day otherwise, twice that while promoted.
PAST = [(-100, -94), (-65, -59), (-30, -24)]


def _in(day: date, windows: list[tuple[int, int]]) -> bool:
    return any(_day(a) <= day <= _day(b) for a, b in windows)


def test_the_uplift_is_learned_from_past_promotions_and_the_base_leaves_them_out(world) -> None:
    position_id = _push_history(world, "SKU-PROMO", 120, lambda day: BASE * (UPLIFT if _in(day, PAST) else 1))
    for a, b in PAST:
        _promote(world, "SKU-PROMO", _day(a), _day(b))
    coming = _promote(world, "SKU-PROMO", _day(10), _day(16))
    _refresh(world)

    detail = _detail(world, position_id)
    (applied,) = detail["promotions"]
    assert (applied["id"], applied["source"], applied["learned_days"]) == (coming["id"], "learned", 21)
    # The ratio read is exactly 2; with 21 days it is shrunk a little towards the prior, here the
    # default elasticity at 20 % off (every sale was at the list price: no elasticity to read).
    prior = 0.8**DEFAULT_ELASTICITY
    expected = (21 * UPLIFT + SHRINKAGE_DAYS * prior) / (21 + SHRINKAGE_DAYS)
    assert applied["uplift"] == pytest.approx(expected, rel=1e-3)
    days = {date.fromisoformat(d["date"]): d for d in detail["days"]}
    promoted = [days[_day(k)]["mean"] for k in range(10, 17)]
    normal = [days[_day(k)]["mean"] for k in range(10)]
    # The base is the normal days' level: the promotion days of the history did not lift it (read as
    # normal demand they would lift a 120-day level by about 21 x 10 / 120 = 1.75 units).
    assert np.mean(normal) == pytest.approx(BASE, abs=0.3)
    assert np.mean(promoted) == pytest.approx(BASE * expected, rel=0.05)
    assert applied["promoted_mean"] == pytest.approx(sum(promoted), rel=1e-3)
    for k in range(10, 17):
        assert days[_day(k)]["quantile"] >= days[_day(k)]["p50"] > normal[0]
    cumulative = [d["cumulative_quantile"] for d in detail["days"]]
    assert cumulative == sorted(cumulative)

    position = Position.objects.get(pk=position_id)
    keys = [(position.pk, position.sku_id, position.warehouse_id)]
    upcoming = promotions_upcoming(tenant_id=world.tenant.pk, positions=keys, today=TODAY, days=30)
    assert upcoming[position_id].promotion_id == coming["id"]
    assert upcoming[position_id].uplift == pytest.approx(expected, rel=1e-3)
    assert upcoming[position_id].uplift_source == "learned"
    assert promotions_upcoming(tenant_id=world.tenant.pk, positions=keys, today=TODAY, days=5) == {}


def test_a_stated_uplift_then_the_elasticity_when_there_is_no_promotion_history(world) -> None:
    # Prices that moved: 2.00 and 1.60 on alternate weeks, selling 10 and 15: elasticity ln 1.5 / ln 0.8.
    cheap = lambda day: (day.toordinal() // 7) % 2 == 0  # noqa: E731
    position_id = _push_history(
        world, "SKU-PRICED", 90, lambda day: 15 if cheap(day) else 10, lambda day: "1.6" if cheap(day) else "2"
    )
    elasticity = price_responses(tenant_id=world.tenant.pk, position_ids=[position_id], today=TODAY)[position_id]
    assert elasticity.elasticity == pytest.approx(math.log(1.5) / math.log(0.8), rel=1e-6)

    coming = _promote(world, "SKU-PRICED", _day(5), _day(8), discount_percent="30", expected_uplift="1.5")
    _refresh(world)
    (applied,) = _detail(world, position_id)["promotions"]
    assert (applied["source"], applied["uplift"]) == ("stated", 1.5)

    # Without a stated uplift: (1 - 0.3)^e.
    patched = world.planner.client.patch(
        f"/api/v1/tenants/{world.tenant.slug}/promotions/{coming['id']}/", {"expected_uplift": None}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    _refresh(world)
    (applied,) = _detail(world, position_id)["promotions"]
    assert applied["source"] == "elasticity"
    assert applied["uplift"] == pytest.approx(0.7**elasticity.elasticity, rel=1e-3)


def test_a_promotion_change_refits_the_positions_it_touches_and_no_other(world) -> None:
    promoted_id = _push_history(world, "SKU-A", 80, lambda day: BASE)
    other_id = _push_history(world, "SKU-B", 80, lambda day: BASE)
    _refresh(world)
    assert "0 refit" in _refresh(world)  # nothing changed
    fitted = dict(Forecast.objects.values_list("position_id", "fitted_at"))

    made = _promote(world, "SKU-A", _day(3), _day(5))
    # The change marked the touched forecast; the debounced pass the change asked for refits it.
    assert Forecast.objects.get(position_id=promoted_id).fingerprint == ""
    summary = forecasts_changed_pass(tenant_id=world.tenant.pk)
    assert summary["fitted"] == 1
    refit = dict(Forecast.objects.values_list("position_id", "fitted_at"))
    assert refit[promoted_id] > fitted[promoted_id]
    assert refit[other_id] == fitted[other_id]
    assert [p["id"] for p in _detail(world, promoted_id)["promotions"]] == [made["id"]]
    # The fingerprint holds the promotion: a full refresh finds nothing more to do ...
    assert "0 refit" in _refresh(world)
    # ... until it changes, even when nothing marks it (the daily refresh finds it by its fingerprint).
    url = f"/api/v1/tenants/{world.tenant.slug}/promotions/{made['id']}/"
    assert world.planner.client.patch(url, {"ends_on": _day(6).isoformat()}, format="json").status_code == 200
    Forecast.objects.filter(position_id=promoted_id).update(fingerprint="stale-but-not-marked")
    assert "1 refit" in _refresh(world)
    assert _detail(world, promoted_id)["promotions"][0]["ends_on"] == _day(6).isoformat()
    assert world.planner.client.delete(url).status_code == 204
    assert "1 refit" in _refresh(world)
    assert _detail(world, promoted_id)["promotions"] == []


def test_the_backtest_reports_the_promotion_days_error_against_ignoring_them(world) -> None:
    # 260 days, a week's promotion every five weeks at twice the base, a weekly pattern.
    windows = [(-250 + 35 * k, -244 + 35 * k) for k in range(8)]

    def units(day: date) -> float:
        base = 14 if day.weekday() == 5 else BASE
        return base * (UPLIFT if _in(day, windows) else 1)

    _push_history(world, "SKU-BT", 260, units)
    for a, b in windows:
        _promote(world, "SKU-BT", _day(a), _day(b))
    out = StringIO()
    call_command("forecast_backtest", tenant=world.tenant.slug, stdout=out)
    report = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecast-accuracy/").json()["report"]
    figures = report["promotions"]
    with_, without = figures["forecast"], figures["promotions_ignored"]
    assert with_["observed_days"] == without["observed_days"] > 0
    assert with_["units"] == without["units"]
    # Ignoring promotions, the forecast sits near the base (lifted a little by the promotion days it
    # read as normal) while twice the base sold: about half the units are missed.
    assert 0.35 < without["wape"] < 0.55
    assert without["bias"] < -0.3
    assert figures["wape_ratio"] <= figures["goal"] == 0.7
    assert figures["wape_ratio"] == pytest.approx(with_["wape"] / without["wape"], abs=1e-3)
    assert figures["rmsse_ratio"] <= 0.7
    text = out.getvalue()
    assert "promotion-day error with / ignoring promotions" in text
    print(  # the figure the report quotes
        f"promotion days {with_['observed_days']}: WAPE {with_['wape']} vs {without['wape']} "
        f"(ratio {figures['wape_ratio']}), RMSSE ratio {figures['rmsse_ratio']}"
    )
