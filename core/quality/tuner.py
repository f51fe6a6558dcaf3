"""The threshold tuner: from evidence to a bounded, shadow-tested step of a rule's setting in a scope.

Per rule and scope (a SKU, a category, a velocity class, the tenant) the evidence (planners'
feedback, replayed outcomes: ``core.quality.tuner_evidence``) gives a Beta-Binomial posterior of the
rule's precision (and, for stock-outs, its recall). A step is proposed only when the posterior says
the rule is miscalibrated with high confidence (``CONFIDENCE``), not after a fixed count:

- tighten (fewer alerts) when P(precision < target) >= 0.95;
- loosen (more, earlier alerts) when P(recall < RECALL_TARGET) >= 0.95 while the precision is not in
  question (P(precision < target) < 0.5).

The step moves the rule's trip point (``core.quality.tunables``) by the posterior's shortfall, at
least 5 % and at most 20 % of its value, clipped to the catalog's range, once per cool-down. It is
then replayed over the last 90 days in shadow, the scope's positions with the candidate against the
policies in force, and kept only if it does what it is for without costing past the tolerances
(docs/tuning.md). Mode ``auto`` applies a kept step as a policy version by ``system:tuner`` (with the
evidence and the replay's figures); ``propose`` stores it for a planner to accept or reject.
"""

from __future__ import annotations

from datetime import date, timedelta
from statistics import median

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.alerts.models import AlertPolicy, PolicyChange
from core.alerts.policies import PolicyBook, policy_create, policy_update
from core.alerts.policy_versions import policy_book_with, policy_list_for_book, scope_policy_locked
from core.exceptions import Conflict, NotFound
from core.inventory.models import Category, Position, Sku
from core.quality.models import ProposalStatus, TuningMode, TuningProposal, TuningSettings
from core.quality.replay import ReplayResult, day_end, warnings_replay
from core.quality.tunables import TUNABLES, Tunable
from core.quality.tuner_evidence import (
    FALSE,
    PRECISION_TARGET,
    RECALL_TARGET,
    SCOPE_ORDER,
    TRUE,
    Evidence,
    Scope,
    Verdict,
    evidence_by_scope,
    verdicts_from_feedback,
    verdicts_from_replay,
)
from core.task_requests import task_request
from tenants.models import Tenant
from tenants.principals import Principal, actor_name
from tenants.services import audit_record

TUNER_ACTOR = "system:tuner"
RUN_TASK = "tripline.quality.tuning_run"
CONFIDENCE = 0.95  # how sure the posterior must be that the rule is miscalibrated
MIN_STEP, MAX_STEP = 0.05, 0.20  # a step's share of the value
WINDOW_DAYS = 90  # evidence and shadow replay: the last 90 days
# The shadow replay keeps a step only if these do not fall by more than:
RECALL_TOLERANCE = 0.02  # 2 points of recall
LEAD_TIME_TOLERANCE_DAYS = 1.0  # 1 day of median lead time
PRECISION_TOLERANCE = 0.02  # 2 points of precision (a loosening step)

TIGHTEN, LOOSEN = "tighten", "loosen"


def tuning_settings_for(tenant: Tenant | object) -> TuningSettings:
    settings, _ = TuningSettings.objects.get_or_create(tenant_id=getattr(tenant, "pk", tenant))
    return settings


@transaction.atomic
def tuning_settings_update(*, tenant: Tenant, actor: Principal | str, **values: object) -> TuningSettings:
    settings = TuningSettings.objects.select_for_update().get(pk=tuning_settings_for(tenant).pk)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.full_clean(exclude=["tenant"])
    settings.save()
    audit_record(tenant=tenant, actor=actor, action="tuning_settings.updated", target=settings, data=values)
    return settings


# --- Scopes ---------------------------------------------------------------------------------------


def _scope_fields(scope: Scope) -> dict:
    kind, key = scope
    return {
        "velocity_class": key if kind == "velocity_class" else "",
        "category_id": key if kind == "category" else None,
        "sku_id": key if kind == "sku" else None,
    }


def _scope_positions(tenant: Tenant, scope: Scope) -> Q:
    kind, key = scope
    return {
        "tenant": Q(),
        "velocity_class": Q(sku__velocity_class=key),
        "category": Q(sku__category_id=key),
        "sku": Q(sku_id=key),
    }[kind]


def _scope_label(scope: Scope) -> str:
    kind, key = scope
    return "tenant" if kind == "tenant" else f"{kind} {key}"


