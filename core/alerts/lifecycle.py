"""What happens to an alert when its position is evaluated again: the lifecycle as one pure function.

The engine diffs a chunk's rule trips against its active alerts in bulk; for each (position, rule)
it asks ``alert_step`` what to do, given the active alert (or none) and the new trip's grade (or
none), and applies the answer to many alerts at once. Nothing here reads or writes the database.

- no alert, a trip: open it (an ``opened`` event);
- an alert, no trip: resolve it (``auto_resolved``), or, if it was dismissed, let it go quietly
  (``cleared``); either way it stops being active and its snooze ends;
- a worse grade: escalate (``escalated``); the alert needs acknowledging again;
- a better grade: de-escalate (``deescalated``); an acknowledgement stands;
- a dismissed alert keeps quiet while the grade is no worse than when dismissed (its figures
  follow the data, its grade stays); worse, it reopens (``reopened``) and needs a person again;
- an escalation or reopening ends a snooze, with a ``woken`` event if the snooze still ran;
- the same grade with new figures updates the figures only, without an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.alerts.models import GRADE_RANK, AlertEventKind, AlertStatus, Grade


class AlertState(Protocol):
    """What the lifecycle reads of an active alert."""

    grade: str
    peak_grade: str
    status: str
    snoozed_until: datetime | None


@dataclass(frozen=True)
class Step:
    """The outcome of one evaluation for one alert.

    ``outcome`` is what the engine counts (``opened``, ``escalated``, ``deescalated``, ``reopened``,
    ``resolved``, ``cleared``, ``updated``, ``unchanged``); ``changes`` the alert's state columns to
    set; ``events`` the timeline entries, as (kind, from_grade, to_grade, data); ``refigures`` whether
    the alert takes the trip's figures (deviation, explanation, inputs, thresholds, recommendation).
    """

    outcome: str
    changes: dict = field(default_factory=dict)
    events: tuple[tuple[str, str, str, dict], ...] = ()
    refigures: bool = False


# Shared answers of the common cases (read them, never change them): most alerts are unchanged on
# most runs, and a first run opens tens of thousands.
UNCHANGED = Step("unchanged")
UPDATED = Step("updated", refigures=True)
_OPENED = {
    grade: Step(
        "opened",
        {"grade": grade, "peak_grade": grade, "status": AlertStatus.OPEN},
        ((AlertEventKind.OPENED, "", grade, {}),),
        refigures=True,
    )
    for grade in Grade
}


def alert_step(
    alert: AlertState | None,
    grade: str | None,
    *,
    same_figures: bool = False,
    deviation: float | None = None,
    now: datetime,
) -> Step:
    """What an evaluation does to an alert.

    ``alert`` is the active alert of the position and rule (None if there is none), ``grade`` the
    grade of the rule's trip (None if it did not trip), ``same_figures`` whether the trip shows what
    the alert shows already (by fingerprint), ``deviation`` the trip's, for the timeline, and ``now``
    the evaluation's time.
    """
    if alert is None:
        return UNCHANGED if grade is None else _OPENED[grade]
    dismissed = alert.status == AlertStatus.DISMISSED
    if grade is None:
        if dismissed:
            kind, outcome, changes = AlertEventKind.CLEARED, "cleared", {}
        else:
            kind, outcome, changes = AlertEventKind.AUTO_RESOLVED, "resolved", {"status": AlertStatus.RESOLVED}
            changes["resolved_at"] = now
        changes.update(active=False, snoozed_until=None)
        return Step(outcome, changes, ((kind, alert.grade, "", {}),))
    old, new = GRADE_RANK[alert.grade], GRADE_RANK[grade]
    if new == old or (dismissed and new < old):
        # No change of state: a dismissed alert stays dismissed at the grade it was dismissed at.
        return UNCHANGED if same_figures else UPDATED
    changes: dict = {"grade": grade}
    if dismissed:
        # Worse than when it was dismissed: it needs a person again (the timeline keeps the reason).
        kind = AlertEventKind.REOPENED
        changes.update(status=AlertStatus.OPEN, dismissed_reason="", dismissed_note="", acknowledged_at=None)
    elif new > old:
        # Worse than what was acknowledged: someone has to acknowledge it again.
        kind = AlertEventKind.ESCALATED
        changes.update(status=AlertStatus.OPEN, acknowledged_at=None)
    else:
        kind = AlertEventKind.DEESCALATED
    if new > GRADE_RANK[alert.peak_grade]:
        changes["peak_grade"] = grade
    events = [(kind, alert.grade, grade, {"deviation": deviation})]
    if kind != AlertEventKind.DEESCALATED and alert.snoozed_until is not None:
        changes["snoozed_until"] = None
        if alert.snoozed_until > now:
            events.append((AlertEventKind.WOKEN, "", "", {"snoozed_until": str(alert.snoozed_until)}))
    return Step(str(kind), changes, tuple(events), refigures=True)
