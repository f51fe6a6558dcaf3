"""The study's measurements (core/demo/quality_study.py says what the study tenant and its planner
are): the default policy replayed over the whole period, the planner's verdicts on the first half's
alerts handed to the tuner, and the second half replayed with the default policies and with the
tuned ones; and the default policy's figures on a demo tenant.

Every figure comes from the replay (``core.quality.replay.warnings_replay``); what it counts as an
alert's outcome, an episode or a warning's lead time is docs/quality.md's. The headline figures are
the stock-out warnings' (the alerts of the rules whose direction is ``stock_out``, measured against
every stock-out episode), and, in the planner's category, how many alerts the planner calls false.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.alerts.catalog import STOCK_OUT
from core.alerts.models import AlertPolicy
from core.alerts.policies import PolicyBook
from core.demo.quality_study import (
    FALSE_ALARM,
    Judgement,
    QualityStudyPlan,
    SimulatedPlanner,
    StudyPeriod,
    planner_judgements,
)
from core.inventory.models import DailyFact
from core.quality.replay import ReplayResult, warnings_replay
from core.quality.replay_metrics import group_figures
from core.quality.tuner import TUNER_ACTOR, WINDOW_DAYS, tuner_run
from core.quality.tuner_evidence import FALSE, MISSED, RECALL_RULE, TRUE, WARNED, verdict_of
from tenants.models import Tenant

# The goals: for the default policy, and for the tuning.
PRECISION_GOAL = RECALL_GOAL = 0.9
FALSE_ALARM_CUT_GOAL = 0.5
RECALL_TOLERANCE = 0.02
HEADLINE = (
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

Progress = Callable[[str, int, int], None]  # (stage, days done, days total)


@dataclass
class Replayed:
    """One replay, the policies it ran with and the seconds it took."""

    stage: str
    result: ReplayResult
    seconds: float


def study_replay(
    *, tenant: Tenant, day_from: date, day_to: date, book: PolicyBook, stage: str, progress: Progress | None = None
) -> Replayed:
    """``warnings_replay`` over the days with one policy book on every day, timed, its progress told
    under the stage's name."""
    started = time.monotonic()
    told = None if progress is None else (lambda done, total: progress(stage, done, total))
    result = warnings_replay(tenant=tenant, day_from=day_from, day_to=day_to, policies=lambda day: book, progress=told)
    return Replayed(stage=stage, result=result, seconds=round(time.monotonic() - started, 1))


def _earliest_warning(episode: object) -> dict | None:
    return min(episode.warnings.values(), key=lambda warning: warning["first_opened_on"], default=None)


def stock_out_figures(result: ReplayResult, report: dict) -> dict:
    """The stock-out warnings of a replay: the report's figures over the stock-out rules' alerts and
    every episode, each stock-out rule's own (from the replay's ``report``), and the median supplier
    lead time of the warned episodes' earliest warnings (what the goal holds the median warning lead
    time against)."""
    alerts = [alert for alert in result.alerts if alert.direction == STOCK_OUT]
    days = (result.day_to - result.day_from).days + 1
    figures = group_figures(alerts, result.episodes, _earliest_warning, days=days, planners=result.planners)
    lead_times = [e.lead_time_days for e in result.episodes if e.warned and e.lead_time_days is not None]
    report_by_rule = report["by_rule"]
    settled = figures["true_alerts"] + figures["false_alarms"] + figures["averted"]
    return {
        **{key: figures[key] for key in HEADLINE},
        # Precision leaves averted alerts out; this share counts them as not followed by a stock-out.
        "true_share_of_settled": round(figures["true_alerts"] / settled, 4) if settled else None,
        "supplier_lead_time_median": statistics.median(lead_times) if lead_times else None,
        "by_rule": {
            rule: {key: report_by_rule[rule][key] for key in HEADLINE}
            for rule in sorted(report_by_rule)
            if rule in {alert.rule for alert in alerts} or report_by_rule[rule]["episodes"]
        },
    }