def _in_cooldown(tenant: Tenant, rule: str, scope: Scope, today: date, days: int) -> bool:
    proposals = TuningProposal.objects.filter(tenant=tenant, rule=rule, **_scope_fields(scope))
    return proposals.filter(Q(status=ProposalStatus.PENDING) | Q(run_on__gt=today - timedelta(days=days))).exists()


def _scope_value(book: PolicyBook, tunable: Tunable, skus: list[tuple]) -> tuple[float | None, object]:
    """The trip point the scope's SKUs resolve to, and one SKU's settings; None when they differ
    (one policy for the scope would move them apart, not by the same step)."""
    values, effective = set(), None
    for sku_id, category_id, velocity_class in skus:
        effective = book.effective(tunable.rule, sku_id=sku_id, category_id=category_id, velocity_class=velocity_class)
        values.add(round(tunable.value_of(effective), 6))
    return (values.pop() if len(values) == 1 else None), effective


# --- Shadow replay --------------------------------------------------------------------------------


def shadow_figures(result: ReplayResult, rule: str, verdicts: list[Verdict]) -> dict:
    """The figures a step is judged by, from a replay of the scope: the rule's precision (planners'
    verdicts label the position's replayed alerts where they judged it, the ledger elsewhere), its
    posterior mean, and the recall and median lead time of the stock-out episodes."""
    judged: dict[tuple[int, str], str] = {}
    for verdict in verdicts:
        if verdict.source == "feedback" and verdict.verdict in (TRUE, FALSE):
            judged.setdefault((verdict.position_id, verdict.rule), verdict.verdict)
            if verdict.verdict == FALSE:
                judged[(verdict.position_id, verdict.rule)] = FALSE
    true = false = 0
    for alert in result.alerts:
        if alert.rule != rule:
            continue
        label = judged.get((alert.position_id, alert.rule), alert.outcome)
        true += label == TRUE
        false += label == FALSE
    episodes = result.episodes
    leads = [episode.lead_days for episode in episodes if episode.warned and episode.lead_days is not None]
    return {
        "alerts": sum(1 for alert in result.alerts if alert.rule == rule),
        "true_alerts": true,
        "false_alarms": false,
        "precision": round(true / (true + false), 4) if true + false else None,
        "precision_mean": round((1 + true) / (2 + true + false), 4),
        "episodes": len(episodes),
        "warned": sum(1 for episode in episodes if episode.warned),
        "recall": round(sum(1 for e in episodes if e.warned) / len(episodes), 4) if episodes else None,
        "lead_time_median": float(median(leads)) if leads else None,
    }


def shadow_verdict(direction: str, before: dict, after: dict) -> str:
    """Why the step is refused, or "" when it is kept (docs/tuning.md, Shadow replay)."""
    if direction == TIGHTEN and not after["precision_mean"] > before["precision_mean"]:
        return f"precision does not rise ({before['precision_mean']} -> {after['precision_mean']}, posterior means)"
    if direction == LOOSEN:
        recall_up = (after["recall"] or 0) > (before["recall"] or 0)
        lead_up = (after["lead_time_median"] or 0) > (before["lead_time_median"] or 0)
        if not (recall_up or lead_up):
            return "neither recall nor the median lead time rises"
        if after["precision_mean"] < before["precision_mean"] - PRECISION_TOLERANCE:
            return f"precision falls by more than {PRECISION_TOLERANCE * 100:g} points"
    if before["recall"] is not None and (after["recall"] or 0) < before["recall"] - RECALL_TOLERANCE:
        return f"recall falls by more than {RECALL_TOLERANCE * 100:g} points ({before['recall']} -> {after['recall']})"
    if before["lead_time_median"] is not None and (
        after["lead_time_median"] is None
        or after["lead_time_median"] < before["lead_time_median"] - LEAD_TIME_TOLERANCE_DAYS
    ):
        return (
            f"the median lead time falls by more than {LEAD_TIME_TOLERANCE_DAYS:g} day "
            f"({before['lead_time_median']} -> {after['lead_time_median']})"
        )
    return ""


