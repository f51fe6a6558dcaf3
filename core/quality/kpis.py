"""The KPIs planners review each month, read from the alerts' timelines, the responses the apps above
quality register (core/quality/responses.py), the daily facts and the latest warning backtest.

Every figure is defined in docs/kpis.md; ``DEFINITIONS`` says the same in one line each, and travels
with the figures. A month's figures only read what happened up to its end (or up to now for the
month under way), so the figures of a past month do not move when they are read again later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.alerts.models import Alert, AlertEvent, AlertEventKind
from core.alerts.rules import STOCK_OUT, rules_of_direction
from core.inventory import selectors as inventory
from core.quality.models import BacktestStatus, WarningBacktest
from core.quality.responses import responses_sql
from tenants.models import Tenant

GROUPINGS = ("rule", "category", "warehouse")
# The rules whose alerts warn of stock held beyond its demand: their clearance cycle and value held.
OVERSTOCK_RULES = rules_of_direction("overstock")
# A person reacting to an alert: the first of these ends its time to acknowledge.
_HUMAN = (AlertEventKind.ACKNOWLEDGED, AlertEventKind.SNOOZED, AlertEventKind.DISMISSED, AlertEventKind.RESOLVED)
_OPENING = (AlertEventKind.OPENED, AlertEventKind.REOPENED)
_CLOSING = (AlertEventKind.RESOLVED, AlertEventKind.AUTO_RESOLVED, AlertEventKind.DISMISSED)
# How far before the month an alert's life is read for its outcome (a stock-out day, unsold stock).
OUTCOME_LOOKBACK_DAYS = 90
FALSE_ALARM_REASON = "false_alarm"

DEFINITIONS = {
    "alerts_closed": "alerts whose latest opening was closed (resolved, auto-resolved or dismissed) in the month",
    "false_alarms": "closed alerts dismissed as a false alarm (reason false_alarm; any dismissal without a "
    "structured reason), or resolved with no response and no outcome",
    "false_alarm_rate": "false_alarms / alerts_closed",
    "time_to_acknowledge_hours": "hours from opening to the first acknowledgement, snooze, dismissal or manual "
    "resolution, of the alerts whose first such reaction fell in the month; median and p90",
    "time_to_act_hours": "hours from opening to the first response (RFQ awarded, transfer approved, markdown "
    "accepted) of the alerts whose first response fell in the month; median and p90",
    "clearance_cycle_days": "days from opening to resolution of the overstock-direction alerts resolved in "
    "the month; median and p90",
    "stock_out_days": "position-days of the month ending with zero on hand while the position sold in the 28 "
    "days ending that day",
    "overstock_units_held": "units on hand at the month's end at the positions with an overstock-direction "
    "alert open (or acknowledged) then",
    "overstock_value_held": "overstock_units_held x each SKU's unit cost",
    "fill_rate": "units sold / (units sold + estimated lost demand on the stock-out days)",
    "replay": "precision, recall and median lead time of the latest succeeded warning backtest of the policies "
    "in force whose period covers the month",
}


@dataclass(frozen=True)
class Period:
    """A calendar month, read up to ``until`` (its end, or now for the month under way)."""

    month: date
    start: datetime
    until: datetime
    last_day: date
    complete: bool

    @classmethod
    def of(cls, month: date, now: datetime) -> Period:
        first = month.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        start = datetime.combine(first, time.min, tzinfo=UTC)
        end = datetime.combine(following, time.min, tzinfo=UTC)
        until = min(end, now)
        last_day = (until - timedelta(microseconds=1)).date()
        return cls(month=first, start=start, until=until, last_day=last_day, complete=end <= now)

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.until


@dataclass
class AlertLife:
    """One alert as its timeline stands at the period's end."""

    id: str
    rule: str
    direction: str
    position_id: int
    group: dict[str, str]
    unit_cost: Decimal
    opened_at: datetime | None = None
    first_reaction_at: datetime | None = None
    live_since: datetime | None = None  # the latest opening or reopening
    closed_at: datetime | None = None  # the first closing after it, if any
    closed_by: str = ""
    dismissal_reason: str | None = None
    responses: list[datetime] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.live_since is not None and self.closed_at is None

    @property
    def first_response_at(self) -> datetime | None:
        return min(self.responses, default=None)


