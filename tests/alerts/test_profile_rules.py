"""The profile rules (obsolescence_risk, season_end_overstock) through the public surface.

Categories, SKUs and their history go in through ingestion, forecasts are fitted by the ``forecast``
command, the evaluation runs as ``manage.py evaluate`` runs it, and the alerts come back from
alerts/. The unsold figures are worked out here from the stored forecast's own daily series
(forecasts/{position_id}/): stock held minus the mean demand from today through the last selling
day (both included), floored at 0 (docs/engine.md, Profile rules).
"""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from tests.support.ingest import TODAY, push_rows, ts

# A weekly pattern, about 4 units a day; 120 days, the last yesterday.
WEEK = [2, 2, 3, 2, 3, 9, 7]
HISTORY = (WEEK * 18)[:120]


def _get(world, path: str, **params: object) -> dict:
    response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()


def _push(world, what: str, rows: list[dict]) -> None:
    response = push_rows(world.admin, world.tenant.slug, what, rows)
    assert response.status_code == 201, response.content


def _sku(world, code: str, *, category: str, left: int, **fields: object) -> None:
    """SKU ``code`` in W with the history above and ``left`` units on hand after it."""
    row = {"code": code, "name": code, "category": category, "unit_cost": "3", "list_price": "5"}
    _push(world, "skus", [{**row, **fields}])
    rows = [
        {
            "kind": "receipt",
            "sku": code,
            "warehouse": "W",
            "quantity": sum(HISTORY) + left,
            "occurred_at": ts(len(HISTORY) + 1),
            "external_ref": f"{code}-in",
        }
    ]
    rows += [
        {
            "kind": "sale",
            "sku": code,
            "warehouse": "W",
            "quantity": units,
            "occurred_at": ts(len(HISTORY) - k),
            "external_ref": f"{code}-sale-{k}",
        }
        for k, units in enumerate(HISTORY)
    ]
    _push(world, "movements", rows)


@pytest.fixture
def profiled(shop):
    categories = [
        {"code": "PHONES", "name": "Phones", "profile": "electronics"},
        {"code": "COATS", "name": "Coats", "profile": "apparel"},
    ]
    _push(shop, "categories", categories)
    _push(
        shop,
        "skus",
        [{"code": "SUCC-1", "name": "Next phone", "category": "PHONES", "unit_cost": "3", "list_price": "5"}],
    )
    return shop


def _run(world) -> None:
    call_command("forecast", tenant=world.tenant.slug, stdout=StringIO())
    call_command("evaluate", tenant=world.tenant.slug, stdout=StringIO())


def _field_errors(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]["fields"]


def _alert(world, sku: str, rule: str) -> dict | None:
    rows = _get(world, "alerts/", sku=sku, rule=rule, active="true")["results"]
    return _get(world, f"alerts/{rows[0]['id']}/") if rows else None


def _unsold_by_hand(world, sku: str, last_day: date, held: int) -> float:
    """Held stock minus the forecast's mean demand from today through ``last_day``, floored at 0."""
    (row,) = _get(world, "forecasts/", sku=sku)["results"]
    forecast = _get(world, f"forecasts/{row['position_id']}/")
    shift = (TODAY - date.fromisoformat(forecast["origin"])).days
    daily = [day["mean"] for day in forecast["days"]][shift:]
    through = (last_day - TODAY).days + 1
    assert through <= len(daily), "the last day is inside the horizon in these tests"
    return max(held - sum(daily[:through]), 0.0)


