"""Every transition of the alert lifecycle, as the pure function the engine applies in bulk.

No database: an alert's state is a plain value, and the answer says what to count, which state
columns to set, which timeline entries to write and whether the alert takes the trip's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from core.alerts.lifecycle import UNCHANGED, alert_step

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)
EARLIER = NOW - timedelta(hours=1)


@dataclass
class State:
    grade: str
    status: str = "open"
    peak_grade: str = ""
    snoozed_until: datetime | None = None

    def __post_init__(self) -> None:
        self.peak_grade = self.peak_grade or self.grade


def step(alert: State | None, grade: str | None, *, same: bool = False, deviation: float | None = 0.25):
    return alert_step(alert, grade, same_figures=same, deviation=deviation, now=NOW)


def test_no_alert_and_no_trip_is_nothing() -> None:
    assert step(None, None) is UNCHANGED


@pytest.mark.parametrize("grade", ["yellow", "orange", "red"])
def test_a_trip_without_an_alert_opens_one_at_its_grade(grade: str) -> None:
    result = step(None, grade)
    assert result.outcome == "opened"
    assert result.changes == {"grade": grade, "peak_grade": grade, "status": "open"}
    assert result.events == (("opened", "", grade, {}),)
    assert result.refigures


@pytest.mark.parametrize("status", ["open", "acknowledged"])
def test_a_recovered_position_resolves_its_alert(status: str) -> None:
    result = step(State("orange", status, snoozed_until=LATER), None)
    assert result.outcome == "resolved"
    assert result.changes == {"status": "resolved", "resolved_at": NOW, "active": False, "snoozed_until": None}
    assert result.events == (("auto_resolved", "orange", "", {}),)
    assert not result.refigures


def test_a_dismissed_alert_whose_condition_ends_is_cleared_not_resolved() -> None:
    result = step(State("red", "dismissed"), None)
    assert result.outcome == "cleared"
    assert result.changes == {"active": False, "snoozed_until": None}
    assert result.events == (("cleared", "red", "", {}),)


@pytest.mark.parametrize(("old", "new"), [("yellow", "orange"), ("yellow", "red"), ("orange", "red")])
def test_a_worse_grade_escalates_and_needs_acknowledging_again(old: str, new: str) -> None:
    result = step(State(old, "acknowledged"), new, same=True)
    assert result.outcome == "escalated"
    assert result.changes == {"grade": new, "status": "open", "acknowledged_at": None, "peak_grade": new}
    assert result.events == (("escalated", old, new, {"deviation": 0.25}),)
    assert result.refigures


def test_an_escalation_below_the_peak_keeps_the_peak() -> None:
    result = step(State("yellow", peak_grade="red"), "orange")
    assert result.outcome == "escalated"
    assert "peak_grade" not in result.changes


@pytest.mark.parametrize("status", ["open", "acknowledged"])
def test_a_better_grade_de_escalates_and_an_acknowledgement_stands(status: str) -> None:
    result = step(State("red", status, snoozed_until=LATER), "yellow", deviation=0.12)
    assert result.outcome == "deescalated"
    assert result.changes == {"grade": "yellow"}  # status, acknowledgement and snooze stay
    assert result.events == (("deescalated", "red", "yellow", {"deviation": 0.12}),)
    assert result.refigures


def test_the_same_grade_with_the_same_figures_is_unchanged() -> None:
    assert step(State("orange"), "orange", same=True) is UNCHANGED


def test_the_same_grade_with_new_figures_updates_the_figures_only() -> None:
    result = step(State("orange", "acknowledged"), "orange")
    assert (result.outcome, result.changes, result.events, result.refigures) == ("updated", {}, (), True)


@pytest.mark.parametrize(("dismissed_at", "now_at"), [("red", "red"), ("red", "yellow"), ("orange", "orange")])
@pytest.mark.parametrize("same", [True, False])
def test_a_dismissed_alert_stays_quiet_while_no_worse(dismissed_at: str, now_at: str, same: bool) -> None:
    result = step(State(dismissed_at, "dismissed"), now_at, same=same)
    if same:
        assert result is UNCHANGED
    else:
        # The figures follow the data; the grade stays the one it was dismissed at.
        assert (result.outcome, result.changes, result.events, result.refigures) == ("updated", {}, (), True)


def test_a_dismissed_alert_that_gets_worse_reopens() -> None:
    result = step(State("yellow", "dismissed"), "orange", deviation=0.2)
    assert result.outcome == "reopened"
    assert result.changes == {
        "grade": "orange",
        "status": "open",
        "dismissed_reason": "",
        "dismissed_note": "",
        "acknowledged_at": None,
        "peak_grade": "orange",
    }
    assert result.events == (("reopened", "yellow", "orange", {"deviation": 0.2}),)


@pytest.mark.parametrize(("status", "kind"), [("open", "escalated"), ("dismissed", "reopened")])
def test_an_escalation_or_reopening_wakes_a_running_snooze(status: str, kind: str) -> None:
    result = step(State("yellow", status, snoozed_until=LATER), "red")
    assert result.outcome == kind
    assert result.changes["snoozed_until"] is None
    assert result.events[1] == ("woken", "", "", {"snoozed_until": str(LATER)})


def test_a_snooze_that_ran_out_ends_without_a_woken_entry() -> None:
    result = step(State("yellow", snoozed_until=EARLIER), "red")
    assert result.changes["snoozed_until"] is None
    assert [kind for kind, *_ in result.events] == ["escalated"]


def test_a_de_escalation_keeps_the_snooze() -> None:
    result = step(State("red", snoozed_until=LATER), "orange")
    assert "snoozed_until" not in result.changes
    assert len(result.events) == 1