def planner_category_figures(*, tenant: Tenant, planner: SimulatedPlanner, result: ReplayResult) -> dict:
    """The planner's category in a replay: its alerts, the ones the planner calls false alarms (by
    rule; every alert judged, whatever the day, since these figures are read after the fact), and the
    replay's own false alarms there."""
    alerts = [alert for alert in result.alerts if alert.category_code == planner.category_code]
    verdicts = planner_judgements(tenant=tenant, planner=planner, alerts=alerts)
    false_alarms = [verdict for verdict in verdicts if verdict.verdict == FALSE_ALARM]
    by_rule: dict[str, int] = {}
    for verdict in false_alarms:
        rule = str(verdict.alert.rule)
        by_rule[rule] = by_rule.get(rule, 0) + 1
    return {
        "category": planner.category_code,
        "alerts": len(alerts),
        "planner_false_alarms": len(false_alarms),
        "planner_false_alarms_by_rule": dict(sorted(by_rule.items())),
        "replay_false_alarms": sum(alert.outcome == "false" for alert in alerts),
    }


def replay_figures(replayed: Replayed, *, tenant: Tenant, planner: SimulatedPlanner | None = None) -> dict:
    """What the study reports of one replay."""
    report = replayed.result.report()
    figures = {
        "period": report["period"],
        "positions": report["positions"],
        "seconds": replayed.seconds,
        "alerts": report["overall"]["alerts"],
        "stock_out": stock_out_figures(replayed.result, report),
        "overall": {key: report["overall"][key] for key in HEADLINE},
    }
    if planner is not None:
        figures["planner_category"] = planner_category_figures(tenant=tenant, planner=planner, result=replayed.result)
    return figures


def first_half_judgements(
    *, tenant: Tenant, planner: SimulatedPlanner, result: ReplayResult, period: StudyPeriod
) -> list[Judgement]:
    """The planner's verdicts as they stand at the end of the first half: on the alerts opened in it,
    by their rule of thumb (known at opening) or by an outcome known by then (the replay reads the
    ledger past the half; an outcome after it is not known yet, so that alert gets no verdict)."""
    opened = [alert for alert in result.alerts if alert.opened_on <= period.middle]
    verdicts = planner_judgements(tenant=tenant, planner=planner, alerts=opened)
    return [verdict for verdict in verdicts if verdict.known_on is not None and verdict.known_on <= period.middle]


def judgement_counts(verdicts: list[Judgement], *, planner: SimulatedPlanner) -> dict:
    """How many verdicts of each kind, overall and in the planner's category by rule."""
    counts: dict = {"verdicts": len(verdicts), "false_alarm": 0, "confirmed": 0, "planner_category": {}}
    for verdict in verdicts:
        counts[verdict.verdict] += 1
        if verdict.alert.category_code == planner.category_code:
            rule = counts["planner_category"].setdefault(str(verdict.alert.rule), {"false_alarm": 0, "confirmed": 0})
            rule[verdict.verdict] += 1
    return counts


