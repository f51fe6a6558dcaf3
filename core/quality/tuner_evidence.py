"""The tuner's evidence: verdicts on alerts (planners' feedback, replayed outcomes), counted per rule
and scope, and the Beta-Binomial posterior of each rule's precision and recall (docs/tuning.md).

A verdict is one judgement of one alert (or one stock-out episode) of a position: ``true`` (it was
right: confirmed, acted on, or followed by its outcome), ``false`` (a false alarm), ``too_early`` or
``too_late`` (right, with too much or too little notice), ``warned`` or ``missed`` (a stock-out
episode warned of beforehand, or not). Callers that simulate planners (the quality study) pass
their own verdicts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q
from scipy.stats import beta

from core.alerts.models import AlertEvent, AlertEventKind, DismissReason, RuleCode
from core.quality.replay import ReplayResult
from core.quality.responses import responses_sql
from tenants.models import Tenant

TRUE, FALSE, TOO_EARLY, TOO_LATE, WARNED, MISSED = "true", "false", "too_early", "too_late", "warned", "missed"
VERDICTS = (TRUE, FALSE, TOO_EARLY, TOO_LATE, WARNED, MISSED)
PRECISION_TARGET = 0.70  # the precision a rule should reach (every tuned rule)
RECALL_TARGET = 0.90  # the share of stock-out episodes the stock-out rule should warn of
# The priors: a rule is presumed to meet its targets, as if PRIOR_STRENGTH alerts (episodes) had
# been judged at exactly the target rate. A uniform prior let two false alarms at one SKU call the
# rule miscalibrated (P = 0.97); against this one it takes about five with none right (P(precision <
# 0.70) = 0.97 for five false, 0.94 for four), or a clear share of false alarms well above 30 % among many (14 of 30).
PRIOR_STRENGTH = 10
# Stock-out episodes (warned or missed) are evidence on the rule that watches cover every day.
RECALL_RULE = RuleCode.STOCK_OUT_RISK
# What a dismissal's reason says; duplicate and other say nothing about the threshold.
_DISMISSAL_VERDICTS = {
    DismissReason.FALSE_ALARM: FALSE,
    DismissReason.TOO_EARLY: TOO_EARLY,
    DismissReason.TOO_LATE: TOO_LATE,
}

# A scope: ("tenant", None), ("velocity_class", "cash_cow"), ("category", id), ("sku", id).
Scope = tuple[str, object]
SCOPE_ORDER = ("sku", "category", "velocity_class", "tenant")  # most specific first


@dataclass(frozen=True)
class Verdict:
    rule: str
    verdict: str
    position_id: int
    sku_id: object
    category_id: object
    velocity_class: str
    source: str = "feedback"  # feedback | replay

    def scopes(self) -> list[Scope]:
        """The scopes the verdict counts in; one without its key (a verdict built without a
        category, say) only in the others."""
        named = [("sku", self.sku_id), ("category", self.category_id), ("velocity_class", self.velocity_class)]
        return [scope for scope in named if scope[1]] + [("tenant", None)]


def verdict_of(item: object, verdict: str, *, rule: str | None = None, source: str = "feedback") -> Verdict:
    """A verdict on a replayed alert or episode (anything with position_id, sku_id, category_id,
    velocity_class, and a rule unless given): what a simulated planner's judgement is built from."""
    return Verdict(
        rule=rule or item.rule,
        verdict=verdict,
        position_id=item.position_id,
        sku_id=item.sku_id,
        category_id=item.category_id,
        velocity_class=item.velocity_class,
        source=source,
    )


def verdicts_from_feedback(*, tenant: Tenant, since: datetime, until: datetime) -> list[Verdict]:
    """What planners said of the alerts opened from ``since`` to ``until``: each dismissal with a
    reason that speaks to the threshold (false alarm, too early, too late), and each alert confirmed
    (acknowledged, resolved by a person, or answered by a response: an RFQ award, a transfer, a
    markdown) and never dismissed (a dismissal's reason is the planner's last word on it)."""
    fields = ("alert_id", "alert__rule", "alert__position_id", "alert__sku_id")
    fields += ("alert__sku__category_id", "alert__sku__velocity_class")
    events = AlertEvent.objects.filter(tenant=tenant, alert__opened_at__gte=since, alert__opened_at__lte=until).filter(
        Q(kind=AlertEventKind.DISMISSED) | Q(kind__in=(AlertEventKind.ACKNOWLEDGED, AlertEventKind.RESOLVED))
    )
    verdicts: list[Verdict] = []
    confirmed: dict[object, tuple] = {}
    dismissed: set[object] = set()
    for row in events.values_list("kind", "data", *fields):
        kind, data, alert_id, *where = row
        if kind == AlertEventKind.DISMISSED:
            verdict = _DISMISSAL_VERDICTS.get((data or {}).get("reason"))
            if verdict is not None:
                verdicts.append(Verdict(where[0], verdict, *where[1:]))
            dismissed.add(alert_id)
        else:
            confirmed[alert_id] = tuple(where)
    for alert_id, where in _responded(tenant, since, until).items():
        confirmed.setdefault(alert_id, where)
    verdicts += [
        Verdict(where[0], TRUE, *where[1:]) for alert_id, where in confirmed.items() if alert_id not in dismissed
    ]
    return verdicts


