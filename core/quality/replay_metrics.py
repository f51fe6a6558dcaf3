"""The replay's report: precision, recall, lead time, actionable share, alerts per planner-day and
flapping, overall and by rule, grade, velocity class and category (definitions in docs/quality.md,
repeated in the report's ``definitions``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from core.alerts.catalog import STOCK_OUT
from core.alerts.models import GRADE_RANK, Grade
from core.alerts.rules import RULES
from core.quality.outcomes import (
    AVERTED,
    AVERTED_OUTBOUND_SHARE,
    FALSE,
    OVERSTOCK_WINDOW_DAYS,
    PENDING,
    SELLING_DAYS,
    TRUE,
    UNLABELLED,
)

if TYPE_CHECKING:
    from core.quality.replay import Episode, ReplayedAlert, ReplayResult

DEFINITIONS = {
    "alerts": "alerts opened in the period (a run of days on which a position trips a rule; one alert per "
    "position and rule at a time, opened the first day it trips, resolved the first day it no longer does)",
    "true_alerts": "alerts followed by their outcome within the rule's window: a stock-out rule's position out of "
    "stock (a stock-out day) from the opening day through lead time + review period after it (through the "
    "promotion's end for promotion_shortfall); an overstock-like rule's stock held at opening still unsold "
    f"{OVERSTOCK_WINDOW_DAYS} days later, i.e. the window's sales x the turnover standard < stock held x "
    f"{OVERSTOCK_WINDOW_DAYS}; expiry_risk's units at risk expired unsold: sales up to the earliest expiry < "
    "ads_28 x those days + expiry_at_risk",
    "false_alarms": "alerts whose window ended within the data without their outcome and without a response",
    "averted": "alerts without their outcome (or, for overstock-like rules, whatever it) whose response came "
    "within the window: a registered response of the position (RFQ award, approved transfer, accepted markdown: "
    "core.quality.responses); for a stock-out rule, else a receipt or transfer in recorded in the facts; for an "
    f"overstock-like rule, else at least {AVERTED_OUTBOUND_SHARE:.0%} of the stock held sent out other than by "
    "sales. Counted apart: neither true nor false",
    "pending": "alerts whose window runs past the last day of data without their outcome yet; out of precision",
    "unlabelled": "alerts of rules whose warning the ledger cannot settle (three_dimension_risk); out of precision",
    "precision": "true_alerts / (true_alerts + false_alarms); null without either",
    "episodes": f"stock-out episodes starting in the period: runs of days whose end-of-day stock is 0 while the "
    f"position sold in the {SELLING_DAYS} days ending that day. By rule: every episode counts for each stock-out "
    "rule (none for the others); by grade: every episode counts for each grade",
    "warned": "episodes with a stock-out alert opened before the first day and still open on it (or opened "
    "within its lead time + 7 days before it); by rule: by an alert of that rule; by grade: by an alert whose "
    "peak grade reached at least that grade",
    "recall": "warned / episodes; null without episodes",
    "lead_time_median": "median over warned episodes of (first day out of stock - opening day of the earliest "
    "warning), days",
    "lead_time_p10": "10th percentile (linear interpolation) of the same lead times: 90 % of warned episodes "
    "had at least this notice",
    "actionable_share": "episodes warned at least one supplier lead time ahead (lead time >= the lead time the "
    "warning's reading had) / episodes",
    "alerts_per_planner_day": "alerts / (days in the period x the tenant's planners, at least 1)",
    "flapping": "alerts opened within 7 days of the same rule resolving on the same position",
    "flapping_share": "flapping / alerts",
}

ASSUMPTIONS = [
    "Each day is evaluated at its end, as the live engine evaluates as of a day: its rows hold the facts of days "
    "up to it, the signals of days up to it and the promotions created by its end.",
    "On hand at the end of a day: on hand now minus the net changes of the later days (daily facts).",
    "Lots: consumed first in, first out (the ledger's first-expired-first-out order where the expiry is the "
    "receipt day plus the SKU's shelf life), so the stock held at a day's end is made of the latest inbound "
    "units (receipts, transfers in, returns); each lot's expiry is its day plus the SKU's shelf life. Stock "
    "older than the history read is dated by what is left now of the lots received before it (else the day "
    "before the history). Positive adjustments and expiry days given on ledger lines are not in the facts.",
    "Reserved, in transit and approved inbound stock keep no history: 0 on every replayed day.",
    "Supplier terms (lead times, minimum order, backups), SKU master data (velocity class, category, launch, "
    "end of life, season end) and categories are taken as they are now.",
    "Forecasts: only the latest is stored; it is used on the days it was fresh (its origin up to 3 days "
    "before), and the moving average on every other day.",
    "No planner acts in the replay: no acknowledgement, dismissal or snooze; responses are only those the "
    "ledger and the response registry recorded.",
    "An alert already tripping on the first day counts as opened that day.",
]


def _percentile(values: list[int], share: float) -> float | None:
    return float(np.percentile(values, share * 100)) if values else None


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def group_figures(
    alerts: list[ReplayedAlert],
    episodes: list[Episode],
    warned_by: Callable[[Episode], dict | None],
    *,
    days: int,
    planners: int,
) -> dict:
    """One group's figures. ``warned_by(episode)`` is the warning that counts for the group (its
    ``lead_days`` and ``lead_time_days``), or None."""
    outcomes = [alert.outcome for alert in alerts]
    true, false = outcomes.count(TRUE), outcomes.count(FALSE)
    warnings = [w for w in map(warned_by, episodes) if w is not None]
    leads = [w["lead_days"] for w in warnings]
    actionable = sum(1 for w in warnings if w["lead_time_days"] is not None and w["lead_days"] >= w["lead_time_days"])
    flapping = sum(alert.reopened_within_week for alert in alerts)
    median = _percentile(leads, 0.5)
    p10 = _percentile(leads, 0.1)
    return {
        "alerts": len(alerts),
        "true_alerts": true,
        "false_alarms": false,
        "averted": outcomes.count(AVERTED),
        "pending": outcomes.count(PENDING),
        "unlabelled": outcomes.count(UNLABELLED),
        "precision": _ratio(true, true + false),
        "episodes": len(episodes),
        "warned": len(warnings),
        "recall": _ratio(len(warnings), len(episodes)),
        "lead_time_median": None if median is None else round(median, 2),
        "lead_time_p10": None if p10 is None else round(p10, 2),
        "actionable_share": _ratio(actionable, len(episodes)),
        "alerts_per_planner_day": round(len(alerts) / (days * max(planners, 1)), 4),
        "flapping": flapping,
        "flapping_share": _ratio(flapping, len(alerts)),
    }


def _earliest(warnings: Iterable[dict]) -> dict | None:
    return min(warnings, key=lambda w: w["first_opened_on"], default=None)


def replay_report(result: ReplayResult) -> dict:
    days = (result.day_to - result.day_from).days + 1

    def figures(alerts: list, episodes: list, warned_by: Callable) -> dict:
        return group_figures(alerts, episodes, warned_by, days=days, planners=result.planners)

    def any_warning(episode: Episode) -> dict | None:
        return _earliest(episode.warnings.values())

    def grouped(key: Callable) -> dict:
        names = sorted({key(item) for item in [*result.alerts, *result.episodes]}, key=str)
        return {
            str(name): figures(
                [a for a in result.alerts if key(a) == name],
                [e for e in result.episodes if key(e) == name],
                any_warning,
            )
            for name in names
        }

    by_rule = {}
    for rule, spec in RULES.items():
        alerts = [a for a in result.alerts if a.rule == rule]
        stock_out = spec.direction == STOCK_OUT
        if not alerts and not stock_out:
            continue
        by_rule[rule] = figures(alerts, result.episodes if stock_out else [], lambda e, r=rule: e.warnings.get(r))
    by_grade = {}
    for grade in Grade.values:
        by_grade[grade] = figures(
            [a for a in result.alerts if a.peak_grade == grade],
            result.episodes,
            lambda e, g=grade: _earliest(
                w for w in e.warnings.values() if GRADE_RANK[w["peak_grade"]] >= GRADE_RANK[g]
            ),
        )
    averted_by: dict[str, int] = {}
    for alert in result.alerts:
        if alert.outcome == AVERTED:
            reason = alert.averted_by.split(":")[0]
            averted_by[reason] = averted_by.get(reason, 0) + 1
    return {
        "period": {
            "day_from": result.day_from.isoformat(),
            "day_to": result.day_to.isoformat(),
            "days": days,
            "last_data_day": result.last_data_day.isoformat(),
        },
        "positions": result.positions,
        "planners": result.planners,
        "policies": result.policies,
        "overall": figures(result.alerts, result.episodes, any_warning),
        "by_rule": by_rule,
        "by_grade": by_grade,
        "by_velocity_class": grouped(lambda item: item.velocity_class),
        "by_category": grouped(lambda item: item.category_code),
        "averted_by": averted_by,
        "definitions": DEFINITIONS,
        "assumptions": ASSUMPTIONS,
    }