def study_goals(*, default: dict, second_default: dict | None = None, second_tuned: dict | None = None) -> list[dict]:
    """The issue's goals against the figures got: each with its target, the figure and whether it was
    met (None when the figure is missing)."""
    stock_out = default["stock_out"]
    supplier = stock_out["supplier_lead_time_median"]
    goals = [
        _goal("stock-out precision, default policy", f">= {PRECISION_GOAL}", stock_out["precision"], PRECISION_GOAL),
        _goal("stock-out recall, default policy", f">= {RECALL_GOAL}", stock_out["recall"], RECALL_GOAL),
        _goal(
            "median warning lead time (days), default policy",
            f">= median supplier lead time ({supplier})",
            stock_out["lead_time_median"],
            supplier,
        ),
    ]
    if second_default is not None and second_tuned is not None:
        before = second_default["planner_category"]["planner_false_alarms"]
        after = second_tuned["planner_category"]["planner_false_alarms"]
        goals.append(
            _goal(
                "planner's category false alarms cut by the tuning, second half",
                f">= {FALSE_ALARM_CUT_GOAL:.0%} ({before} before)",
                (before - after) / before if before else None,
                FALSE_ALARM_CUT_GOAL,
            )
        )
        recall_before, recall_after = second_default["stock_out"]["recall"], second_tuned["stock_out"]["recall"]
        shift = None if recall_before is None or recall_after is None else round(recall_after - recall_before, 4)
        goals.append(
            {
                "goal": "stock-out recall change by the tuning, second half",
                "target": f"within ±{RECALL_TOLERANCE}",
                "got": shift,
                "met": None if shift is None else abs(shift) <= RECALL_TOLERANCE + 1e-9,
            }
        )
    return goals


def _goal(name: str, target: str, got: float | None, at_least: float | None) -> dict:
    if got is None or at_least is None:
        return {"goal": name, "target": target, "got": got, "met": None}
    return {"goal": name, "target": target, "got": round(got, 4), "met": got >= at_least}


def tenant_period(*, tenant: Tenant, warm_up: int) -> StudyPeriod:
    """The period a tenant's ledger allows: from its first daily fact plus the warm-up to its last."""
    days = DailyFact.objects.filter(tenant=tenant).order_by("day").values_list("day", flat=True)
    first, last = days.first(), days.last()
    if first is None:
        raise ValueError(f"Tenant {tenant.slug!r} has no ledger to replay.")
    return StudyPeriod.of(first_day=first, today=last + timedelta(days=1), warm_up=warm_up)


def demo_default_figures(*, tenant: Tenant, warm_up: int, progress: Progress | None = None) -> dict:
    """The default policy's figures on a demo tenant over what its ledger allows after the warm-up."""
    period = tenant_period(tenant=tenant, warm_up=warm_up)
    policies = AlertPolicy.objects.filter(tenant=tenant).count()
    replayed = study_replay(
        tenant=tenant,
        day_from=period.day_from,
        day_to=period.day_to,
        book=PolicyBook(tenant),
        stage=f"{tenant.slug}: default policy",
        progress=progress,
    )
    figures = replay_figures(replayed, tenant=tenant)
    return {
        "tenant": tenant.slug,
        "policies": "built-in defaults" if not policies else f"the tenant's {policies} policies",
        **figures,
        "goals": study_goals(default=figures),
    }


