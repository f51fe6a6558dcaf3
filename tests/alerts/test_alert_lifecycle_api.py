"""Alerts through the HTTP API and the engine's tasks: lifecycle, actions, policies, partners, runs.

Data goes in through the bulk endpoints; the engine runs as its Celery task bodies do, in the
test's process. Overstock on long-tail SKUs drives the grades: each SKU has sat on stock it barely
sells, so its turnover days (read back from ``indicators/``) are far beyond the 180-day standard,
and a SKU policy's ``standard`` moves the deviation to whichever band a test needs.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from api.alerts.serializers import AlertOutput
from core.access.scope import warehouse_grant
from core.alerts.models import Alert
from core.inventory.models import Sku, Warehouse
from core.supply.services import supplier_offers_upsert
from core.webhooks.models import OutboxEvent
from tests.support.calls import evaluate, ok, pushed, url
from tests.support.ingest import ts
from workers.tasks.evaluation import evaluation_incremental, evaluation_run

# A standard T / factor gives a deviation of factor - 1: yellow from 10 %, orange 20 %, red 30 %.
FACTORS = {"yellow": Decimal("1.15"), "orange": Decimal("1.25"), "red": Decimal("1.5"), None: Decimal("0.8")}


# --- Helpers --------------------------------------------------------------------------------------


def get(caller, world, path: str, **params):
    return caller.client.get(url(world, path), params)


def post(caller, world, path: str, body: dict | None = None):
    return caller.client.post(url(world, path), body, format="json")


def field_errors(response, status: int = 400) -> dict:
    body = ok(response, status)
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]["fields"]


def full_run(world) -> dict:
    """A manual full run over every position: queued over the API, carried out by its task."""
    run = ok(post(world.admin, world, "evaluations/"), 202)
    evaluation_run(run["id"])
    return ok(get(world.admin, world, f"evaluations/{run['id']}/"))


def alerts(world, caller=None, **params) -> list[dict]:
    return ok(get(caller or world.admin, world, "alerts/", **params))["results"]


def only_alert(world, **params) -> dict:
    found = alerts(world, rule="overstock", active="true", **params)
    assert len(found) == 1, found
    return detail(world, found[0]["id"])


def detail(world, alert_id: str, caller=None) -> dict:
    return ok(get(caller or world.admin, world, f"alerts/{alert_id}/"))


def kinds(alert: dict) -> list[str]:
    return [event["kind"] for event in alert["timeline"]]


def act(world, alert_id: str, action: str, caller=None, **body):
    return post(caller or world.admin, world, f"alerts/{alert_id}/{action}/", body)


def turnover_days(world, sku: str) -> Decimal:
    (reading,) = ok(get(world.admin, world, "indicators/", sku=sku))["results"]
    return Decimal(str(reading["turnover_days"]))


def sku_standard(world, sku: str, grade: str | None) -> None:
    """Set the SKU's overstock standard so that its deviation lands in ``grade`` (None: below yellow),
    then run the incremental pass the policy change asks for.

    The SKU's policy is replaced (DELETE, then POST) rather than PATCHed: PATCH fails on its own
    (see ``test_policy_duplicates_conflict_and_patch_changes_only_the_given_settings``).
    """
    standard = (turnover_days(world, sku) / FACTORS[grade]).quantize(Decimal("0.0001"))
    for policy in ok(get(world.admin, world, "alert-policies/", rule="overstock"))["results"]:
        if policy["sku"] == sku:
            assert world.admin.client.delete(url(world, f"alert-policies/{policy['id']}/")).status_code == 204
    ok(post(world.admin, world, "alert-policies/", {"rule": "overstock", "sku": sku, "standard": str(standard)}), 201)
    evaluate(world)


def user_actor(caller) -> str:
    return f"user:{caller.user.get_username()}"


# --- Data -----------------------------------------------------------------------------------------


def stock(world, sku: str, warehouse: str, ref: str) -> None:
    """100 units received long ago, 10 of them sold 44 days ago: turnover days far above 180."""
    rows = [
        {"kind": "receipt", "sku": sku, "warehouse": warehouse, "quantity": 100, "occurred_at": ts(200)},
        {"kind": "sale", "sku": sku, "warehouse": warehouse, "quantity": 10, "occurred_at": ts(44)},
    ]
    for number, row in enumerate(rows):
        row["external_ref"] = f"{ref}-{number}"
    pushed(world, "movements", rows)


@pytest.fixture
def stocked(shop):
    """Overstock on S at W (category C, region r) and on S2 at W2 (category C2, region r2)."""
    pushed(shop, "categories", [{"code": "C2", "name": "C2"}])
    pushed(shop, "warehouses", [{"code": "W2", "name": "W2", "region": "r2", "kind": "store"}])
    pushed(shop, "skus", [{"code": "S2", "name": "S2", "category": "C2", "unit_cost": "1", "list_price": "2"}])
    stock(shop, "S", "W", "s")
    stock(shop, "S2", "W2", "s2")
    evaluate(shop)
    return shop


def last_incremental_run(world) -> dict:
    runs = ok(get(world.admin, world, "evaluations/", trigger="incremental"))["results"]
    assert runs, "no incremental run recorded"
    return runs[-1]


def engine_actor(world) -> str:
    return f"system:evaluation {last_incremental_run(world)['id']}"


def soon(**delta) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


# --- Lifecycle ------------------------------------------------------------------------------------


def test_alerts_open_once_and_a_rerun_over_unchanged_data_changes_nothing(stocked):
    first = alerts(stocked)
    assert sorted((a["sku"], a["warehouse"], a["rule"], a["grade"], a["status"]) for a in first) == [
        ("S", "W", "overstock", "red", "open"),
        ("S2", "W2", "overstock", "red", "open"),
    ]
    opened = detail(stocked, first[0]["id"])
    assert [(e["kind"], e["to_grade"], e["actor"]) for e in opened["timeline"]] == [
        ("opened", "red", engine_actor(stocked))
    ]
    assert opened["inputs"]["turnover_days"] == 855.0
    assert opened["thresholds"]["sources"]["standard"] == "velocity class long_tail standard"
    readings = ok(get(stocked.admin, stocked, "indicators/"))["results"]

    run = full_run(stocked)

    assert run["status"] == "succeeded"
    assert run["counts"] == {"positions": 3, "unchanged": 2}
    again = alerts(stocked)
    assert again == first  # same ids, grades, statuses, and untouched updated_at
    assert detail(stocked, first[0]["id"])["timeline"] == opened["timeline"]
    assert ok(get(stocked.admin, stocked, "indicators/"))["results"] == readings
    assert evaluation_incremental(str(stocked.tenant.pk)) is None  # nothing left dirty


def test_grades_escalate_and_deescalate_with_events_and_an_acknowledged_alert_reopens(stocked):
    sku_standard(stocked, "S", "yellow")
    alert = only_alert(stocked, sku="S")
    assert (alert["grade"], alert["peak_grade"], alert["deviation"]) == ("yellow", "red", pytest.approx(0.15))
    # Opened red under the 180-day standard, then graded down by the SKU policy.
    assert kinds(alert) == ["opened", "deescalated"]
    acknowledged = ok(act(stocked, alert["id"], "acknowledge", note="on it"))
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_at"] is not None
    assert acknowledged["timeline"][-1] | {"created_at": None} == {
        "kind": "acknowledged",
        "from_grade": "yellow",
        "to_grade": "yellow",
        "actor": acknowledged["timeline"][-1]["actor"],
        "note": "on it",
        "data": {},
        "created_at": None,
    }
    assert acknowledged["timeline"][-1]["actor"].startswith(user_actor(stocked.admin) + " ")

    sku_standard(stocked, "S", "orange")
    escalated = detail(stocked, alert["id"])
    assert (escalated["grade"], escalated["status"], escalated["active"]) == ("orange", "open", True)
    event = escalated["timeline"][-1]
    assert (event["kind"], event["from_grade"], event["to_grade"]) == ("escalated", "yellow", "orange")
    assert event["actor"] == engine_actor(stocked)
    assert event["data"]["deviation"] == pytest.approx(0.25)

    sku_standard(stocked, "S", "red")
    assert detail(stocked, alert["id"])["grade"] == "red"

    sku_standard(stocked, "S", "yellow")
    lowered = detail(stocked, alert["id"])
    assert (lowered["grade"], lowered["peak_grade"], lowered["status"]) == ("yellow", "red", "open")
    assert kinds(lowered) == ["opened", "deescalated", "acknowledged", "escalated", "escalated", "deescalated"]
    assert [(e["from_grade"], e["to_grade"]) for e in lowered["timeline"][-3:]] == [
        ("yellow", "orange"),
        ("orange", "red"),
        ("red", "yellow"),
    ]
    assert only_alert(stocked, sku="S")["id"] == alert["id"]  # one alert all along


def test_an_alert_resolves_itself_when_the_position_recovers(stocked):
    alert = only_alert(stocked, sku="S")
    # Most of the stock sells today: turnover days fall far below the 180-day standard.
    sale = {"kind": "sale", "sku": "S", "warehouse": "W", "quantity": 80, "occurred_at": ts(0, 0)}
    pushed(stocked, "movements", [{**sale, "external_ref": "clearance"}])
    evaluate(stocked)

    assert turnover_days(stocked, "S") < 180
    resolved = detail(stocked, alert["id"])
    assert (resolved["status"], resolved["active"]) == ("resolved", False)
    assert resolved["resolved_at"] is not None
    event = resolved["timeline"][-1]
    assert (event["kind"], event["from_grade"], event["actor"]) == ("auto_resolved", "red", engine_actor(stocked))
    assert alerts(stocked, rule="overstock", sku="S", active="true") == []
    # Selling that fast, the few units left will not last the lead time: the other side trips.
    (short,) = alerts(stocked, rule="stock_out_risk", sku="S", active="true")
    assert (short["direction"], short["status"]) == ("stock_out", "open")
    # S2 was not touched.
    assert only_alert(stocked, sku="S2")["status"] == "open"


def test_a_resolved_alert_whose_condition_lasts_is_followed_by_a_new_one(stocked):
    alert = only_alert(stocked, sku="S")
    resolved = ok(act(stocked, alert["id"], "resolve", note="ordered a clearance"))
    assert (resolved["status"], resolved["active"]) == ("resolved", False)
    assert resolved["timeline"][-1]["kind"] == "resolved"
    assert resolved["timeline"][-1]["note"] == "ordered a clearance"
    assert resolved["timeline"][-1]["actor"].startswith(user_actor(stocked.admin))

    run = full_run(stocked)

    assert run["counts"]["opened"] == 1
    fresh = only_alert(stocked, sku="S")
    assert fresh["id"] != alert["id"]
    assert (fresh["status"], fresh["grade"], kinds(fresh)) == ("open", "red", ["opened"])
    assert fresh["timeline"][0]["actor"] == f"system:evaluation {run['id']}"
    old = detail(stocked, alert["id"])
    assert (old["status"], old["active"], kinds(old)) == ("resolved", False, ["opened", "resolved"])


def test_a_dismissed_alert_stays_quiet_reopens_only_when_worse_and_clears_with_its_condition(stocked):
    sku_standard(stocked, "S", "orange")
    alert = only_alert(stocked, sku="S")
    assert field_errors(act(stocked, alert["id"], "dismiss", reason="")).keys() == {"reason"}
    assert field_errors(act(stocked, alert["id"], "dismiss", reason="   ")).keys() == {"reason"}
    assert field_errors(act(stocked, alert["id"], "dismiss")).keys() == {"reason"}

    dismissed = ok(act(stocked, alert["id"], "dismiss", reason="other", note="seasonal stock, sells in spring"))
    assert (dismissed["status"], dismissed["active"]) == ("dismissed", True)
    assert (dismissed["dismissed_reason"], dismissed["dismissed_note"]) == ("other", "seasonal stock, sells in spring")
    assert dismissed["timeline"][-1]["note"] == "seasonal stock, sells in spring"
    quiet = len(dismissed["timeline"])

    # Lasting, milder, then back at the dismissed grade: no event, no second alert.
    assert full_run(stocked)["counts"].get("opened", 0) == 0
    sku_standard(stocked, "S", "yellow")
    milder = only_alert(stocked, sku="S")
    # The figures follow the data; the grade stays the one it was dismissed at.
    assert (milder["status"], milder["grade"], milder["deviation"]) == ("dismissed", "orange", pytest.approx(0.15))
    assert len(milder["timeline"]) == quiet
    sku_standard(stocked, "S", "orange")
    still = only_alert(stocked, sku="S")
    assert still["id"] == alert["id"]
    assert (still["status"], still["grade"], len(still["timeline"])) == ("dismissed", "orange", quiet)

    sku_standard(stocked, "S", "red")
    reopened = only_alert(stocked, sku="S")
    assert reopened["id"] == alert["id"]
    assert (reopened["status"], reopened["grade"], reopened["peak_grade"]) == ("open", "red", "red")
    event = reopened["timeline"][-1]
    assert (event["kind"], event["from_grade"], event["to_grade"]) == ("reopened", "orange", "red")
    assert event["actor"] == engine_actor(stocked)

    ok(act(stocked, alert["id"], "dismiss", reason="too_early", note="clearing it next month"))
    sku_standard(stocked, "S", None)
    cleared = detail(stocked, alert["id"])
    assert (cleared["status"], cleared["active"], cleared["resolved_at"]) == ("dismissed", False, None)
    assert cleared["timeline"][-1]["kind"] == "cleared"
    assert alerts(stocked, sku="S", active="true") == []

    # The condition comes back: a new alert, the cleared one stays closed.
    sku_standard(stocked, "S", "yellow")
    fresh = only_alert(stocked, sku="S")
    assert fresh["id"] != alert["id"]
    assert (fresh["status"], fresh["grade"], kinds(fresh)) == ("open", "yellow", ["opened"])
    assert kinds(detail(stocked, alert["id"]))[-1] == "cleared"


def test_snooze_limits_the_filter_and_an_escalation_that_wakes_it(stocked):
    sku_standard(stocked, "S", "yellow")
    alert = only_alert(stocked, sku="S")
    assert field_errors(act(stocked, alert["id"], "snooze", until=soon(hours=-1))).keys() == {"until"}
    assert field_errors(act(stocked, alert["id"], "snooze", until=soon(days=91))).keys() == {"until"}
    assert field_errors(act(stocked, alert["id"], "snooze")).keys() == {"until"}

    until = soon(days=2)
    snoozed = ok(act(stocked, alert["id"], "snooze", until=until, note="after the stock count"))
    assert snoozed["snoozed"] is True
    assert snoozed["status"] == "open"
    assert snoozed["timeline"][-1]["kind"] == "snoozed"
    assert [a["id"] for a in alerts(stocked, snoozed="true")] == [alert["id"]]
    assert [a["sku"] for a in alerts(stocked, snoozed="false")] == ["S2"]

    sku_standard(stocked, "S", "orange")

    woken = detail(stocked, alert["id"])
    assert (woken["snoozed"], woken["snoozed_until"], woken["grade"]) == (False, None, "orange")
    assert kinds(woken)[-2:] == ["escalated", "woken"]
    assert woken["timeline"][-1]["actor"] == engine_actor(stocked)
    assert alerts(stocked, snoozed="true") == []


def test_actions_refused_in_the_wrong_status_answer_409_in_the_error_format(stocked):
    alert = only_alert(stocked, sku="S")
    ok(act(stocked, alert["id"], "acknowledge"))
    again = ok(act(stocked, alert["id"], "acknowledge"), 409)
    assert again["error"]["code"] == "conflict"
    assert "acknowledged" in again["error"]["message"]
    assert again["error"]["fields"] == {}

    ok(act(stocked, alert["id"], "resolve"))
    for action, body in [
        ("acknowledge", {}),
        ("resolve", {}),
        ("dismiss", {"reason": "too_late"}),
        ("snooze", {"until": soon(days=1)}),
    ]:
        refused = ok(act(stocked, alert["id"], action, **body), 409)
        assert set(refused["error"]) == {"code", "message", "fields"}
        assert "resolved" in refused["error"]["message"]
    assert kinds(detail(stocked, alert["id"])) == ["opened", "acknowledged", "resolved"]

    other = only_alert(stocked, sku="S2")
    ok(act(stocked, other["id"], "dismiss", reason="false_alarm"))
    assert ok(act(stocked, other["id"], "acknowledge"), 409)["error"]["code"] == "conflict"
    assert ok(act(stocked, other["id"], "snooze", until=soon(days=1)), 409)["error"]["code"] == "conflict"


def test_planner_acts_analyst_only_reads(stocked):
    alert = only_alert(stocked, sku="S")
    assert detail(stocked, alert["id"], caller=stocked.analyst)["id"] == alert["id"]
    assert act(stocked, alert["id"], "acknowledge", caller=stocked.analyst).status_code == 403
    done = ok(act(stocked, alert["id"], "acknowledge", caller=stocked.planner))
    assert done["timeline"][-1]["actor"].startswith(user_actor(stocked.planner))


def ids_of(world, **params) -> list[str]:
    return sorted(a["sku"] for a in alerts(world, **params))


def test_alert_list_filters(stocked):
    sku_standard(stocked, "S2", "yellow")
    ok(act(stocked, only_alert(stocked, sku="S")["id"], "acknowledge"))
    before = (timezone.now() - timedelta(hours=1)).isoformat()
    after = (timezone.now() + timedelta(hours=1)).isoformat()

    assert ids_of(stocked) == ["S", "S2"]
    assert ids_of(stocked, grade="red") == ["S"]
    assert ids_of(stocked, grade="yellow") == ["S2"]
    assert ids_of(stocked, grade=["red", "yellow"]) == ["S", "S2"]
    assert ids_of(stocked, grade="orange") == []
    assert ids_of(stocked, status="acknowledged") == ["S"]
    assert ids_of(stocked, status="open") == ["S2"]
    assert ids_of(stocked, rule="overstock") == ["S", "S2"]
    assert ids_of(stocked, rule="stock_out_risk") == []
    assert ids_of(stocked, warehouse="W2") == ["S2"]
    assert ids_of(stocked, region="r") == ["S"]
    assert ids_of(stocked, category="C2") == ["S2"]
    assert ids_of(stocked, sku="S") == ["S"]
    assert ids_of(stocked, opened_since=before) == ["S", "S2"]
    assert ids_of(stocked, opened_since=after) == []
    assert ids_of(stocked, active="false") == []

    ok(act(stocked, only_alert(stocked, sku="S")["id"], "resolve"))

    assert ids_of(stocked, active="false") == ["S"]
    assert ids_of(stocked, active="true") == ["S2"]
    assert ids_of(stocked, status="resolved") == ["S"]
    assert field_errors(get(stocked.admin, stocked, "alerts/", grade="purple")).keys() == {"grade"}


# --- Policies -------------------------------------------------------------------------------------


def create_policy(world, status: int = 201, caller=None, **body):
    return ok(post(caller or world.admin, world, "alert-policies/", body), status)


def grade_and_sources(world, sku: str) -> tuple[str, str, str]:
    alert = only_alert(world, sku=sku)
    sources = alert["thresholds"]["sources"]
    return alert["grade"], sources["standard"], sources["bands"]


def test_the_most_specific_policy_wins_and_unset_settings_inherit(stocked):
    # Turnover days are 855: a standard of 570 is 50 % off (red), 684 is 25 % (orange),
    # 743.4783 is 15 % (yellow under the default bands, orange under the SKU's).
    tenant = create_policy(stocked, rule="overstock", standard="570")
    evaluate(stocked)
    assert grade_and_sources(stocked, "S") == ("red", "tenant default", "built-in default")

    velocity = create_policy(stocked, rule="overstock", velocity_class="long_tail", standard="684")
    evaluate(stocked)
    assert grade_and_sources(stocked, "S") == ("orange", "velocity class long_tail", "built-in default")

    category = create_policy(stocked, rule="overstock", category="C", standard="743.4783")
    evaluate(stocked)
    assert grade_and_sources(stocked, "S") == ("yellow", "category C", "built-in default")
    # S2 is in another category: the velocity class policy is its most specific one.
    assert grade_and_sources(stocked, "S2") == ("orange", "velocity class long_tail", "built-in default")

    sku = create_policy(stocked, rule="overstock", sku="S", bands={"yellow": "0.05", "orange": "0.14", "red": "0.5"})
    evaluate(stocked)
    assert grade_and_sources(stocked, "S") == ("orange", "category C", "SKU S")
    alert = only_alert(stocked, sku="S")
    assert alert["thresholds"]["standard"] == pytest.approx(743.4783)
    assert alert["thresholds"]["bands"] == {"yellow": 0.05, "orange": 0.14, "red": 0.5}

    for policy, expected in [
        (sku, ("yellow", "category C", "built-in default")),
        (category, ("orange", "velocity class long_tail", "built-in default")),
        (velocity, ("red", "tenant default", "built-in default")),
        (tenant, ("red", "velocity class long_tail standard", "built-in default")),
    ]:
        response = stocked.admin.client.delete(url(stocked, f"alert-policies/{policy['id']}/"))
        assert response.status_code == 204
        evaluate(stocked)
        assert grade_and_sources(stocked, "S") == expected
    assert ok(get(stocked.admin, stocked, "alert-policies/"))["results"] == []


def test_thresholds_and_parameters_inherit_one_by_one(stocked):
    sale = {"kind": "sale", "sku": "S", "warehouse": "W", "quantity": 80, "occurred_at": ts(0, 0)}
    pushed(stocked, "movements", [{**sale, "external_ref": "rush"}])
    evaluate(stocked)
    (short,) = alerts(stocked, rule="stock_out_risk", active="true")
    create_policy(stocked, rule="stock_out_risk", parameters={"service_level": 0.99, "default_lead_time_days": 7})
    create_policy(stocked, rule="stock_out_risk", category="C", parameters={"review_period_days": 3})
    create_policy(stocked, rule="stock_out_risk", sku="S", parameters={"service_level": 0.9})
    evaluate(stocked)

    thresholds = detail(stocked, short["id"])["thresholds"]
    assert thresholds["parameters"] == {
        "service_level": 0.9,
        "volatility_coefficient_days": 3.0,
        "safety_stock_method": "service_level",
        "default_lead_time_days": 7,
        "review_period_days": 3,
        "rfq_grade": "red",
        "rfq_award_rule": "lowest_landed_cost",
        "rfq_response_hours": 24.0,
        "rfq_invitations": 5.0,
    }
    assert {name: source for name, source in thresholds["sources"].items() if name.startswith("parameters.")} == {
        "parameters.service_level": "SKU S",
        "parameters.volatility_coefficient_days": "built-in default",
        "parameters.safety_stock_method": "built-in default",
        "parameters.default_lead_time_days": "tenant default",
        "parameters.review_period_days": "category C",
        **{
            f"parameters.rfq_{name}": "built-in default"
            for name in ("grade", "award_rule", "response_hours", "invitations")
        },
    }
    assert thresholds["sources"]["enabled"] == "built-in default"
    # The policy's lead time is the one the reading used (the SKU has no supplier on file).
    reading = ok(get(stocked.admin, stocked, f"indicators/{short['position_id']}/"))
    assert (reading["lead_time_days"], reading["details"]["lead_time_source"]) == (7, "policy default")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rule": "overstock", "bands": {"yellow": "0.3", "orange": "0.2", "red": "0.4"}}, "bands"),
        ({"rule": "overstock", "bands": {"yellow": "0", "orange": "0.2", "red": "0.4"}}, "bands"),
        ({"rule": "slow_moving", "thresholds": {"sparkle": 1}}, "thresholds.sparkle"),
        ({"rule": "slow_moving", "thresholds": {"on_hand": 5}}, "thresholds.on_hand"),
        ({"rule": "overstock", "thresholds": {"turnover_days": 100}}, "thresholds.turnover_days"),
        ({"rule": "slow_moving", "thresholds": {"wow_change": "a lot"}}, "thresholds.wow_change"),
        # Out of range: a zero age or weekly change would divide by zero, a rise is not a decline.
        ({"rule": "slow_moving", "thresholds": {"weighted_age_days": 0}}, "thresholds.weighted_age_days"),
        ({"rule": "slow_moving", "thresholds": {"wow_change": 0.2}}, "thresholds.wow_change"),
        (
            {"rule": "declining_product", "thresholds": {"sell_through_weekly_change": 0}},
            "thresholds.sell_through_weekly_change",
        ),
        ({"rule": "launch_check", "thresholds": {"launch_sell_through": 0}}, "thresholds.launch_sell_through"),
        ({"rule": "stock_out_risk", "parameters": {"colour": 1}}, "parameters.colour"),
        ({"rule": "stock_out_risk", "parameters": {"service_level": 2}}, "parameters.service_level"),
        ({"rule": "stock_out_risk", "parameters": {"safety_stock_method": "guess"}}, "parameters.safety_stock_method"),
        ({"rule": "stock_out_risk", "standard": "100"}, "standard"),
        ({"rule": "overstock", "standard": "0"}, "standard"),
        ({"rule": "overstock", "category": "C", "sku": "S"}, "scope"),
        ({"rule": "overstock", "velocity_class": "cash_cow", "category": "C"}, "scope"),
        ({"rule": "overstock", "sku": "NOPE"}, "sku"),
        ({"rule": "overstock", "category": "NOPE"}, "category"),
        ({"rule": "overstock", "velocity_class": "evergreen"}, "velocity_class"),
        ({"rule": "overstock", "colour": "red"}, "colour"),
        ({"rule": "sparkle"}, "rule"),
    ],
)
def test_a_bad_policy_is_refused_with_its_field(stocked, body, field):
    assert field in field_errors(post(stocked.admin, stocked, "alert-policies/", body))
    assert ok(get(stocked.admin, stocked, "alert-policies/"))["results"] == []


def test_a_policy_may_not_name_another_tenants_category_or_sku(stocked, other_world):
    pushed(other_world, "categories", [{"code": "GX", "name": "Globex only"}])
    gx_sku = {"code": "GX-1", "name": "G", "category": "GX", "unit_cost": "1", "list_price": "2"}
    pushed(other_world, "skus", [gx_sku])

    assert "category" in field_errors(
        post(stocked.admin, stocked, "alert-policies/", {"rule": "overstock", "category": "GX"})
    )
    assert "sku" in field_errors(post(stocked.admin, stocked, "alert-policies/", {"rule": "overstock", "sku": "GX-1"}))
    assert ok(get(stocked.admin, stocked, "alert-policies/"))["results"] == []
    assert ok(get(other_world.admin, other_world, "alert-policies/"))["results"] == []

    # A code both tenants use names this tenant's category; the policy is not the other's to touch.
    policy = create_policy(stocked, rule="overstock", category="snacks", standard="400")
    path = url(other_world, f"alert-policies/{policy['id']}/")
    assert other_world.admin.client.get(path).status_code == 404
    assert other_world.admin.client.patch(path, {"note": "mine now"}, format="json").status_code == 404
    assert other_world.admin.client.delete(path).status_code == 404
    assert ok(get(stocked.admin, stocked, f"alert-policies/{policy['id']}/")) == policy


def test_policy_duplicates_conflict_and_patch_changes_only_the_given_settings(stocked):
    bands = {"yellow": "0.2", "orange": "0.4", "red": "0.6"}
    created = create_policy(stocked, rule="overstock", sku="S", standard="500", bands=bands, note="buyer's call")
    assert (created["scope"], created["sku"], created["category"]) == ("sku", "S", None)
    conflict = create_policy(stocked, 409, rule="overstock", sku="S", standard="600")
    assert conflict["error"]["code"] == "conflict"
    create_policy(stocked, rule="slow_moving", sku="S")  # another rule, same scope
    create_policy(stocked, rule="overstock", sku="S2")  # same rule, another scope
    create_policy(stocked, rule="overstock")  # the tenant scope
    create_policy(stocked, 409, rule="overstock")

    path = url(stocked, f"alert-policies/{created['id']}/")
    patched = ok(stocked.admin.client.patch(path, {"enabled": False}, format="json"))
    assert patched | {"updated_at": None} == created | {"enabled": False, "updated_at": None}

    patched = ok(stocked.admin.client.patch(path, {"bands": None, "note": ""}, format="json"))
    assert (patched["bands"], patched["standard"], patched["enabled"], patched["note"]) == (None, 500.0, False, "")

    refused = stocked.admin.client.patch(
        path, {"bands": {"yellow": "0.5", "orange": "0.4", "red": "0.6"}}, format="json"
    )
    assert "bands" in field_errors(refused)
    assert "sku" in field_errors(stocked.admin.client.patch(path, {"sku": "S2"}, format="json"))
    assert ok(get(stocked.admin, stocked, f"alert-policies/{created['id']}/")) == patched

    # Switched off for S: its overstock alert goes away.
    evaluate(stocked)
    assert alerts(stocked, sku="S", active="true") == []

    assert stocked.admin.client.delete(path).status_code == 204
    assert get(stocked.admin, stocked, f"alert-policies/{created['id']}/").status_code == 404


def test_analysts_read_policies_partners_do_not(stocked):
    policy = create_policy(stocked, rule="overstock", standard="500")
    path = f"alert-policies/{policy['id']}/"
    assert ok(get(stocked.analyst, stocked, "alert-policies/"))["results"][0]["id"] == policy["id"]
    assert ok(get(stocked.analyst, stocked, path))["id"] == policy["id"]
    assert post(stocked.analyst, stocked, "alert-policies/", {"rule": "slow_moving"}).status_code == 403
    assert stocked.analyst.client.patch(url(stocked, path), {"note": "x"}, format="json").status_code == 403
    assert stocked.analyst.client.delete(url(stocked, path)).status_code == 403
    assert get(stocked.supplier, stocked, "alert-policies/").status_code == 403
    create_policy(stocked, caller=stocked.planner, rule="slow_moving")


def test_the_rule_catalog_lists_the_rules_with_their_defaults(stocked):
    rules = {rule["code"]: rule for rule in ok(get(stocked.analyst, stocked, "alert-policies/rules/"))}
    assert set(rules) == {
        "slow_moving",
        "overstock",
        "stock_out_risk",
        "launch_check",
        "declining_product",
        "expiry_risk",
        "three_dimension_risk",
        "promotion_shortfall",
        "obsolescence_risk",
        "season_end_overstock",
    }
    assert all(rule["default_bands"] == {"yellow": 0.1, "orange": 0.2, "red": 0.3} for rule in rules.values())
    assert rules["slow_moving"]["thresholds"] == {"wow_change": -0.4, "weighted_age_days": 90.0}
    parameters = {p["name"]: p for p in rules["stock_out_risk"]["parameters"]}
    assert parameters["service_level"]["default"] == 0.95
    assert parameters["safety_stock_method"]["choices"] == ["service_level", "cover", "forecast"]
    assert "180 (long tail)" in rules["overstock"]["standard_help"]


# --- Partners and tenants -------------------------------------------------------------------------


def test_partners_see_only_the_alerts_and_indicators_they_are_granted(stocked):
    world = stocked
    supplier_offers_upsert(
        tenant=world.tenant,
        offers=[
            {
                "sku_id": Sku.objects.get(tenant=world.tenant, code="S").pk,
                "supplier_id": world.supplier.partner.pk,
                "rank": 1,
                "lead_time_days": 5,
                "unit_price": Decimal("1.1"),
            }
        ],
    )
    warehouse_grant(
        partner=world.distributor.partner, warehouses=[Warehouse.objects.get(tenant=world.tenant, code="W2")]
    )
    on_s, on_s2 = only_alert(world, sku="S")["id"], only_alert(world, sku="S2")["id"]

    assert [a["id"] for a in alerts(world, caller=world.supplier)] == [on_s]
    assert [a["id"] for a in alerts(world, caller=world.distributor)] == [on_s2]
    assert ids_of(world) == ["S", "S2"]
    assert sorted(a["sku"] for a in alerts(world, caller=world.erp)) == ["S", "S2"]
    assert detail(world, on_s, caller=world.supplier)["id"] == on_s
    assert detail(world, on_s2, caller=world.distributor)["id"] == on_s2
    # Partners see what is recommended, not the tenant's policy or the figures behind it: a supplier
    # the quantity of what is sourced only, not of a clearance (that is the stock on hand).
    staff_view, supplier_view = detail(world, on_s), detail(world, on_s, caller=world.supplier)
    assert set(staff_view["recommendation"]) > {"action", "quantity"}
    assert staff_view["recommendation"]["action"] == "clearance"
    assert supplier_view["recommendation"] == {"action": "clearance", "quantity": None, "due_on": None}
    assert not {"thresholds", "inputs", "deviation"} & set(supplier_view)
    assert staff_view["thresholds"]["bands"]
    assert detail(world, on_s, caller=world.erp)["recommendation"] == staff_view["recommendation"]
    assert get(world.supplier, world, f"alerts/{on_s2}/").status_code == 404
    assert get(world.distributor, world, f"alerts/{on_s}/").status_code == 404

    def readings(caller) -> list[str]:
        return sorted(r["sku"] for r in ok(get(caller, world, "indicators/"))["results"])

    assert readings(world.supplier) == ["S"]
    assert readings(world.distributor) == ["S2"]
    assert readings(world.admin) == ["S", "S2", "SKU-1"]
    position_of_s = only_alert(world, sku="S")["position_id"]
    assert get(world.distributor, world, f"indicators/{position_of_s}/").status_code == 404
    assert ok(get(world.supplier, world, f"indicators/{position_of_s}/"))["sku"] == "S"

    for caller, alert_id in [(world.supplier, on_s), (world.distributor, on_s2), (world.erp, on_s)]:
        assert act(world, alert_id, "acknowledge", caller=caller).status_code == 403
        assert act(world, alert_id, "dismiss", caller=caller, reason="false_alarm").status_code == 403
        assert act(world, alert_id, "snooze", caller=caller, until=soon(days=1)).status_code == 403
        assert act(world, alert_id, "resolve", caller=caller).status_code == 403
    assert kinds(detail(world, on_s)) == ["opened"]


def test_another_tenants_alert_is_not_found(stocked, other_world):
    alert_id = only_alert(stocked, sku="S")["id"]
    other = other_world.admin
    assert get(other, other_world, f"alerts/{alert_id}/").status_code == 404
    assert act(other_world, alert_id, "acknowledge", caller=other).status_code == 404
    assert act(other_world, alert_id, "dismiss", caller=other, reason="false_alarm").status_code == 404
    assert alerts(other_world) == []
    # Nor through the other tenant's slug with this tenant's key.
    assert stocked.admin.client.get(url(other_world, f"alerts/{alert_id}/")).status_code in (403, 404)
    assert detail(stocked, alert_id)["status"] == "open"


# --- Evaluation runs ------------------------------------------------------------------------------


def test_a_full_run_is_queued_refused_twice_and_reports_its_progress(stocked):
    queued = ok(post(stocked.planner, stocked, "evaluations/"), 202)
    assert (queued["status"], queued["trigger"], queued["progress"]) == ("queued", "manual", 0.0)
    assert queued["requested_by"].startswith(user_actor(stocked.planner))
    assert queued["positions_total"] == 3

    second = ok(post(stocked.admin, stocked, "evaluations/"), 409)
    assert second["error"]["code"] == "conflict"
    assert queued["id"] in second["error"]["message"]
    assert "non_field_errors" in field_errors(post(stocked.admin, stocked, "evaluations/", {"as_of": "2020-01-01"}))
    assert post(stocked.analyst, stocked, "evaluations/").status_code == 403
    assert ok(get(stocked.analyst, stocked, f"evaluations/{queued['id']}/"))["status"] == "queued"

    evaluation_run(queued["id"])

    done = ok(get(stocked.admin, stocked, f"evaluations/{queued['id']}/"))
    assert (done["status"], done["progress"], done["attempts"], done["error"]) == ("succeeded", 1.0, 1, "")
    assert (done["positions_total"], done["positions_done"]) == (3, 3)
    assert done["counts"] == {"positions": 3, "unchanged": 2}
    assert done["finished_at"] is not None
    evaluation_run(queued["id"])  # a duplicate delivery finds it finished
    assert ok(get(stocked.admin, stocked, f"evaluations/{queued['id']}/")) == done
    ok(post(stocked.admin, stocked, "evaluations/"), 202)  # free again


def test_incremental_passes_are_listed_with_their_trigger(stocked):
    (first,) = ok(get(stocked.admin, stocked, "evaluations/", trigger="incremental"))["results"]
    assert (first["status"], first["requested_by"]) == ("succeeded", "system")
    assert first["counts"]["opened"] == 2
    assert first["positions_total"] == first["positions_done"] == 3

    sku_standard(stocked, "S", "yellow")

    runs = ok(get(stocked.admin, stocked, "evaluations/"))["results"]
    assert [run["trigger"] for run in runs] == ["incremental", "incremental"]
    assert runs[-1]["counts"] == {"positions": 1, "deescalated": 1}
    assert runs[-1]["positions_done"] == 1
    assert ok(get(stocked.admin, stocked, "evaluations/", trigger="manual"))["results"] == []


def test_alerts_opened_together_get_distinct_creation_times_for_the_cursor(stocked):
    # Lists page on (created_at, id); DRF's cursor stops paging past 1,000 rows of one timestamp,
    # and a chunk opens thousands of alerts at once: each must have a time of its own.
    opened = Alert.objects.filter(tenant=stocked.tenant)
    assert opened.count() >= 2
    assert opened.values("created_at").distinct().count() == opened.count()


def test_the_list_renders_each_alert_exactly_as_its_detail_does(stocked):
    # The list builds its rows from plain values for speed; the detail goes through the serializer.
    first = alerts(stocked)[0]["id"]
    ok(act(stocked, first, "acknowledge", note="on it"))
    ok(act(stocked, first, "snooze", until=soon(days=2)))  # the optional times and flags filled in too
    listed = alerts(stocked)
    assert any(row["snoozed"] and row["acknowledged_at"] and row["snoozed_until"] for row in listed)
    for row in listed:
        assert set(row) == set(AlertOutput.Meta.fields)
        full = detail(stocked, row["id"])
        assert {name: full[name] for name in row} == row
    supplier_offers_upsert(
        tenant=stocked.tenant,
        offers=[
            {
                "sku": "S",
                "supplier_id": stocked.supplier.partner.pk,
                "rank": 1,
                "lead_time_days": 5,
                "unit_price": Decimal("1.1"),
            }
        ],
    )
    supplier_rows = alerts(stocked, caller=stocked.supplier)
    assert supplier_rows  # the partner shape: the recommendation's action, quantity and due day only
    assert all(set(row["recommendation"]) == {"action", "quantity", "due_on"} for row in supplier_rows)
    for row in supplier_rows:
        assert {name: detail(stocked, row["id"], caller=stocked.supplier)[name] for name in row} == row


def test_a_grade_change_is_announced_with_the_new_figures(stocked):
    # Turnover days are 855; a standard of 743.4783 puts S 15 % beyond it: red down to yellow.
    before = only_alert(stocked, sku="S")
    create_policy(stocked, rule="overstock", sku="S", standard="743.4783")
    evaluate(stocked)
    after = only_alert(stocked, sku="S")
    assert (before["grade"], after["grade"]) == ("red", "yellow")
    (event,) = OutboxEvent.objects.filter(tenant=stocked.tenant, type="alert.deescalated")
    assert (event.data["grade"], event.data["previous_grade"]) == ("yellow", "red")
    assert event.data["deviation"] == after["deviation"] != before["deviation"]
    assert event.data["action"] == after["recommendation"]["action"]