def kpis_for_month(*, tenant: Tenant, month: date, by: str | None = None) -> dict:
    """The month's KPIs for the tenant, overall and, with ``by`` (rule, category or warehouse), per group."""
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}, not {by!r}")
    period = Period.of(month, timezone.now())
    lives = _alert_lives(tenant, period)
    _responses_attach(tenant, period, lives)
    closed = [life for life in lives if period.holds(life.closed_at)]
    outcomes = _outcomes(tenant, period, closed)
    stock_outs = inventory.position_stock_out_days(tenant=tenant, day_from=period.month, day_to=period.last_day)
    sold = inventory.position_units_sold(tenant=tenant, day_from=period.month, day_to=period.last_day)
    held = [life for life in lives if life.live and life.rule in OVERSTOCK_RULES]
    on_hand = inventory.positions_on_hand_at(
        tenant=tenant, position_ids={life.position_id for life in held}, day=period.last_day
    )
    position_groups = _position_groups(tenant, {row["position_id"] for row in stock_outs} | set(sold))
    replay, replay_note = _replay(tenant, period)

    def figures(key: str | None, value: str | None) -> dict:
        def mine(life: AlertLife) -> bool:
            return key is None or life.group[key] == value

        def my_position(position_id: int) -> bool:
            return key is None or position_groups.get(position_id, {}).get(key) == value

        facts = key != "rule"  # the facts know positions, not rules
        return {
            **_false_alarms([life for life in closed if mine(life)], outcomes),
            "time_to_acknowledge_hours": _spread(
                _hours(life.first_reaction_at - life.opened_at)
                for life in lives
                if mine(life) and life.opened_at and period.holds(life.first_reaction_at)
            ),
            "time_to_act_hours": _spread(
                _hours(life.first_response_at - life.opened_at)
                for life in lives
                if mine(life) and life.opened_at and period.holds(life.first_response_at)
            ),
            "clearance_cycle_days": _spread(
                _hours(life.closed_at - life.opened_at) / 24
                for life in closed
                if mine(life) and life.opened_at and life.rule in OVERSTOCK_RULES and life.closed_by != "dismissed"
            ),
            **_overstock_held([life for life in held if mine(life)], on_hand),
            **(
                _stock_out_figures(
                    [row for row in stock_outs if my_position(row["position_id"])],
                    sum(units for position_id, units in sold.items() if my_position(position_id)),
                )
                if facts
                else {"stock_out_days": None, "units_sold": None, "lost_units": None, "fill_rate": None}
            ),
            "replay": _replay_figures(replay, key, value),
        }

    groups = []
    if by is not None:
        values = {life.group[by] for life in lives} | (
            {groups_of[by] for groups_of in position_groups.values()} if by != "rule" else set()
        )
        groups = [{"key": value, **figures(by, value)} for value in sorted(values)]
    return {
        "month": f"{period.month:%Y-%m}",
        "from": period.month.isoformat(),
        "to": period.last_day.isoformat(),
        "complete": period.complete,
        "by": by,
        "overall": figures(None, None),
        "groups": groups,
        "replay_source": replay_note,
        "definitions": DEFINITIONS,
    }


# --- The alerts' timelines ------------------------------------------------------------------------


def _alert_lives(tenant: Tenant, period: Period) -> list[AlertLife]:
    """The alerts that were live in the period or changed in it, each read from its timeline up to
    the period's end: one query for the alerts, one for their events."""
    touched = AlertEvent.objects.filter(alert=OuterRef("pk"), created_at__gte=period.start)
    candidates = Alert.objects.filter(tenant=tenant, opened_at__lt=period.until).filter(
        Q(active=True) | Exists(touched)
    )
    alerts = candidates.values_list(
        "id", "rule", "direction", "position_id", "sku__category__code", "warehouse__code", "sku__unit_cost"
    ).order_by("id")
    lives = {
        alert_id: AlertLife(
            id=str(alert_id),
            rule=rule,
            direction=direction,
            position_id=position_id,
            group={"rule": rule, "category": category, "warehouse": warehouse},
            unit_cost=unit_cost,
        )
        for alert_id, rule, direction, position_id, category, warehouse, unit_cost in alerts
    }
    events = (
        AlertEvent.objects.filter(tenant=tenant, alert__in=candidates.values("pk"), created_at__lt=period.until)
        .order_by("alert_id", "created_at", "id")
        .values_list("alert_id", "kind", "created_at", "data")
    )
    for alert_id, kind, at, data in events.iterator(chunk_size=5000):
        life = lives[alert_id]
        if kind in _OPENING:
            life.opened_at = life.opened_at or at
            life.live_since, life.closed_at, life.closed_by, life.dismissal_reason = at, None, "", None
        if kind in _HUMAN and life.first_reaction_at is None:
            life.first_reaction_at = at
        if kind in _CLOSING and life.live_since is not None and life.closed_at is None:
            life.closed_at, life.closed_by = at, kind
            if kind == AlertEventKind.DISMISSED:
                life.dismissal_reason = (data or {}).get("reason")
    return list(lives.values())


def _responses_attach(tenant: Tenant, period: Period, lives: list[AlertLife]) -> None:
    """Each registered response before the period's end, on the alert it names, or else on every
    alert of its position that was live at the time."""
    by_id = {life.id: life for life in lives}
    by_position: dict[int, list[AlertLife]] = defaultdict(list)
    for life in lives:
        by_position[life.position_id].append(life)
    statement = (
        f"SELECT alert_id, position_id, at FROM ({responses_sql(tenant='%(tenant)s')}) AS r WHERE at < %(until)s"  # noqa: S608 - registered SQL
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, {"tenant": tenant.pk, "until": period.until})
        rows = cursor.fetchall()
    for alert_id, position_id, at in rows:
        if alert_id is not None:
            if (life := by_id.get(str(alert_id))) is not None:
                life.responses.append(at)
            continue
        for life in by_position.get(position_id, ()):
            if life.opened_at is not None and life.opened_at <= at and (life.closed_at is None or at <= life.closed_at):
                life.responses.append(at)