@dataclass
class Tuning:
    """What the tuner made of the planner's verdicts: its runs, the steps it applied (each a policy
    version by ``system:tuner``) and the ones its shadow replay refused."""

    note: str
    runs: int
    applied: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def study_tune(
    *,
    tenant: Tenant,
    judgements: list[Judgement],
    episodes: list,
    period: StudyPeriod,
    progress: Progress | None = None,
) -> Tuning:
    """The tuner in mode auto, run as the daily beat runs it, on each day of the first half after
    the first (and on the first day of the second), fed what the planner knew by the end of the day
    before: their verdicts given by then on the alerts opened in the tuner's window, and the stock-out
    episodes begun by then, warned of or missed. The tuner replays no outcomes of its own: the
    replay labels them from the whole ledger, after the day the tuner runs for too."""
    started = time.monotonic()
    days = [period.day_from + timedelta(days=k) for k in range(1, (period.second_from - period.day_from).days + 1)]
    applied, refused = [], []
    for done, today in enumerate(days, start=1):
        window_from, known_by = today - timedelta(days=WINDOW_DAYS), today - timedelta(days=1)
        feedback = [
            verdict_of(judgement.alert, FALSE if judgement.verdict == FALSE_ALARM else TRUE)
            for judgement in judgements
            if judgement.known_on is not None
            and judgement.known_on <= known_by
            and judgement.alert.opened_on >= window_from
        ]
        feedback += [
            verdict_of(episode, WARNED if episode.warned else MISSED, rule=RECALL_RULE)
            for episode in episodes
            if window_from <= episode.started_on <= known_by
        ]
        for proposal in tuner_run(tenant=tenant, today=today, feedback=feedback, mode="auto", replay_evidence=False):
            step = {
                "run_on": today.isoformat(),
                "rule": str(proposal.rule),
                "scope": _scope_text(proposal),
                "setting": proposal.setting,
                "direction": proposal.direction,
                "before": proposal.value_before,
                "after": proposal.value_after,
                "precision_mean": proposal.evidence.get("precision_mean"),
                "p_precision_below_target": proposal.evidence.get("p_precision_below_target"),
                "shadow": {
                    when: {key: proposal.replay.get(when, {}).get(key) for key in ("precision", "recall", "alerts")}
                    for when in ("before", "after")
                },
            }
            if proposal.refusal:
                refused.append({**step, "refusal": proposal.refusal})
            else:
                applied.append(step)
        if progress is not None:
            progress("tuner, first half's days", done, len(days))
    note = (
        f"{len(days)} daily runs ({days[0]} to {days[-1]}), mode auto, author {TUNER_ACTOR}: "
        f"{len(applied)} steps applied, {len(refused)} refused by their shadow replay"
    )
    return Tuning(
        note=note,
        runs=len(days),
        applied=applied,
        refused=refused,
        seconds=round(time.monotonic() - started, 1),
    )


def _scope_text(proposal: object) -> str:
    if proposal.sku_id:
        return f"SKU {proposal.sku.code}"
    if proposal.category_id:
        return f"category {proposal.category.code}"
    if proposal.velocity_class:
        return f"velocity class {proposal.velocity_class}"
    return "tenant"


def quality_study_measure(*, tenant: Tenant, plan: QualityStudyPlan, progress: Progress | None = None) -> dict:
    """The study's figures (see the module): default policy over the whole period, the planner's
    verdicts on the first half, the tuning, the second half with default and tuned policies, goals."""
    period = StudyPeriod.of(first_day=plan.first_day, today=plan.today)
    planner = SimulatedPlanner(category_code=plan.planner_category)
    default_book = PolicyBook(tenant)  # taken before the tuner writes any policy: the built-in defaults

    def replayed(day_from: date, book: PolicyBook, stage: str) -> tuple[Replayed, dict]:
        run = study_replay(
            tenant=tenant, day_from=day_from, day_to=period.day_to, book=book, stage=stage, progress=progress
        )
        return run, replay_figures(run, tenant=tenant, planner=planner)

    whole, whole_figures = replayed(period.day_from, default_book, "default policy, whole period")
    judgements = first_half_judgements(tenant=tenant, planner=planner, result=whole.result, period=period)
    _, second_default = replayed(period.second_from, default_book, "default policy, second half")
    tuning = study_tune(
        tenant=tenant, judgements=judgements, episodes=whole.result.episodes, period=period, progress=progress
    )
    _, second_tuned = replayed(period.second_from, PolicyBook(tenant), "tuned policies, second half")
    replays = {
        "default, whole period": whole_figures,
        "default, second half": second_default,
        "tuned, second half": second_tuned,
    }
    return {
        "period": period.as_dict(),
        "positions": whole_figures["positions"],
        "planner": {"category": planner.category_code, "cover_days": planner.cover_days, "rules": list(planner.rules)},
        "replays": replays,
        "tuning": {
            "note": tuning.note,
            "seconds": tuning.seconds,
            "runs": tuning.runs,
            "verdicts": judgement_counts(judgements, planner=planner),
            "applied": tuning.applied,
            "refused": tuning.refused,
        },
        "goals": study_goals(default=whole_figures, second_default=second_default, second_tuned=second_tuned),
    }