def _shadow(
    tenant: Tenant,
    today: date,
    rule: str,
    scope: Scope,
    settings: dict,
    base: list[AlertPolicy],
    verdicts: list[Verdict],
) -> tuple[dict, dict]:
    position_ids = list(
        Position.objects.filter(_scope_positions(tenant, scope), tenant=tenant).values_list("id", flat=True)
    )
    fields = _scope_fields(scope)
    candidate = policy_book_with(
        tenant=tenant,
        rule=rule,
        settings=settings,
        velocity_class=fields["velocity_class"],
        category=Category.objects.get(pk=fields["category_id"]) if fields["category_id"] else None,
        sku=Sku.objects.get(pk=fields["sku_id"]) if fields["sku_id"] else None,
        base=base,
    )
    current = PolicyBook(tenant, policies=base)
    period = {"day_from": today - timedelta(days=WINDOW_DAYS), "day_to": today - timedelta(days=1)}

    def replayed(book: PolicyBook) -> dict:
        result = warnings_replay(tenant=tenant, policies=lambda day: book, position_ids=position_ids, **period)
        return shadow_figures(result, rule, verdicts)

    return replayed(current), replayed(candidate)


# --- The run --------------------------------------------------------------------------------------


def tuner_run(
    *,
    tenant: Tenant,
    today: date | None = None,
    feedback: list[Verdict] | None = None,
    replay: ReplayResult | None = None,
    mode: str | None = None,
    replay_evidence: bool = True,
) -> list[TuningProposal]:
    """One pass of the tuner for ``today`` (default: today): the proposals it made, kept or refused.

    ``feedback``: verdicts to use instead of the planners' on the alerts of the last 90 days (a
    simulated planner's); ``replay``: a ReplayResult of the last 90 days to read outcomes from instead
    of replaying them (``replay_evidence=False``: no replayed outcomes at all); ``mode``: instead of
    the tenant's setting. Mode off proposes nothing.
    """
    today = today or timezone.now().date()
    tuning = tuning_settings_for(tenant)
    mode = mode or tuning.mode
    if mode == TuningMode.OFF:
        return []
    if feedback is None:
        since = day_end(today - timedelta(days=WINDOW_DAYS + 1))
        feedback = verdicts_from_feedback(tenant=tenant, since=since, until=day_end(today))
    verdicts = list(feedback)
    if replay_evidence:
        if replay is None:
            replay = warnings_replay(
                tenant=tenant, day_from=today - timedelta(days=WINDOW_DAYS), day_to=today - timedelta(days=1)
            )
        judged = {(verdict.position_id, verdict.rule) for verdict in feedback}
        verdicts += verdicts_from_replay(replay, judged=judged)

    # Steps start from the policies stored now (a run for a past day, as the quality study makes,
    # steps from them too), read again after each step this run applies.
    base = list(policy_list_for_book(tenant))
    book = PolicyBook(tenant, policies=base)
    proposals: list[TuningProposal] = []
    taken: set[tuple[str, int]] = set()  # (rule, position) covered by a step of this run
    for rule, tunable in TUNABLES.items():
        rule_verdicts = [verdict for verdict in verdicts if verdict.rule == rule]
        if not rule_verdicts:
            continue
        for kind in SCOPE_ORDER:
            # A narrower scope's step answers its own evidence: the broader scopes count the rest.
            remaining = [verdict for verdict in rule_verdicts if (rule, verdict.position_id) not in taken]
            evidence = {scope: found for (r, scope), found in evidence_by_scope(remaining).items() if r == rule}
            for scope in sorted((s for s in evidence if s[0] == kind), key=lambda s: str(s[1])):
                if decision_of(evidence[scope])[0] is None:
                    continue
                if _in_cooldown(tenant, rule, scope, today, tuning.cooldown_days):
                    # Its evidence is answered (or being answered) by the step at rest there.
                    taken |= _positions_taken(tenant, rule, scope)
                    continue
                proposal = _consider(tenant, today, tunable, scope, evidence[scope], book, base, verdicts, mode)
                if proposal is None:
                    continue
                proposals.append(proposal)
                if proposal.status == ProposalStatus.APPLIED:
                    base = list(policy_list_for_book(tenant))
                    book = PolicyBook(tenant, policies=base)
                if proposal.status != ProposalStatus.REFUSED:
                    taken |= _positions_taken(tenant, rule, scope)
    return proposals


def _positions_taken(tenant: Tenant, rule: str, scope: Scope) -> set[tuple[str, int]]:
    positions = Position.objects.filter(_scope_positions(tenant, scope), tenant=tenant)
    return {(rule, position_id) for position_id in positions.values_list("id", flat=True)}