def _outcomes(tenant: Tenant, period: Period, closed: list[AlertLife]) -> set[str]:
    """The closed alerts whose outcome came: for a stock-out warning, a stock-out day at its position
    from its opening day to its closing day; for any other, stock held at the end of its opening day
    still not all sold by its closing day."""
    earliest = period.month - timedelta(days=OUTCOME_LOOKBACK_DAYS)

    def first_day(life: AlertLife) -> date:
        return max(life.opened_at.date(), earliest) if life.opened_at else period.month

    shortages = [life for life in closed if life.direction == STOCK_OUT]
    outcomes: set[str] = set()
    if shortages:
        out_days = defaultdict(list)
        for row in inventory.position_stock_out_days(
            tenant=tenant,
            day_from=min(first_day(life) for life in shortages),
            day_to=period.last_day,
            position_ids=sorted({life.position_id for life in shortages}),
        ):
            out_days[row["position_id"]].append(row["day"])
        for life in shortages:
            if any(first_day(life) <= day <= life.closed_at.date() for day in out_days[life.position_id]):
                outcomes.add(life.id)
    excess = [life for life in closed if life.direction != STOCK_OUT]
    spans = inventory.position_spans(
        tenant=tenant, spans=[(life.position_id, first_day(life), life.closed_at.date()) for life in excess]
    )
    outcomes.update(life.id for life, (held, sold) in zip(excess, spans, strict=True) if held > sold)
    return outcomes


def _position_groups(tenant: Tenant, position_ids: set[int]) -> dict[int, dict[str, str]]:
    rows = (
        inventory.position_list(tenant=tenant)
        .filter(id__in=list(position_ids))
        .values_list("id", "sku__category__code", "warehouse__code")
    )
    return {position_id: {"category": category, "warehouse": warehouse} for position_id, category, warehouse in rows}


# --- The figures ----------------------------------------------------------------------------------


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _spread(values: Iterable[float]) -> dict:
    """Count, median and 90th percentile (linear between the closest ranks), rounded to 0.01."""
    numbers = [value for value in values if value >= 0]
    if not numbers:
        return {"count": 0, "median": None, "p90": None}
    median, p90 = np.percentile(numbers, [50, 90])
    return {"count": len(numbers), "median": round(float(median), 2), "p90": round(float(p90), 2)}


def _false_alarms(closed: list[AlertLife], outcomes: set[str]) -> dict:
    def false(life: AlertLife) -> bool:
        if life.closed_by == AlertEventKind.DISMISSED:
            return life.dismissal_reason in (None, FALSE_ALARM_REASON)
        acted = any(at <= life.closed_at for at in life.responses)
        return not acted and life.id not in outcomes

    count = sum(1 for life in closed if false(life))
    return {
        "alerts_closed": len(closed),
        "false_alarms": count,
        "false_alarm_rate": round(count / len(closed), 4) if closed else None,
    }


def _overstock_held(held: list[AlertLife], on_hand: dict[int, int]) -> dict:
    positions = {life.position_id: life.unit_cost for life in held}
    units = sum(max(on_hand.get(position_id, 0), 0) for position_id in positions)
    value = sum((max(on_hand.get(position_id, 0), 0) * cost for position_id, cost in positions.items()), Decimal(0))
    return {"overstock_units_held": units, "overstock_value_held": f"{value:.2f}"}


def _stock_out_figures(rows: list[dict], units_sold: int) -> dict:
    lost = sum(row["lost_units"] for row in rows)
    demand = units_sold + lost
    return {
        "stock_out_days": len(rows),
        "units_sold": units_sold,
        "lost_units": round(lost, 2),
        "fill_rate": round(units_sold / demand, 4) if demand else None,
    }


# --- The replay -----------------------------------------------------------------------------------


def _replay(tenant: Tenant, period: Period) -> tuple[WarningBacktest | None, str]:
    backtest = (
        WarningBacktest.objects.filter(
            tenant=tenant,
            status=BacktestStatus.SUCCEEDED,
            policies={},
            day_from__lte=period.month,
            day_to__gte=period.last_day,
        )
        .order_by("-finished_at", "-created_at")
        .first()
    )
    if backtest is None:
        return None, (
            f"No succeeded warning backtest of the policies in force covers {period.month:%Y-%m}: start one over "
            f"warning-backtests/ from {period.month} to {period.last_day} (or longer)."
        )
    return backtest, (
        f"Warning backtest {backtest.pk} ({backtest.day_from} to {backtest.day_to}), finished {backtest.finished_at}: "
        "its figures are those of its whole period."
    )


def _replay_figures(backtest: WarningBacktest | None, key: str | None, value: str | None) -> dict | None:
    if backtest is None:
        return None
    report = backtest.report or {}
    group = report.get("overall") if key is None else (report.get(f"by_{key}") or {}).get(value)
    if not isinstance(group, dict):
        return None
    return {name: group.get(name) for name in ("precision", "recall", "lead_time_median")}
