"""The study's measurements (core/demo/quality_study.py says what the study tenant and its planner
are): the default policy replayed over the whole period, the planner's verdicts on the first half's
alerts handed to the tuner, and the second half replayed with the default policies and with the
tuned ones; and the default policy's figures on a demo tenant.

Every figure comes from the replay (``core.quality.replay.warnings_replay``): what it counts as an
alert's outcome, an episode, a warning's lead time is docs/quality.md's. The figures here are the
stock-out warnings' (the rules whose direction is ``stock_out``) and, for the planner's category,
how many alerts the planner would call false alarms.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from core.alerts.catalog import STOCK_OUT
from core.alerts.policies import PolicyBook
from core.alerts.rules import rules_of_direction
from core.demo.quality_study import FALSE_ALARM, SimulatedPlanner, StudyPeriod, Verdict, planner_verdicts
from core.inventory.models import DailyFact, Position
from core.quality.replay import ReplayResult, warnings_replay
from tenants.models import Tenant

# The goals for the default policy and for the tuning.
PRECISION_GOAL = RECALL_GOAL = 0.9
FALSE_ALARM_CUT_GOAL = 0.5
RECALL_TOLERANCE = 0.02

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def stock_out_figures(result: ReplayResult) -> dict:
    """The stock-out warnings' figures of a replay: its overall report's alerts, precision, recall and
    lead times restricted to the stock-out rules, each stock-out rule's own, and the median supplier
    lead time their readings had (the goal's yardstick for the median warning lead time)."""
    report = result.report()
    stock_out_rules = rules_of_direction(STOCK_OUT)
    by_rule = {rule: figures for rule, figures in report["by_rule"].items() if rule in stock_out_rules}
    lead_times = [alert.lead_time_days for alert in result.alerts if alert.direction == STOCK_OUT]
    overall = report["by_direction"][STOCK_OUT] if "by_direction" in report else report["overall"]
    return {
        **_headline(overall),
        "supplier_lead_time_median": statistics.median(lead_times) if lead_times else None,
        "by_rule": {rule: _headline(figures) for rule, figures in sorted(by_rule.items())},
    }


def _headline(figures: dict) -> dict:
    keys = (
        "alerts",
        "true_alerts",
        "false_alarms",
        "averted",
        "pending",
        "precision",
        "episodes",
        "warned",
        "recall",
        "lead_time_median",
        "lead_time_p10",
        "actionable_share",
    )
    return {key: figures.get(key) for key in keys}


def planner_category_figures(*, tenant: Tenant, planner: SimulatedPlanner, result: ReplayResult) -> dict:
    """The planner's category in a replay: its alerts, the ones the planner calls false alarms (by
    rule), and the replay's own count of false alarms there."""
    alerts = [alert for alert in result.alerts if alert.category_code == planner.category_code]
    verdicts = planner_verdicts(tenant=tenant, planner=planner, alerts=alerts)
    false_alarms = [verdict for verdict in verdicts if verdict.verdict == FALSE_ALARM]
    by_rule: dict[str, int] = {}
    for verdict in false_alarms:
        by_rule[verdict.alert.rule] = by_rule.get(verdict.alert.rule, 0) + 1
    return {
        "category": planner.category_code,
        "alerts": len(alerts),
        "planner_false_alarms": len(false_alarms),
        "planner_false_alarms_by_rule": dict(sorted(by_rule.items())),
        "replay_false_alarms": sum(alert.outcome == "false" for alert in alerts),
    }


def replay_period_of(*, tenant: Tenant, warm_up: int) -> StudyPeriod:
    """The period a tenant's ledger allows: from its first daily fact plus the warm-up to its last."""
    days = DailyFact.objects.filter(tenant=tenant).order_by("day").values_list("day", flat=True)
    first, last = days.first(), days.last()
    if first is None:
        raise ValueError(f"Tenant {tenant.slug!r} has no ledger to replay.")
    return StudyPeriod.of(first_day=first, today=date.fromordinal(last.toordinal() + 1), warm_up=warm_up)


@dataclass
class Replayed:
    """One replay and what it took."""

    result: ReplayResult
    seconds: float


def timed_replay(
    *,
    tenant: Tenant,
    day_from: date,
    day_to: date,
    book: PolicyBook | None,
    stage: str,
    progress: Progress | None,
) -> Replayed:
    """``warnings_replay`` over the days with one policy book every day (None: the policies in force
    each day), timed, its progress reported under the stage's name."""
    started = time.monotonic()
    result = warnings_replay(
        tenant=tenant,
        day_from=day_from,
        day_to=day_to,
        policies=None if book is None else (lambda day: book),
        progress=None if progress is None else (lambda done, total: progress(stage, done, total)),
    )
    return Replayed(result=result, seconds=round(time.monotonic() - started, 1))


@dataclass
class TuningOutcome:
    """What the tuner made of the planner's verdicts: the policy versions it wrote (as dicts), or why
    it did not run."""

    ran: bool
    changes: list[dict] = field(default_factory=list)
    note: str = ""
    seconds: float = 0.0


def study_goals(*, second_default: dict, second_tuned: dict | None, default: dict) -> list[dict]:
    """The issue's goals against the figures got: each with its target, the figure and whether it
    was met (None when the figure is missing)."""
    stock_out = default["stock_out"]
    goals = [
        _goal("precision of stock-out warnings (default policy)", f">= {PRECISION_GOAL}", stock_out["precision"],
              lambda v: v >= PRECISION_GOAL),
        _goal("recall of stock-out episodes (default policy)", f">= {RECALL_GOAL}", stock_out["recall"],
              lambda v: v >= RECALL_GOAL),
        _goal(
            "median warning lead time >= median supplier lead time (default policy)",
            f">= {stock_out['supplier_lead_time_median']} days",
            stock_out["lead_time_median"],
            lambda v: stock_out["supplier_lead_time_median"] is not None and v >= stock_out["supplier_lead_time_median"],
        ),
    ]
    if second_tuned is not None:
        before = second_default["planner_category"]["planner_false_alarms"]
        after = second_tuned["planner_category"]["planner_false_alarms"]
        cut = (before - after) / before if before else None
        goals.append(_goal("planner's category false alarms cut by tuning (second half)", f">= {FALSE_ALARM_CUT_GOAL:.0%}",
                           cut, lambda v: v >= FALSE_ALARM_CUT_GOAL))
        recall_before, recall_after = second_default["stock_out"]["recall"], second_tuned["stock_out"]["recall"]
        shift = None if recall_before is None or recall_after is None else recall_after - recall_before
        goals.append(_goal("stock-out recall change by tuning (second half)", f"within ±{RECALL_TOLERANCE}",
                           shift, lambda v: abs(v) <= RECALL_TOLERANCE + 1e-9))
    return goals


def _goal(name: str, target: str, got: float | None, met: Callable[[float], bool]) -> dict:
    return {"goal": name, "target": target, "got": None if got is None else round(got, 4),
            "met": None if got is None else bool(met(got))}


def positions_count(*, tenant: Tenant) -> int:
    return Position.objects.filter(tenant=tenant).count()


__all__ = ["Verdict"]