def tuner_tenant_run(*, tenant_id: object) -> int:
    """The daily run of one tenant (its own mode), as the worker calls it: how many proposals it made."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return len(tuner_run(tenant=tenant)) if tenant is not None else 0


def tuners_sweep() -> int:
    """Ask for the run of every tenant whose tuner is on, one task each; answer how many were sent."""
    tenants = TuningSettings.objects.exclude(mode=TuningMode.OFF).values_list("tenant_id", flat=True)
    return sum(task_request(RUN_TASK, args=[str(tenant_id)]) for tenant_id in tenants)


def decision_of(evidence: Evidence) -> tuple[str | None, float, dict]:
    """(TIGHTEN, LOOSEN or None, the step's share, the decision's figures) for one rule and scope."""
    p_low_precision = evidence.p_precision_below(PRECISION_TARGET)
    p_low_recall = (
        evidence.p_recall_below(RECALL_TARGET) if evidence.counts["warned"] + evidence.counts["missed"] else 0.0
    )
    figures = {
        "precision_target": PRECISION_TARGET,
        "recall_target": RECALL_TARGET,
        "confidence": CONFIDENCE,
        "p_precision_below_target": round(p_low_precision, 4),
        "p_recall_below_target": round(p_low_recall, 4),
    }
    if p_low_precision >= CONFIDENCE and p_low_recall < CONFIDENCE:
        gap = (PRECISION_TARGET - evidence.precision_mean) / PRECISION_TARGET
        return TIGHTEN, min(max(gap, MIN_STEP), MAX_STEP), figures
    if p_low_recall >= CONFIDENCE and p_low_precision < 0.5:
        gap = (RECALL_TARGET - evidence.recall_mean) / RECALL_TARGET
        return LOOSEN, min(max(gap, MIN_STEP), MAX_STEP), figures
    return None, 0.0, figures


def _consider(
    tenant: Tenant,
    today: date,
    tunable: Tunable,
    scope: Scope,
    evidence: Evidence,
    book: PolicyBook,
    base: list[AlertPolicy],
    verdicts: list[Verdict],
    mode: str,
) -> TuningProposal | None:
    direction, fraction, decision = decision_of(evidence)
    skus = list(
        Sku.objects.filter(
            pk__in=Position.objects.filter(_scope_positions(tenant, scope), tenant=tenant).values("sku_id")
        ).values_list("pk", "category_id", "velocity_class")
    )
    value, effective = _scope_value(book, tunable, skus)
    if value is None:
        return None
    new_value = round(tunable.step(value, tighten=direction == TIGHTEN, fraction=fraction), 4)
    if abs(new_value - value) < 1e-9:
        return None  # at the catalog's bound already
    settings = tunable.settings_for(effective, new_value)
    before, after = _shadow(tenant, today, tunable.rule, scope, settings, base, verdicts)
    refusal = shadow_verdict(direction, before, after)
    proposal = TuningProposal(
        tenant=tenant,
        rule=tunable.rule,
        run_on=today,
        setting=tunable.setting,
        direction=direction,
        value_before=value,
        value_after=new_value,
        settings=settings,
        evidence={
            "scope": _scope_label(scope),
            **evidence.as_dict(),
            **decision,
            "step_share": round(fraction, 4),
            "range": [tunable.minimum, tunable.maximum],
            "window_days": WINDOW_DAYS,
        },
        replay={
            "day_from": (today - timedelta(days=WINDOW_DAYS)).isoformat(),
            "day_to": (today - timedelta(days=1)).isoformat(),
            "before": before,
            "after": after,
            "tolerances": {
                "recall_points": RECALL_TOLERANCE,
                "lead_time_days": LEAD_TIME_TOLERANCE_DAYS,
                "precision_points": PRECISION_TOLERANCE,
            },
        },
        status=ProposalStatus.REFUSED if refusal else ProposalStatus.PENDING,
        refusal=refusal,
        **_scope_fields(scope),
    )
    with transaction.atomic():
        proposal.save()
        if not refusal and mode == TuningMode.AUTO:
            proposal_apply(proposal=proposal, status=ProposalStatus.APPLIED, reason=_reason(proposal))
    return proposal


def _reason(proposal: TuningProposal) -> str:
    evidence = proposal.evidence
    which = "precision" if proposal.direction == TIGHTEN else "recall"
    chance = evidence[f"p_{which}_below_target"]
    return (
        f"Tuner: {proposal.direction} {proposal.rule} for {evidence['scope']}: P({which} below target) = {chance:.3f}; "
        f"{proposal.setting} trip point {proposal.value_before:g} -> {proposal.value_after:g}."
    )


def proposal_apply(*, proposal: TuningProposal, status: str, reason: str, by: str = "") -> TuningProposal:
    """Write the step as a policy version by ``system:tuner``, with its evidence and replay; a 409
    when the scope's trip point is no longer the one the proposal started from."""
    tunable = TUNABLES[proposal.rule]
    book = PolicyBook(proposal.tenant)
    skus = list(
        Sku.objects.filter(
            pk__in=Position.objects.filter(
                _scope_positions(proposal.tenant, (proposal.scope, _scope_key(proposal))), tenant=proposal.tenant
            ).values("sku_id")
        ).values_list("pk", "category_id", "velocity_class")
    )
    value, _ = _scope_value(book, tunable, skus)
    if value is None or abs(value - proposal.value_before) > 1e-6:
        raise Conflict(
            f"The {proposal.rule} policy of this scope changed since the proposal (trip point now "
            f"{value if value is not None else 'mixed'}, proposed from {proposal.value_before:g}); the next run "
            "proposes again from the new value."
        )
    policy = scope_policy_locked(proposal)
    common = {"actor": TUNER_ACTOR, "reason": reason, "evidence": proposal.evidence, "replay": proposal.replay}
    if policy is None:
        scope = {
            "velocity_class": proposal.velocity_class,
            "category": proposal.category.code if proposal.category_id else None,
            "sku": proposal.sku.code if proposal.sku_id else None,
        }
        policy_create(tenant=proposal.tenant, rule=proposal.rule, **scope, **common, **proposal.settings)
    else:
        policy_update(policy=policy, **common, **_merged(policy, proposal.settings))
    proposal.change = PolicyChange.objects.filter(tenant_id=proposal.tenant_id).order_by("-version").first()
    proposal.status = status
    proposal.decided_by = by or TUNER_ACTOR
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["change", "status", "decided_by", "decided_at", "decision_note", "updated_at"])
    return proposal


