"""Stored forecasts through the public surface: hand-made histories pushed through ingestion, the
``forecast`` command, and forecasts/ as each kind of caller reads it."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.access.scope import warehouse_grant
from core.forecasting.models import ForecastBacktest
from core.supply.services import supplier_offers_upsert
from tests.support.histories import intermittent, sku_with_history, weekly
from tests.support.ingest import push_rows, ts

TODAY = timezone.now().date()
TERMS = {"rank": 1, "unit_price": "1"}


@pytest.fixture
def shelves(world):
    sku_with_history(world, "SKU-RARE", intermittent())
    sku_with_history(world, "SKU-WEEKLY", weekly())
    sku_with_history(world, "SKU-NEW", [5] * 20)
    return world


def _refresh(world) -> str:
    out = StringIO()
    call_command("forecast", tenant=world.tenant.slug, stdout=out)
    return out.getvalue()


def _list(caller, world, query: str = "") -> list[dict]:
    response = caller.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecasts/{query}")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def _by_sku(rows: list[dict]) -> dict[str, dict]:
    return {row["sku"]: row for row in rows}


def test_each_pattern_gets_its_model_and_the_short_history_says_why(shelves) -> None:
    world = shelves
    _refresh(world)
    rows = _by_sku(_list(world.planner, world))
    assert set(rows) == {"SKU-1", "SKU-RARE", "SKU-WEEKLY", "SKU-NEW"}
    assert (rows["SKU-RARE"]["demand_class"], rows["SKU-RARE"]["model"]) == ("intermittent", "croston_sba")
    assert rows["SKU-RARE"]["adi"] == pytest.approx(4.0, abs=0.1)
    assert (rows["SKU-WEEKLY"]["demand_class"], rows["SKU-WEEKLY"]["model"]) == ("smooth", "theta_weekly")
    new = rows["SKU-NEW"]
    assert (new["demand_class"], new["model"]) == ("too_short", "seasonal_naive_fallback")
    # The day the stock came in, then 20 days of sales.
    assert "21 observed days, fewer than the 56" in new["reason"]
    assert rows["SKU-WEEKLY"]["reason"] == ""
    for row in rows.values():
        assert (row["horizon"], row["service_level"], row["origin"]) == (56, 0.95, TODAY.isoformat())

    # The weekly position's detail: 56 dated days, Saturdays above the other days, quantiles ordered.
    detail = world.planner.client.get(
        f"/api/v1/tenants/{world.tenant.slug}/forecasts/{rows['SKU-WEEKLY']['position_id']}/"
    ).json()
    days = detail["days"]
    assert [day["date"] for day in days] == [(TODAY + timedelta(days=k)).isoformat() for k in range(56)]
    saturdays = [d["mean"] for d in days if date.fromisoformat(d["date"]).weekday() == 5]
    others = [d["mean"] for d in days if date.fromisoformat(d["date"]).weekday() != 5]
    assert min(saturdays) > max(others)
    assert 9 < others[0] < 11
    for day in days:
        assert day["quantile"] >= day["p50"] >= 0
    cumulative = [day["cumulative_quantile"] for day in days]
    assert cumulative == sorted(cumulative)
    assert cumulative[-1] > sum(day["mean"] for day in days)
    assert detail["horizon_quantile"] == cumulative[-1]
    assert detail["accuracy"] is None  # no backtest ran
    assert detail["fitted_at"]
    assert detail["observed_days"] >= 56

    # The fallback repeats the last week: five a day.
    new_days = world.planner.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecasts/{new['position_id']}/").json()
    assert {day["mean"] for day in new_days["days"]} == {5.0}


def test_horizon_covers_the_longest_lead_time_and_the_review_period(shelves) -> None:
    world = shelves
    supplier_offers_upsert(
        tenant=world.tenant,
        offers=[
            {
                "sku_id": world.sku.id,
                "supplier_id": world.supplier.partner.id,
                "lead_time_days": 70,
                "rank": 1,
                "unit_price": "1",
            }
        ],
    )
    _refresh(world)
    rows = _list(world.admin, world)
    assert {row["horizon"] for row in rows} == {77}
    detail = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecasts/{rows[0]['position_id']}/")
    assert len(detail.json()["days"]) == 77


def test_a_second_refresh_refits_nothing_unchanged(shelves) -> None:
    world = shelves
    first = _refresh(world)
    assert "4 positions, 4 refit" in first
    before = {row["sku"]: row["fitted_at"] for row in _list(world.admin, world)}
    second = _refresh(world)
    assert "0 refit (none), 4 unchanged" in second
    assert {row["sku"]: row["fitted_at"] for row in _list(world.admin, world)} == before

    # A late sale in the history changes that position's fingerprint only.
    response = push_rows(
        world.admin,
        world.tenant.slug,
        "movements",
        [
            {
                "kind": "sale",
                "sku": "SKU-RARE",
                "warehouse": world.warehouse.code,
                "quantity": 3,
                "unit_price": "2",
                "occurred_at": ts(2),
                "external_ref": "late-sale",
            }
        ],
    )
    assert response.status_code == 201, response.json()
    assert "1 refit (croston_sba 1), 3 unchanged" in _refresh(world)
    after = {row["sku"]: row["fitted_at"] for row in _list(world.admin, world)}
    assert after["SKU-RARE"] != before["SKU-RARE"]
    assert {sku: at for sku, at in after.items() if sku != "SKU-RARE"} == {
        sku: at for sku, at in before.items() if sku != "SKU-RARE"
    }


def test_filters_narrow_the_list_and_pages_follow_the_cursor(shelves) -> None:
    world = shelves
    _refresh(world)
    assert [r["sku"] for r in _list(world.admin, world, "?demand_class=intermittent")] == ["SKU-RARE"]
    assert [r["sku"] for r in _list(world.admin, world, "?model=theta_weekly")] == ["SKU-WEEKLY"]
    assert len(_list(world.admin, world, "?model=seasonal_naive_fallback")) == 2
    assert [r["sku"] for r in _list(world.admin, world, "?sku=SKU-NEW")] == ["SKU-NEW"]
    assert len(_list(world.admin, world, "?warehouse=WH-1&category=snacks&velocity_class=long_tail")) == 4
    assert _list(world.admin, world, "?warehouse=NOPE") == []

    url = f"/api/v1/tenants/{world.tenant.slug}/forecasts/?page_size=3"
    page = world.admin.client.get(url).json()
    rest = world.admin.client.get(page["next"]).json()
    ids = [r["position_id"] for r in page["results"] + rest["results"]]
    assert ids == sorted(ids)
    assert len(ids) == 4
    assert rest["next"] is None


@pytest.mark.parametrize(
    "query",
    ["?demand_class=sometimes", "?model=prophet", "?velocity_class=fast", "?page_size=0", "?demand_class="],
)
def test_bad_filters_are_400(world, query: str) -> None:
    response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecasts/{query}")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert query[1:].split("=")[0] in response.content.decode()  # the parameter is named


def test_another_tenants_position_is_404(world, other_world) -> None:
    call_command("forecast", stdout=StringIO())
    mine = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecasts/{world.position.id}/")
    assert mine.status_code == 200
    for position_id in (other_world.position.id, 2**63, 0):
        response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecasts/{position_id}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_each_partner_kind_sees_what_the_registry_allows(shelves) -> None:
    world = shelves
    _refresh(world)
    slug = world.tenant.slug
    weekly = _by_sku(_list(world.admin, world))["SKU-WEEKLY"]
    detail_url = f"/api/v1/tenants/{slug}/forecasts/{weekly['position_id']}/"

    # The ERP sees what staff see.
    assert _list(world.erp, world) == _list(world.admin, world)

    # A distributor: nothing without a grant, nothing for a warehouse granted as bands, all of an
    # exact grant.
    distributor = world.distributor
    assert _list(distributor, world) == []
    warehouse_grant(partner=distributor.partner, warehouses=[world.warehouse], quantities="bands")
    assert _list(distributor, world) == []
    assert distributor.client.get(detail_url).status_code == 404
    warehouse_grant(partner=distributor.partner, warehouses=[world.warehouse], quantities="exact")
    assert len(_list(distributor, world)) == 4
    assert distributor.client.get(detail_url).json()["days"] == world.admin.client.get(detail_url).json()["days"]

    # A supplier: the SKUs it supplies, with the model and class but no figures.
    supplier = world.supplier
    assert _list(supplier, world) == []
    supplier_offers_upsert(
        tenant=world.tenant,
        offers=[
            {"sku": "SKU-WEEKLY", "supplier_id": supplier.partner.id, "lead_time_days": 5, "rank": 1, "unit_price": "1"}
        ],
    )
    (row,) = _list(supplier, world)
    assert (row["sku"], row["model"], row["demand_class"]) == ("SKU-WEEKLY", "theta_weekly", "smooth")
    assert (row["adi"], row["cv2"], row["horizon_mean"], row["horizon_quantile"]) == (None, None, None, None)
    detail = supplier.client.get(detail_url).json()
    assert detail["days"] is None
    assert detail["model"] == "theta_weekly"
    rare = _by_sku(_list(world.admin, world))["SKU-RARE"]
    assert supplier.client.get(f"/api/v1/tenants/{slug}/forecasts/{rare['position_id']}/").status_code == 404


def test_the_detail_shows_the_latest_backtest_of_its_demand_class(shelves) -> None:
    # Before any backtest the accuracy is null, as the first test shows.
    world = shelves
    _refresh(world)
    figures = {"positions": 7, "rmsse_mean": 0.81, "wrmsse": 0.77, "wape": 0.42, "bias": -0.03}
    figures |= {"pinball_loss": 0.35, "coverage": 0.94}
    report = {
        "by_demand_class": {
            "smooth": {"forecast": figures, "moving_average_28": {**figures, "wrmsse": 1.1}},
            "lumpy": {"forecast": {**figures, "wrmsse": 2.0}},
        }
    }
    ForecastBacktest.objects.create(tenant=world.tenant, ran_at=timezone.now(), parameters={}, report=report)
    rows = _by_sku(_list(world.admin, world))
    url = f"/api/v1/tenants/{world.tenant.slug}/forecasts/"
    accuracy = world.admin.client.get(f"{url}{rows['SKU-WEEKLY']['position_id']}/").json()["accuracy"]
    assert {name: accuracy[name] for name in figures} == figures
    assert accuracy["ran_at"]
    # No intermittent position was in that backtest: nothing to show for one.
    assert world.admin.client.get(f"{url}{rows['SKU-RARE']['position_id']}/").json()["accuracy"] is None


def test_a_refresh_fitted_in_processes_stores_what_one_process_stores(shelves, settings, monkeypatch) -> None:
    # Given the same positions refit once in this process and once in two fitting processes
    from core.forecasting import services
    from core.forecasting.models import Forecast

    world = shelves
    columns = ("position_id", "model", "demand_class", "mean", "p50", "quantile", "cumulative_quantile")
    settings.FORECAST_FIT_PROCESSES = 1
    one = services.forecasts_refresh(tenant=world.tenant)
    alone = list(Forecast.objects.filter(tenant=world.tenant).order_by("position_id").values_list(*columns))
    Forecast.objects.filter(tenant=world.tenant).delete()

    # When the refresh fans its fits out to two processes (any size of refresh)
    settings.FORECAST_FIT_PROCESSES = 2
    monkeypatch.setattr(services, "PARALLEL_MIN_POSITIONS", 0)
    two = services.forecasts_refresh(tenant=world.tenant)

    # Then it stored the same forecasts and summed the same counts
    assert list(Forecast.objects.filter(tenant=world.tenant).order_by("position_id").values_list(*columns)) == alone
    assert (two["fitted"], two["models"]) == (one["fitted"], one["models"]) == (4, two["models"])
    assert set(two["fit_seconds"]) == set(two["models"])
