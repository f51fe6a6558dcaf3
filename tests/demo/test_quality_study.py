"""``manage.py quality_study``: the study tenant it seeds (the demo's generator with another seed, the
planner's category replenished deep, late orders), the simulated planner, and figures that hold
together (core/demo/quality_study.py, core/demo/quality_study_run.py)."""

import json
from datetime import date, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from core.alerts.models import PolicyChange
from core.demo.management.commands.quality_study import study_table
from core.demo.quality_study import (
    PLANNER_COVER_DAYS,
    STUDY_SCALES,
    WARM_UP_DAYS,
    QualityStudyPlan,
    SimulatedPlanner,
    cover_at_opening,
    planner_judgements,
    quality_study_plan,
)
from core.demo.synthetic import DemoPlan
from core.quality.replay import warnings_replay
from tenants.models import Tenant

TODAY = date(2026, 11, 20)


def _stock(plan: DemoPlan) -> tuple[dict[tuple[str, str], int], np.ndarray, np.ndarray]:
    """End-of-day stock and daily sales of every position, simulated from the plan's ledger lines."""
    index: dict[tuple[str, str], int] = {}  # positions numbered as their first line comes
    net = np.zeros((plan.position_count, plan.days))
    sold = np.zeros((plan.position_count, plan.days))
    for day, batch in enumerate(plan.movement_days()):
        for line in batch.rows:
            n = index.setdefault((line["sku"], line["warehouse"]), len(index))
            sign = -1 if line["kind"] == "sale" else 1
            net[n, day] += sign * line["quantity"]
            if line["kind"] == "sale":
                sold[n, day] += line["quantity"]
    return index, np.cumsum(net, axis=1), sold


def _episodes(stock: np.ndarray, sold: np.ndarray, first: int) -> int:
    """Stock-out episodes from day ``first``: runs of days at no stock while the position sold in the 28 before."""
    selling = np.array([np.convolve(row, np.ones(28))[: row.size] for row in sold]) > 0
    out = (stock <= 0) & np.concatenate([np.zeros((stock.shape[0], 1), bool), selling[:, :-1]], axis=1)
    starts = out[:, 1:] & ~out[:, :-1]
    return int(starts[:, first - 1 :].sum())


def test_the_study_plan_is_the_demo_generator_with_another_seed_and_what_the_study_needs() -> None:
    plan = quality_study_plan(scale="tiny", seed=11, today=TODAY)
    again = quality_study_plan(scale="tiny", seed=11, today=TODAY)
    # Same seed, same data; the history is the warm-up and the period replayed.
    assert [batch.rows for batch in plan.movement_days()] == [batch.rows for batch in again.movement_days()]
    assert plan.days == STUDY_SCALES["tiny"].days > WARM_UP_DAYS
    assert plan.first_day == TODAY - timedelta(days=plan.days)
    # The demo's generator: the same master data as the demo plan of that seed and size.
    demo = DemoPlan(scale=STUDY_SCALES["tiny"], seed=11, today=TODAY)
    assert plan.skus == demo.skus
    assert plan.warehouses == demo.warehouses
    assert plan.offers == demo.offers
    # The planner's category is the one with the most cash cows.
    cash_cows = {row["code"]: 0 for row in plan.categories}
    for row in plan.skus:
        cash_cows[row["category"]] += row["velocity_class"] == "cash_cow"
    assert cash_cows[plan.planner_category] == max(cash_cows.values()) > 0

    index, stock, sold = _stock(plan)
    demo_index, demo_stock, demo_sold = _stock(demo)
    # Late orders: more stock-out episodes than the demo's ledger of the same seed has.
    assert _episodes(stock, sold, WARM_UP_DAYS) > _episodes(demo_stock, demo_sold, WARM_UP_DAYS)
    # The planner's category is stocked deeper than in the demo: more days of cover held on average.
    category = {row["code"]: row["category"] for row in plan.skus}

    def cover(index: dict, stock: np.ndarray, sold: np.ndarray) -> float:
        rows = [n for (sku, _), n in index.items() if category[sku] == plan.planner_category]
        return float(stock[rows, WARM_UP_DAYS:].mean() / max(sold[rows, WARM_UP_DAYS:].mean(), 1e-9))

    assert cover(index, stock, sold) > 1.5 * cover(demo_index, demo_stock, demo_sold)


