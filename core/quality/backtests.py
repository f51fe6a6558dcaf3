"""Stored warning backtests: a replay of the warning engine over a past period, started over the API
(carried out on the worker) or from ``manage.py warnings_backtest`` (in the command's process), its
progress, its report, and two of them compared on their key figures.

A backtest replays with ``core.quality.replay.warnings_replay`` and writes nothing but its own row:
no alert, reading, RFQ or outbox event of the live tenant.

Safe to run twice: a backtest is claimed by moving it from queued to running in one conditional
update, so a second delivery of its task finds it taken (or finished) and returns. A running one
whose heartbeat is older than ``QUALITY_BACKTEST_STALE_SECONDS`` lost its worker and may be claimed
again; the claim's start time is the lease, so the worker that was presumed dead and wakes up
writes nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.alerts.policies import PolicyBook, policy_as_dict, policy_list
from core.exceptions import Conflict, NotFound
from core.inventory.selectors import daily_fact_first_day
from core.quality.models import BacktestStatus, WarningBacktest
from core.quality.replay import warnings_replay
from core.task_requests import task_request
from tenants.models import Tenant
from tenants.principals import Principal, actor_name
from tenants.services import audit_record

BACKTEST_TASK = "tripline.quality.warning_backtest_run"
# Which policies a backtest replays: those in force on each day replayed (the default), or the
# tenant's policies as they are when it starts, on every day (to compare two policy sets on one period).
IN_FORCE, CURRENT = "in_force", "current"
POLICY_CHOICES = (IN_FORCE, CURRENT)
# The figures of a report group that a comparison sets side by side (all a group has): the ones
# that count (zero in a group a report leaves out), then the ratios and lead times (null there).
COUNTED_FIGURES = (
    "alerts",
    "true_alerts",
    "false_alarms",
    "averted",
    "pending",
    "unlabelled",
    "episodes",
    "warned",
    "alerts_per_planner_day",
    "flapping",
)
KEY_FIGURES = (
    *COUNTED_FIGURES,
    "precision",
    "recall",
    "lead_time_median",
    "lead_time_p10",
    "actionable_share",
    "flapping_share",
)
# The report's groups a comparison covers: the whole, and per rule and grade (what a policy changes).
COMPARED_GROUPS = ("by_rule", "by_grade")
# Progress is written at most this often (and whenever a day is done), so the row is not hammered.
_PROGRESS_EVERY_SECONDS = 1.0


class _LeaseLost(Exception):
    """Another worker claimed the backtest (this one looked dead): stop without writing more."""


# --- Reads ----------------------------------------------------------------------------------------


def warning_backtest_list(*, tenant: Tenant) -> QuerySet[WarningBacktest]:
    return WarningBacktest.objects.filter(tenant=tenant).order_by("created_at", "id")


def warning_backtest_get(*, tenant: Tenant, backtest_id: object) -> WarningBacktest:
    """The tenant's backtest; another tenant's, or none, is the same NotFound."""
    backtest = warning_backtest_list(tenant=tenant).filter(pk=backtest_id).first()
    if backtest is None:
        raise NotFound
    return backtest


# --- Starting -------------------------------------------------------------------------------------


def warning_backtest_period_check(*, tenant: Tenant, day_from: date, day_to: date) -> int:
    """The period's length in days; a ValidationError naming the field and what to send when the
    period is reversed, reaches outside the ledger (before the tenant's first daily fact, after
    today) or is longer than ``QUALITY_BACKTEST_MAX_DAYS``."""
    today = timezone.now().date()
    longest = settings.QUALITY_BACKTEST_MAX_DAYS
    if day_from > day_to:
        raise ValidationError(
            {
                "day_to": [
                    f"The period is reversed: day_to {day_to} is before day_from {day_from}; send a day_to on "
                    f"or after day_from."
                ]
            }
        )
    days = (day_to - day_from).days + 1
    if days > longest:
        raise ValidationError(
            {
                "day_from": [
                    f"The period spans {days} days; a backtest replays at most {longest} "
                    f"(QUALITY_BACKTEST_MAX_DAYS): send a shorter one, e.g. day_from "
                    f"{day_to - timedelta(days=longest - 1)} for this day_to."
                ]
            }
        )
    if day_to > today:
        raise ValidationError(
            {
                "day_to": [
                    f"{day_to} is after today ({today}): the ledger has nothing to replay there; send a "
                    f"day_to on or before {today}."
                ]
            }
        )
    first = daily_fact_first_day(tenant=tenant)
    if first is None:
        raise ValidationError(
            {"day_from": ["This tenant's ledger is empty: push movements (ingest/movements/) before a backtest."]}
        )
    if day_from < first:
        raise ValidationError(
            {
                "day_from": [
                    f"{day_from} is before the tenant's ledger starts ({first}): send a day_from on or after {first}."
                ]
            }
        )
    return days


def _policies_snapshot(tenant: Tenant, policies: str) -> dict:
    """What the backtest records of its policies: nothing for those in force each day, else the
    tenant's current policies, which the replay uses on every day."""
    if policies not in POLICY_CHOICES:
        raise ValidationError({"policies": [f"One of: {', '.join(POLICY_CHOICES)}."]})
    if policies == IN_FORCE:
        return {}
    return {"use": CURRENT, "policies": [policy_as_dict(policy) for policy in policy_list(tenant=tenant)]}