def test_an_electronics_sku_with_too_much_stock_before_its_end_of_life_gets_obsolescence_risk(profiled) -> None:
    world = profiled
    end_of_life = TODAY + timedelta(days=30)
    _sku(world, "PHONE", category="PHONES", left=400, end_of_life_on=end_of_life.isoformat(), successor="SUCC-1")
    _sku(world, "FEW", category="PHONES", left=60, end_of_life_on=end_of_life.isoformat())
    _run(world)

    unsold = _unsold_by_hand(world, "PHONE", end_of_life, 400)
    assert 200 < unsold < 320  # about 4 a day for 31 days off 400: the test means what it says
    alert = _alert(world, "PHONE", "obsolescence_risk")
    assert alert is not None
    inputs = alert["inputs"]
    assert inputs["unsold_at_end_of_life"] == pytest.approx(unsold, abs=0.01)
    assert (inputs["days_to_end_of_life"], inputs["end_of_life_on"], inputs["successor"]) == (
        30,
        end_of_life.isoformat(),
        "SUCC-1",
    )
    # Graded by the figure shown (rounded to 2 places) over the stock held.
    share = inputs["unsold_at_end_of_life"] / 400
    assert alert["deviation"] == round(share, 6)
    assert alert["grade"] == ("red" if share >= 0.3 else "orange" if share >= 0.2 else "yellow")
    assert f"{end_of_life.day} {end_of_life:%B}" in alert["explanation"]
    assert "SUCC-1" in alert["explanation"]
    # 30 days before the end of life (clearance from 14): a run-down, replenishment stopped.
    advice = alert["recommendation"]
    assert advice["action"] == "markdown"  # no other warehouse sells it: a markdown rather than a transfer
    assert advice["stop_replenishment"] is True
    assert advice["quantity"] == int(-(-unsold // 1))
    assert advice["run_down_per_day"] == pytest.approx(round(unsold / 31, 2), abs=0.01)
    assert "move demand to SUCC-1" in advice["summary"]
    # No replenishment alert adds stock beyond the end of life either.
    assert _alert(world, "PHONE", "stock_out_risk") is None

    # Little stock sells out before the end of life: nothing projected unsold, no alert.
    assert _unsold_by_hand(world, "FEW", end_of_life, 60) == 0
    assert _alert(world, "FEW", "obsolescence_risk") is None

    # The same SKU moved to a general category: the rule does not apply there.
    moved = {"code": "PHONE", "name": "PHONE", "category": "C", "unit_cost": "3", "list_price": "5"}
    _push(world, "skus", [{**moved, "end_of_life_on": end_of_life.isoformat(), "successor": "SUCC-1"}])
    _run(world)
    (row,) = _get(world, "indicators/", sku="PHONE")["results"]
    details = _get(world, f"indicators/{row['position_id']}/")["details"]
    assert (details["profile"], details["end_of_life_on"]) == ("general", end_of_life.isoformat())
    assert _alert(world, "PHONE", "obsolescence_risk") is None


def test_close_to_the_end_of_life_the_response_is_a_clearance_and_no_stock_out_is_raised(profiled) -> None:
    world = profiled
    end_of_life = TODAY + timedelta(days=5)
    # 40 units: about 24 sell in the 6 days left; in a general category 40 / 4 = 10 days of cover
    # would be below the 14-day default lead time, a stock-out risk.
    _sku(world, "OLD", category="PHONES", left=40, end_of_life_on=end_of_life.isoformat())
    _sku(world, "SAME", category="C", left=40, end_of_life_on=end_of_life.isoformat())
    _run(world)
    unsold = _unsold_by_hand(world, "OLD", end_of_life, 40)
    assert unsold / 40 >= 0.10
    alert = _alert(world, "OLD", "obsolescence_risk")
    assert alert["inputs"]["unsold_at_end_of_life"] == pytest.approx(unsold, abs=0.01)
    assert alert["recommendation"]["action"] == "clearance"
    assert alert["recommendation"]["successor"] is None
    assert _alert(world, "OLD", "stock_out_risk") is None
    # The general SKU's forecast does not stop at the day: it runs short, and has no obsolescence alert.
    assert _alert(world, "SAME", "stock_out_risk") is not None
    assert _alert(world, "SAME", "obsolescence_risk") is None


def test_an_apparel_sku_with_stock_left_at_its_season_end_gets_season_end_overstock(profiled) -> None:
    world = profiled
    season_end = TODAY + timedelta(days=30)
    _sku(world, "COAT", category="COATS", left=300, season_ends_on=season_end.isoformat())
    _sku(world, "SCARF", category="COATS", left=300, season_ends_on=(TODAY + timedelta(days=10)).isoformat())
    _sku(world, "GLOVE", category="COATS", left=60, season_ends_on=season_end.isoformat())
    _sku(world, "HAT", category="COATS", left=300, season_ends_on=(TODAY + timedelta(days=70)).isoformat())
    _sku(world, "CAP", category="C", left=300, season_ends_on=season_end.isoformat())
    _run(world)

    unsold = _unsold_by_hand(world, "COAT", season_end, 300)
    alert = _alert(world, "COAT", "season_end_overstock")
    assert alert["inputs"]["unsold_at_season_end"] == pytest.approx(unsold, abs=0.01)
    assert alert["inputs"]["days_to_season_end"] == 30
    assert alert["deviation"] == round(alert["inputs"]["unsold_at_season_end"] / 300, 6)
    # 30 days out, before the markdown starts (21 days): nowhere else sells it, so a markdown from then.
    advice = alert["recommendation"]
    assert (advice["action"], advice["quantity"]) == ("markdown", int(-(-unsold // 1)))
    assert "from 21 days before the season end" in advice["summary"]

    # 10 days out: a markdown now, with the playbook's price-response percent on its record.
    scarf = _alert(world, "SCARF", "season_end_overstock")
    assert scarf["recommendation"]["action"] == "markdown"
    assert "from 21 days" not in scarf["recommendation"]["summary"]

    # Little stock, a season end beyond the 60-day look-ahead, or a general category: none.
    assert _unsold_by_hand(world, "GLOVE", season_end, 60) == 0
    assert _alert(world, "GLOVE", "season_end_overstock") is None
    assert _alert(world, "HAT", "season_end_overstock") is None
    assert _alert(world, "CAP", "season_end_overstock") is None


def test_the_catalog_and_the_policies_name_each_rules_profiles(profiled) -> None:
    world = profiled
    rules = {rule["code"]: rule for rule in _get(world, "alert-policies/rules/")}
    assert rules["obsolescence_risk"]["profiles"] == ["electronics"]
    assert rules["season_end_overstock"]["profiles"] == ["apparel"]
    assert rules["expiry_risk"]["profiles"] is None
    assert rules["obsolescence_risk"]["thresholds"] == {"unsold_share": 0.10}
    assert rules["season_end_overstock"]["thresholds"] == {"unsold_share": 0.15}
    parameters = {p["name"]: p["default"] for p in rules["season_end_overstock"]["parameters"]}
    assert (parameters["lookahead_days"], parameters["markdown_start_days"]) == (60.0, 21.0)

    url = f"/api/v1/tenants/{world.tenant.slug}/alert-policies/"
    wrong = world.admin.client.post(url, {"rule": "obsolescence_risk", "category": "COATS"}, format="json")
    assert "category" in _field_errors(wrong)
    right = world.admin.client.post(
        url, {"rule": "obsolescence_risk", "category": "PHONES", "thresholds": {"unsold_share": 0.5}}, format="json"
    )
    assert right.status_code == 201, right.content
    assert right.json()["profiles"] == ["electronics"]
    # A SKU-scoped or tenant-wide policy is not refused: the rule simply does not act outside its profile.
    assert world.admin.client.post(url, {"rule": "season_end_overstock"}, format="json").status_code == 201