def _scope_key(proposal: TuningProposal) -> object:
    return proposal.sku_id or proposal.category_id or proposal.velocity_class or None


def _merged(policy: AlertPolicy, settings: dict) -> dict:
    """The step's settings over the policy's own: a threshold step keeps the policy's other thresholds."""
    if "thresholds" in settings:
        return {**settings, "thresholds": {**policy.thresholds, **settings["thresholds"]}}
    return settings


# --- Planners' decisions --------------------------------------------------------------------------


def _pending(proposal: TuningProposal, verb: str) -> TuningProposal:
    locked = TuningProposal.objects.select_for_update(of=("self",)).select_related("tenant", "category", "sku")
    locked = locked.get(pk=proposal.pk)
    if locked.status != ProposalStatus.PENDING:
        raise Conflict(f"This proposal is {locked.status}; only a pending one can be {verb}.")
    return locked


@transaction.atomic
def proposal_accept(*, proposal: TuningProposal, actor: Principal | str, note: str = "") -> TuningProposal:
    """A planner agrees: the step is written as a policy version by ``system:tuner``, naming them."""
    proposal = _pending(proposal, "accepted")
    who = actor_name(actor)
    proposal.decision_note = note.strip()
    reason = f"{_reason(proposal)} Accepted by {who}" + (
        f": {proposal.decision_note}" if proposal.decision_note else "."
    )
    return proposal_apply(proposal=proposal, status=ProposalStatus.ACCEPTED, reason=reason, by=who)


@transaction.atomic
def proposal_reject(*, proposal: TuningProposal, actor: Principal | str, note: str = "") -> TuningProposal:
    """A planner disagrees: nothing changes, and the rule and scope rest for the cool-down."""
    proposal = _pending(proposal, "rejected")
    proposal.status, proposal.decided_by, proposal.decided_at = (
        ProposalStatus.REJECTED,
        actor_name(actor),
        timezone.now(),
    )
    proposal.decision_note = note.strip()
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    return proposal


def proposal_list(*, tenant: Tenant):  # noqa: ANN201 - a queryset of proposals
    return TuningProposal.objects.filter(tenant=tenant).select_related("category", "sku", "change")


def proposal_get(*, tenant: Tenant, proposal_id: object) -> TuningProposal:
    proposal = proposal_list(tenant=tenant).filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound
    return proposal