def _responded(tenant: Tenant, since: datetime, until: datetime) -> dict[object, tuple]:
    """Alerts opened in the window that a registered response (core.quality.responses) answered."""
    sql = f"""
        SELECT a.id, a.rule, a.position_id, a.sku_id, s.category_id, s.velocity_class
          FROM alerts_alert a JOIN inventory_sku s ON s.id = a.sku_id
         WHERE a.tenant_id = %(tenant)s AND a.opened_at BETWEEN %(since)s AND %(until)s
           AND a.id IN (SELECT alert_id FROM ({responses_sql(tenant="%(tenant)s")}) AS r WHERE alert_id IS NOT NULL)
    """  # noqa: S608 - registered SQL and constants, the values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"tenant": tenant.pk, "since": since, "until": until})
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def verdicts_from_replay(result: ReplayResult, *, judged: set[tuple[int, str]] | None = None) -> list[Verdict]:
    """The replay's labels as verdicts: a true or false alert, a warned or missed stock-out episode
    Averted, pending and unlabelled alerts say
    nothing of the threshold. ``judged``: (position, rule) pairs a planner has judged already; their
    replayed alerts are left out, so the planner's word is not outvoted by the ledger's on the same alerts."""
    judged = judged or set()
    verdicts = [
        verdict_of(alert, alert.outcome, source="replay")
        for alert in result.alerts
        if alert.outcome in (TRUE, FALSE) and (alert.position_id, alert.rule) not in judged
    ]
    verdicts += [
        verdict_of(episode, WARNED if episode.warned else MISSED, rule=RECALL_RULE, source="replay")
        for episode in result.episodes
    ]
    return verdicts


_PRECISION_PRIOR = (round(PRIOR_STRENGTH * PRECISION_TARGET, 6), round(PRIOR_STRENGTH * (1 - PRECISION_TARGET), 6))
_RECALL_PRIOR = (round(PRIOR_STRENGTH * RECALL_TARGET, 6), round(PRIOR_STRENGTH * (1 - RECALL_TARGET), 6))


@dataclass
class Evidence:
    """Counts of one rule in one scope, and the posteriors they give (priors centred on the targets)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    sources: dict[str, int] = field(default_factory=lambda: {"feedback": 0, "replay": 0})

    def add(self, verdict: Verdict) -> None:
        self.counts[verdict.verdict] += 1
        self.sources[verdict.source] += 1

    @property
    def right(self) -> int:
        """Alerts that were right about the position, on time or not."""
        return self.counts[TRUE] + self.counts[TOO_EARLY] + self.counts[TOO_LATE]

    @property
    def precision_posterior(self) -> tuple[float, float]:
        return _PRECISION_PRIOR[0] + self.right, _PRECISION_PRIOR[1] + self.counts[FALSE]

    @property
    def recall_posterior(self) -> tuple[float, float]:
        return _RECALL_PRIOR[0] + self.counts[WARNED], _RECALL_PRIOR[1] + self.counts[MISSED] + self.counts[TOO_LATE]

    def p_precision_below(self, target: float) -> float:
        return float(beta.cdf(target, *self.precision_posterior))

    def p_recall_below(self, target: float) -> float:
        return float(beta.cdf(target, *self.recall_posterior))

    @property
    def precision_mean(self) -> float:
        a, b = self.precision_posterior
        return a / (a + b)

    @property
    def recall_mean(self) -> float:
        a, b = self.recall_posterior
        return a / (a + b)

    def as_dict(self) -> dict:
        return {
            "counts": dict(self.counts),
            "sources": dict(self.sources),
            "precision_posterior": {"alpha": self.precision_posterior[0], "beta": self.precision_posterior[1]},
            "precision_mean": round(self.precision_mean, 4),
            "recall_posterior": {"alpha": self.recall_posterior[0], "beta": self.recall_posterior[1]},
            "recall_mean": round(self.recall_mean, 4),
        }


def evidence_by_scope(verdicts: Iterable[Verdict]) -> dict[tuple[str, Scope], Evidence]:
    """Every verdict counted in each of its scopes: its SKU, category, velocity class and the tenant."""
    evidence: dict[tuple[str, Scope], Evidence] = defaultdict(Evidence)
    for verdict in verdicts:
        for scope in verdict.scopes():
            evidence[(verdict.rule, scope)].add(verdict)
    return dict(evidence)