def _backtest_create(
    *, tenant: Tenant, actor: Principal | str, day_from: date, day_to: date, label: str, policies: str
) -> WarningBacktest:
    days = warning_backtest_period_check(tenant=tenant, day_from=day_from, day_to=day_to)
    backtest = WarningBacktest(
        tenant=tenant,
        day_from=day_from,
        day_to=day_to,
        label=label,
        policies=_policies_snapshot(tenant, policies),
        requested_by=actor_name(actor),
        days_total=days,
    )
    backtest.full_clean()
    backtest.save()
    audit_record(
        tenant=tenant,
        actor=actor,
        action="warning_backtest.started",
        target=backtest,
        data={"day_from": day_from.isoformat(), "day_to": day_to.isoformat(), "label": label, "policies": policies},
    )
    return backtest


@transaction.atomic
def warning_backtest_start(
    *,
    tenant: Tenant,
    actor: Principal | str,
    day_from: date,
    day_to: date,
    label: str = "",
    policies: str = IN_FORCE,
) -> WarningBacktest:
    """Queue a backtest of the period on the worker (sent once the row is committed)."""
    backtest = _backtest_create(
        tenant=tenant, actor=actor, day_from=day_from, day_to=day_to, label=label, policies=policies
    )
    transaction.on_commit(lambda: task_request(BACKTEST_TASK, args=[str(backtest.pk)]), robust=True)
    return backtest


def warning_backtest_run_inline(
    *,
    tenant: Tenant,
    actor: Principal | str,
    day_from: date,
    day_to: date,
    label: str = "",
    policies: str = IN_FORCE,
    progress: Callable[[int, int], None] | None = None,
) -> WarningBacktest:
    """Store and carry out a backtest in this process (the command): no task is sent for it."""
    with transaction.atomic():
        backtest = _backtest_create(
            tenant=tenant, actor=actor, day_from=day_from, day_to=day_to, label=label, policies=policies
        )
    done = warning_backtest_run(backtest_id=backtest.pk, progress=progress)
    if done is None:  # cannot happen to a row nobody else knows of yet; say so rather than answer None
        raise Conflict(f"Backtest {backtest.pk} was taken by another process; follow it at warning-backtests/.")
    return done


# --- Carrying out ---------------------------------------------------------------------------------


def _claim(backtest_id: object) -> WarningBacktest | None:
    """Take the backtest if it is queued, or running with a heartbeat older than the stale limit."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.QUALITY_BACKTEST_STALE_SECONDS)
    claimed = WarningBacktest.objects.filter(
        Q(status=BacktestStatus.QUEUED) | Q(status=BacktestStatus.RUNNING, heartbeat_at__lt=stale), pk=backtest_id
    ).update(status=BacktestStatus.RUNNING, started_at=now, heartbeat_at=now, days_done=0, error="")
    if not claimed:
        return None
    return WarningBacktest.objects.select_related("tenant").get(pk=backtest_id)


def _lease(backtest: WarningBacktest) -> QuerySet[WarningBacktest]:
    """The backtest's row while this claim holds it (a later claim set another start time)."""
    return WarningBacktest.objects.filter(pk=backtest.pk, status=BacktestStatus.RUNNING, started_at=backtest.started_at)


def _progress_writer(backtest: WarningBacktest, tell: Callable[[int, int], None] | None) -> Callable[[int, int], None]:
    """The replay's progress callback: days done and the heartbeat onto the row (when a day is done,
    else at most once a second), and on to ``tell`` (a command's progress bar)."""
    last: dict[str, float | int] = {"at": 0.0, "done": -1}

    def written(done: int, total: int) -> None:
        moment = time.monotonic()
        if done != last["done"] or moment - last["at"] >= _PROGRESS_EVERY_SECONDS:
            if not _lease(backtest).update(days_done=done, days_total=total, heartbeat_at=timezone.now()):
                raise _LeaseLost
            last["at"], last["done"] = moment, done
        if tell is not None:
            tell(done, total)

    return written


def _replayed_policies(backtest: WarningBacktest) -> Callable[[date], PolicyBook] | None:
    """None (the replay's default: the policies in force each day), or the tenant's current book for
    every day, read as the replay starts and recorded on the backtest again then (a policy changed
    while it was queued is the one replayed, and the one its record shows)."""
    if backtest.policies.get("use") != CURRENT:
        return None
    book = PolicyBook(backtest.tenant)
    _lease(backtest).update(policies=_policies_snapshot(backtest.tenant, CURRENT))
    return lambda day: book


