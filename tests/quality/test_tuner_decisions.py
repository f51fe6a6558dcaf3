"""The tuner's decision on hand-made evidence, and the bounds of a step (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.alerts.catalog import Effective
from core.quality.tunables import SCALE, SHIFT, TUNABLES, tunables_markdown
from core.quality.tuner import CONFIDENCE, LOOSEN, MAX_STEP, TIGHTEN, decision_of, shadow_verdict
from core.quality.tuner_evidence import FALSE, MISSED, TOO_EARLY, TOO_LATE, TRUE, WARNED, Evidence, Verdict


def _evidence(**counts: int) -> Evidence:
    evidence = Evidence()
    for verdict, count in counts.items():
        for _ in range(count):
            evidence.add(Verdict("stock_out_risk", verdict, 1, 1, 1, "long_tail"))
    return evidence


@pytest.mark.parametrize(
    "counts",
    [
        {FALSE: 1},  # one false alarm: P(precision < 0.7) = 0.65
        {FALSE: 2},  # two and none right: 0.79 (a uniform prior would have said 0.97)
        {FALSE: 4},  # 0.94: still short of 0.95
        {FALSE: 3, TRUE: 3},  # as many right as wrong: 0.72
        {FALSE: 4, TRUE: 10},
        {FALSE: 2, TOO_EARLY: 4},  # too early is right, with too much notice
        {},
    ],
)
def test_weak_evidence_changes_nothing(counts: dict) -> None:
    direction, _, figures = decision_of(_evidence(**counts))
    assert direction is None
    assert figures["p_precision_below_target"] < CONFIDENCE


def test_strong_evidence_tightens_by_at_most_a_fifth_and_more_for_a_worse_rule() -> None:
    assert decision_of(_evidence(**{FALSE: 5}))[0] == TIGHTEN  # P(precision < 0.7) = 0.97
    direction, step, figures = decision_of(_evidence(**{FALSE: 12, TRUE: 1}))
    assert (direction, step) == (TIGHTEN, MAX_STEP)
    assert figures["p_precision_below_target"] >= CONFIDENCE
    # Just below the target: a smaller step than the cap.
    direction, step, _ = decision_of(_evidence(**{FALSE: 40, TRUE: 60}))
    assert direction == TIGHTEN
    assert 0.05 <= step < MAX_STEP


def test_missed_stock_outs_loosen_only_while_precision_is_not_in_question() -> None:
    direction, step, figures = decision_of(_evidence(**{WARNED: 10, MISSED: 8, TRUE: 20}))
    assert direction == LOOSEN
    assert 0 < step <= MAX_STEP
    assert figures["p_recall_below_target"] >= CONFIDENCE
    # Too late counts against recall too; with precision low as well, no single step helps: none.
    assert decision_of(_evidence(**{WARNED: 2, TOO_LATE: 10, FALSE: 20}))[0] is None


def _effective(bands=(0.1, 0.2, 0.3), thresholds=None) -> Effective:
    return Effective("x", True, 45.0, bands, thresholds or {}, {})


def test_a_step_stays_within_a_fifth_and_the_catalog_range() -> None:
    stock_out = TUNABLES["stock_out_risk"]
    assert stock_out.how == SCALE
    assert stock_out.step(0.15, tighten=True, fraction=0.2) == pytest.approx(0.18)
    assert stock_out.step(0.30, tighten=True, fraction=0.2) == stock_out.maximum  # 0.36 clipped to 0.33
    assert stock_out.step(0.15, tighten=False, fraction=0.2) == pytest.approx(0.12)
    assert stock_out.settings_for(_effective((0.15, 0.3, 0.45)), 0.18) == {
        "bands": {"yellow": 0.18, "orange": 0.36, "red": 0.54}
    }
    overstock = TUNABLES["overstock"]
    assert overstock.how == SHIFT
    assert overstock.value_of(_effective()) == pytest.approx(1.1)
    assert overstock.settings_for(_effective(), 1.32) == {"bands": {"yellow": 0.32, "orange": 0.42, "red": 0.52}}
    # A decline threshold is stricter further from zero; launch sell-through lower.
    decline = TUNABLES["declining_product"]
    assert decline.step(-0.15, tighten=True, fraction=0.2) == pytest.approx(-0.18)
    launch = TUNABLES["launch_check"]
    assert launch.step(0.30, tighten=True, fraction=0.2) == pytest.approx(0.24)
    slow = TUNABLES["slow_moving"]
    assert slow.settings_for(_effective(thresholds={"weighted_age_days": 90.0}), 108.0) == {
        "thresholds": {"weighted_age_days": 108.0}
    }


def _figures(precision_mean: float, recall: float | None, lead: float | None) -> dict:
    return {"precision_mean": precision_mean, "recall": recall, "lead_time_median": lead}


def test_the_shadow_verdict_and_its_tolerances() -> None:
    before = _figures(0.4, 0.9, 6.0)
    assert shadow_verdict(TIGHTEN, before, _figures(0.6, 0.89, 5.0)) == ""  # within 2 points, 1 day
    assert "precision does not rise" in shadow_verdict(TIGHTEN, before, _figures(0.4, 0.9, 6.0))
    assert "recall falls" in shadow_verdict(TIGHTEN, before, _figures(0.6, 0.87, 6.0))
    assert "lead time falls" in shadow_verdict(TIGHTEN, before, _figures(0.6, 0.9, 4.5))
    assert "lead time falls" in shadow_verdict(TIGHTEN, before, _figures(0.6, 0.9, None))
    assert shadow_verdict(LOOSEN, before, _figures(0.39, 0.95, 6.0)) == ""
    assert "precision falls" in shadow_verdict(LOOSEN, before, _figures(0.3, 0.95, 6.0))
    assert "neither recall" in shadow_verdict(LOOSEN, before, _figures(0.4, 0.9, 6.0))


def test_the_manual_lists_the_tunables_as_the_registry_has_them() -> None:
    manual = (Path(__file__).resolve().parents[2] / "docs" / "tuning.md").read_text()
    assert tunables_markdown() in manual
