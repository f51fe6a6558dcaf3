"""The tuner end to end on a hand-made ledger (tests/support/tuning.py) with hand-made planner
verdicts: its shadow replays are real replays of the ledger, its changes real policy versions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.alerts.models import AlertPolicy, PolicyChange
from core.quality.models import ProposalStatus, TuningMode
from core.quality.tuner import TUNER_ACTOR, tuner_run
from tests.support.calls import error, ok, url
from tests.support.ingest import TODAY
from tests.support.tuning import planner_verdicts, positions_of, tuning_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def tuned(world):
    return tuning_shop(world)


def _run(world, verdicts, mode=TuningMode.AUTO, today=TODAY):
    return tuner_run(tenant=world.tenant, today=today, feedback=verdicts, mode=mode, replay_evidence=False)


def _tuner_changes(world):
    return list(PolicyChange.objects.filter(tenant=world.tenant, author=TUNER_ACTOR).order_by("version"))


def test_weak_evidence_changes_nothing(tuned) -> None:
    # One false alarm and one right alert in each category: P(precision < 0.7) = 0.49.
    verdicts = planner_verdicts(tuned, "ok", false_alarms=1) + planner_verdicts(tuned, "bad", false_alarms=1)
    assert _run(tuned, verdicts) == []
    assert _tuner_changes(tuned) == []


def test_strong_evidence_applies_one_bounded_step_as_a_version_by_the_tuner(tuned) -> None:
    (proposal,) = _run(tuned, planner_verdicts(tuned, "ok"))
    assert (proposal.status, proposal.rule, proposal.scope, proposal.category.code) == (
        "applied",
        "stock_out_risk",
        "category",
        "ok",
    )
    # One step: at most a fifth of the trip point, inside the catalog's range (0.02 to 0.33).
    assert proposal.value_before == pytest.approx(0.15)
    assert proposal.value_after == pytest.approx(0.18)
    assert abs(proposal.value_after - proposal.value_before) <= 0.2 * proposal.value_before + 1e-9
    assert proposal.evidence["counts"]["false"] == 8
    assert proposal.evidence["p_precision_below_target"] >= 0.95

    # The shadow replay: the eight stalled positions' alerts are gone, the sold-out one is still warned.
    before, after = proposal.replay["before"], proposal.replay["after"]
    assert (before["false_alarms"], after["false_alarms"]) == (8, 0)
    assert (before["recall"], after["recall"]) == (1.0, 1.0)
    assert (before["lead_time_median"], after["lead_time_median"]) == (5.0, 4.0)

    (change,) = _tuner_changes(tuned)
    assert proposal.change == change
    assert (change.action, change.before, change.after["bands"]) == (
        "created",
        None,
        {"yellow": 0.18, "orange": 0.36, "red": 0.54},
    )
    assert change.evidence == proposal.evidence
    assert change.replay == proposal.replay
    assert "P(precision below target)" in change.reason
    policy = AlertPolicy.objects.get(tenant=tuned.tenant, rule="stock_out_risk", category__code="ok")
    assert float(policy.yellow) == pytest.approx(0.18)


def test_refused_when_the_shadow_replay_loses_a_warned_stock_out(tuned) -> None:
    proposals = _run(tuned, planner_verdicts(tuned, "bad"))
    assert proposals
    assert {proposal.status for proposal in proposals} == {ProposalStatus.REFUSED}
    category = next(proposal for proposal in proposals if proposal.scope == "category")
    assert category.category.code == "bad"
    assert "recall falls" in category.refusal
    assert (category.replay["before"]["recall"], category.replay["after"]["recall"]) == (1.0, 0.0)
    assert _tuner_changes(tuned) == []
    assert not AlertPolicy.objects.filter(tenant=tuned.tenant, category__isnull=False).exists()


def test_cooldown_per_rule_and_scope(tuned) -> None:
    verdicts = planner_verdicts(tuned, "ok")
    assert len(_run(tuned, verdicts, mode=TuningMode.PROPOSE)) == 1
    # The next days, the same evidence proposes nothing for that rule and scope: pending, then resting.
    assert _run(tuned, verdicts, mode=TuningMode.PROPOSE, today=TODAY + timedelta(days=1)) == []
    proposal = _pending(tuned)
    ok(tuned.planner.client.post(url(tuned, f"tuning/proposals/{proposal['id']}/reject/"), {}, format="json"))
    assert _run(tuned, verdicts, mode=TuningMode.PROPOSE, today=TODAY + timedelta(days=13)) == []
    assert len(_run(tuned, verdicts, mode=TuningMode.PROPOSE, today=TODAY + timedelta(days=14))) == 1


def _pending(world) -> dict:
    (proposal,) = ok(world.admin.client.get(url(world, "tuning/proposals/"), {"status": "pending"}))["results"]
    return proposal


def test_propose_mode_waits_for_a_planner_who_accepts_or_rejects(tuned) -> None:
    (proposal,) = _run(tuned, planner_verdicts(tuned, "ok"), mode=TuningMode.PROPOSE)
    assert proposal.status == "pending"
    assert _tuner_changes(tuned) == []
    shown = _pending(tuned)
    assert (shown["value_before"], shown["value_after"], shown["category"]) == (0.15, 0.18, "ok")
    assert shown["replay"]["after"]["false_alarms"] == 0

    path = url(tuned, f"tuning/proposals/{shown['id']}/")
    assert tuned.analyst.client.post(f"{path}accept/", {}, format="json").status_code == 403
    accepted = ok(tuned.planner.client.post(f"{path}accept/", {"note": "agreed"}, format="json"))
    assert (accepted["status"], accepted["decision_note"]) == ("accepted", "agreed")
    assert accepted["decided_by"].startswith(f"user:{tuned.planner.user.get_username()}")
    (change,) = _tuner_changes(tuned)
    assert accepted["change"] == str(change.pk)
    assert "Accepted by user:" in change.reason
    assert error(tuned.planner.client.post(f"{path}accept/", {}, format="json"), 409)["code"] == "conflict"
    assert error(tuned.planner.client.post(f"{path}reject/", {}, format="json"), 409)["code"] == "conflict"


def test_a_proposal_whose_policy_changed_since_is_not_applied(tuned) -> None:
    (proposal,) = _run(tuned, planner_verdicts(tuned, "ok"), mode=TuningMode.PROPOSE)
    ok(
        tuned.admin.client.post(
            url(tuned, "alert-policies/"),
            {"rule": "stock_out_risk", "category": "ok", "bands": {"yellow": "0.2", "orange": "0.3", "red": "0.4"}},
            format="json",
        ),
        201,
    )
    accept = url(tuned, f"tuning/proposals/{proposal.pk}/accept/")
    refused = error(tuned.planner.client.post(accept, {}, format="json"), 409)
    assert "changed since" in refused["message"]
    assert _tuner_changes(tuned) == []
    assert ok(tuned.admin.client.get(url(tuned, f"tuning/proposals/{proposal.pk}/")))["status"] == "pending"


def test_off_mode_proposes_nothing_and_the_tuners_change_can_be_reverted(tuned) -> None:
    verdicts = planner_verdicts(tuned, "ok")
    assert _run(tuned, verdicts, mode=TuningMode.OFF) == []
    assert tuner_run(tenant=tuned.tenant, today=TODAY, feedback=verdicts, replay_evidence=False) == []  # default off

    (proposal,) = _run(tuned, verdicts)
    change = proposal.change
    reverted = ok(
        tuned.planner.client.post(url(tuned, f"policy-changes/{change.pk}/revert/"), {"reason": "no"}, format="json"),
        201,
    )
    assert (reverted["action"], reverted["reverts"], reverted["after"]) == ("deleted", str(change.pk), None)
    assert not AlertPolicy.objects.filter(tenant=tuned.tenant, category__code="ok").exists()
    assert positions_of(tuned, "ok")  # the positions are untouched