def warning_backtest_run(
    *, backtest_id: object, progress: Callable[[int, int], None] | None = None
) -> WarningBacktest | None:
    """Carry out a queued backtest (or one whose worker went silent) and store its report; None when
    it is taken or finished already. A failure is recorded on the backtest and raised."""
    backtest = _claim(backtest_id)
    if backtest is None:
        return None
    started = time.perf_counter()
    try:
        result = warnings_replay(
            tenant=backtest.tenant,
            day_from=backtest.day_from,
            day_to=backtest.day_to,
            policies=_replayed_policies(backtest),
            progress=_progress_writer(backtest, progress),
        )
        report = result.report()
    except _LeaseLost:
        return None
    except Exception as exc:
        _lease(backtest).update(
            status=BacktestStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        raise
    if backtest.policies.get("use") == CURRENT:
        report["policies"] = "the tenant's policies as the replay started, on every day"
    report["seconds"] = round(time.perf_counter() - started, 2)
    finished = _lease(backtest).update(
        status=BacktestStatus.SUCCEEDED,
        report=report,
        days_done=backtest.days_total,
        heartbeat_at=timezone.now(),
        finished_at=timezone.now(),
    )
    if not finished:
        return None
    backtest.refresh_from_db()
    return backtest


def warning_backtests_recover() -> dict:
    """The watchdog: re-send backtests whose task was lost (queued past the stale limit: the broker was
    down when it was sent) or whose worker went silent (running with a stale heartbeat); give up on
    one still unfinished three task time limits after it was started, so a replay that kills its
    worker every time does not come back forever."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.QUALITY_BACKTEST_STALE_SECONDS)
    given_up = WarningBacktest.objects.filter(
        status__in=(BacktestStatus.QUEUED, BacktestStatus.RUNNING),
        created_at__lt=now - timedelta(seconds=3 * settings.CELERY_LONGEST_TASK_SECONDS),
    ).update(
        status=BacktestStatus.FAILED,
        error="No worker finished it within three task time limits (CELERY_LONGEST_TASK_SECONDS); start a "
        "shorter period, or one with fewer positions.",
        finished_at=now,
    )
    lost = WarningBacktest.objects.filter(
        Q(status=BacktestStatus.QUEUED, created_at__lt=stale) | Q(status=BacktestStatus.RUNNING, heartbeat_at__lt=stale)
    ).values_list("pk", flat=True)
    resent = 0
    for backtest_id in lost:
        resent += task_request(BACKTEST_TASK, args=[str(backtest_id)])
    return {"resent": resent, "given_up": given_up}


# --- Comparing ------------------------------------------------------------------------------------


def _side_by_side(base: dict | None, other: dict | None) -> dict:
    """Each key figure of two report groups: both values and the other's minus the base's. A group
    only one report has (a rule that raised no alert there) counts as no alert: zero counts, no ratio."""
    base = base if base is not None else dict.fromkeys(COUNTED_FIGURES, 0)
    other = other if other is not None else dict.fromkeys(COUNTED_FIGURES, 0)
    figures = {}
    for name in KEY_FIGURES:
        a, b = base.get(name), other.get(name)
        difference = round(b - a, 4) if isinstance(a, int | float) and isinstance(b, int | float) else None
        figures[name] = {"base": a, "other": b, "difference": difference}
    return figures


def warning_backtests_compare(*, base: WarningBacktest, other: WarningBacktest) -> dict:
    """Two succeeded backtests' key figures side by side (overall, per rule, per grade) with the
    differences (other minus base); a Conflict while either has no report yet."""
    for backtest in (base, other):
        if backtest.status != BacktestStatus.SUCCEEDED:
            raise Conflict(
                f"Backtest {backtest.pk} is {backtest.status}, without a report to compare; compare it once "
                f"it has succeeded (follow it at warning-backtests/{backtest.pk}/)."
            )
    same_period = (base.day_from, base.day_to) == (other.day_from, other.day_to)
    groups = {}
    for group in COMPARED_GROUPS:
        names = sorted(set(base.report.get(group) or {}) | set(other.report.get(group) or {}))
        groups[group] = {
            name: _side_by_side((base.report.get(group) or {}).get(name), (other.report.get(group) or {}).get(name))
            for name in names
        }
    return {
        "base": base,
        "other": other,
        "same_period": same_period,
        "note": ""
        if same_period
        else "The two backtests replayed different periods: their differences mix the policies with the periods.",
        "overall": _side_by_side(base.report.get("overall") or {}, other.report.get("overall") or {}),
        **groups,
    }