def test_an_unknown_study_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="tiny, small, medium"):
        quality_study_plan(scale="huge", seed=1, today=TODAY)
    assert isinstance(quality_study_plan(scale="tiny", seed=1, today=TODAY), QualityStudyPlan)


def _consistent(figures: dict) -> None:
    """A replay's stock-out figures hold together."""
    counted = sum(figures[key] for key in ("true_alerts", "false_alarms", "averted", "pending"))
    assert counted == figures["alerts"]
    assert 0 <= figures["warned"] <= figures["episodes"]
    if figures["episodes"]:
        assert figures["recall"] == pytest.approx(figures["warned"] / figures["episodes"], abs=1e-4)
        assert 0 <= figures["recall"] <= 1
    if figures["true_alerts"] + figures["false_alarms"]:
        expected = figures["true_alerts"] / (figures["true_alerts"] + figures["false_alarms"])
        assert figures["precision"] == pytest.approx(expected, abs=1e-4)
    if figures["warned"]:
        assert 0 <= figures["lead_time_p10"] <= figures["lead_time_median"]


def _study(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("quality_study", "--scale", "tiny", "--today", TODAY.isoformat(), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_measures_the_study_and_a_demo_tenant(db, capsys) -> None:
    # When the study runs at the tiny scale, with the demo tenant at the small one
    out, _ = _study("--tenant", "qs", "--demo-scale", "small", "--demo-tenant", "qs-demo", "--json")
    figures = json.loads(out)
    study, demo = figures["study"], figures["demo"]

    # Then the study tenant was seeded, its period is the history after the warm-up, cut in two halves
    assert study["seeded"]["now"] is True
    period = study["period"]
    assert date.fromisoformat(period["from"]) == TODAY - timedelta(days=STUDY_SCALES["tiny"].days - WARM_UP_DAYS)
    assert date.fromisoformat(period["to"]) == TODAY - timedelta(days=1)
    assert date.fromisoformat(period["second_half_from"]) == date.fromisoformat(period["first_half_to"]) + timedelta(1)
    replays = study["replays"]
    assert replays["default, whole period"]["period"]["day_from"] == period["from"]
    assert replays["default, second half"]["period"]["day_from"] == period["second_half_from"]

    # and every replay's figures hold together, overall and per stock-out rule
    for run in [*replays.values(), demo]:
        _consistent(run["stock_out"])
        for rule in run["stock_out"]["by_rule"].values():
            _consistent(rule)
            assert rule["episodes"] == run["stock_out"]["episodes"]
        assert run["stock_out"]["alerts"] <= run["alerts"]
    whole = replays["default, whole period"]["stock_out"]
    assert whole["episodes"] > 0
    assert whole["alerts"] > 0
    # The second half's episodes are the whole period's that start in it: fewer.
    assert replays["default, second half"]["stock_out"]["episodes"] < whole["episodes"]

    # The planner: their category, judged by their rule of thumb, false alarms among its alerts
    planner = study["planner"]
    assert planner["cover_days"] == PLANNER_COVER_DAYS
    for run in replays.values():
        category = run["planner_category"]
        assert category["category"] == planner["category"]
        assert 0 <= category["planner_false_alarms"] <= category["alerts"]
        assert sum(category["planner_false_alarms_by_rule"].values()) == category["planner_false_alarms"]
    tuning = study["tuning"]
    verdicts = tuning["verdicts"]
    assert verdicts["verdicts"] == verdicts["false_alarm"] + verdicts["confirmed"] > 0

    # The tuner ran on each day of the first half after its first, and the first of the second
    first_half = date.fromisoformat(period["first_half_to"]) - date.fromisoformat(period["from"])
    assert tuning["runs"] == first_half.days + 1
    # and every step it applied is a policy version of the study tenant by system:tuner
    assert tuning["applied"]
    changes = PolicyChange.objects.filter(tenant__slug="qs", author="system:tuner")
    assert changes.count() == len(tuning["applied"])
    assert not PolicyChange.objects.filter(tenant__slug="qs").exclude(author="system:tuner").exists()
    for step in tuning["applied"]:
        assert period["from"] < step["run_on"] <= period["second_half_from"]
        assert step["direction"] in ("tighten", "loosen")
        assert step["before"] != step["after"]
        # One step moves the trip point by at most 20 %
        assert abs(step["after"] - step["before"]) <= 0.2 * abs(step["before"]) + 1e-6
    assert all(step["refusal"] for step in tuning["refused"])
    # The second half was replayed with the tuned policies too, and judged the same way
    tuned, second = replays["tuned, second half"], replays["default, second half"]
    assert tuned["period"] == second["period"]
    assert tuned["stock_out"]["episodes"] == second["stock_out"]["episodes"]  # the same ledger

    # The goals are the figures held against their targets
    goals = {goal["goal"]: goal for goal in study["goals"]}
    precision = goals["stock-out precision, default policy"]
    assert precision["got"] == pytest.approx(whole["precision"])
    assert precision["met"] == (whole["precision"] >= 0.9)
    before = second["planner_category"]["planner_false_alarms"]
    after = tuned["planner_category"]["planner_false_alarms"]
    cut = goals["planner's category false alarms cut by the tuning, second half"]
    assert cut["got"] == pytest.approx((before - after) / before, abs=1e-4)
    assert cut["met"] == (cut["got"] >= 0.5)
    shift = goals["stock-out recall change by the tuning, second half"]
    assert shift["got"] == pytest.approx(tuned["stock_out"]["recall"] - second["stock_out"]["recall"], abs=1e-4)
    recall = goals["stock-out recall, default policy"]
    assert recall["got"] == pytest.approx(whole["recall"])
    assert recall["met"] == (whole["recall"] >= 0.9)

    # The demo tenant was seeded at the small scale and replayed over what its ledger allows after the warm-up
    assert demo["seeded"]["now"] is True
    assert demo["tenant"] == "qs-demo"
    assert demo["period"]["day_to"] == (TODAY - timedelta(days=1)).isoformat()
    assert demo["period"]["days"] == 120 - WARM_UP_DAYS
    assert demo["policies"] == "built-in defaults"
    # Progress went to stderr, one bar per replay
    assert "default policy, whole period" in capsys.readouterr().err

    # The planner reads an alert's cover as the engine does: a stock-out alert's days of cover at
    # opening (available over the 28-day average, no forecast on the study tenant) are theirs too
    tenant = Tenant.objects.get(slug="qs")
    day_from = date.fromisoformat(period["second_half_from"])
    result = warnings_replay(tenant=tenant, day_from=day_from, day_to=date.fromisoformat(period["to"]))
    stock_outs = [alert for alert in result.alerts if alert.rule == "stock_out_risk"][:50]
    assert stock_outs
    covers = cover_at_opening(tenant=tenant, alerts=stock_outs)
    for alert in stock_outs:
        assert covers[(alert.position_id, alert.opened_on)] == pytest.approx(alert.inputs["days_of_cover"], abs=0.06)
    # and calls false, in their category, exactly the overstock and slow-moving alerts within 60 days of cover
    planner_alerts = [alert for alert in result.alerts if alert.category_code == planner["category"]]
    judged = planner_judgements(tenant=tenant, planner=SimulatedPlanner(planner["category"]), alerts=planner_alerts)
    own = [judgement for judgement in judged if judgement.alert.rule in ("overstock", "slow_moving")]
    assert own
    for judgement in own:
        fine = judgement.cover_days is not None and judgement.cover_days <= PLANNER_COVER_DAYS
        assert (judgement.verdict == "false_alarm") == fine
        assert judgement.known_on == judgement.alert.opened_on

    # The table the command prints without --json shows the same figures
    table = study_table(figures)
    assert f"Study tenant qs (scale tiny, seed {study['seed']}" in table
    for name in replays:
        assert name in table
    assert "Tuner on the first half" in table
    assert f"Demo tenant qs-demo ({demo['positions']} positions" in table
    assert table.count("MISSED") == sum(goal["met"] is False for goal in [*study["goals"], *demo["goals"]])

    # A study tenant seeded with other arguments is refused; so is one whose policies the tuner changed
    with pytest.raises(CommandError, match="not seeded by the study"):
        _study("--tenant", "qs", "--seed", "5", "--demo-scale", "none")
    with pytest.raises(CommandError, match="holds alert policies"):
        _study("--tenant", "qs", "--demo-scale", "none")
