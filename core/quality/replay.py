"""The warnings' replay backtest: the engine run over past days, and what its alerts were worth.

For each day of the period, every position's indicator rows are rebuilt as they stood at the end of
that day (``core.quality.replay_days``: only facts, signals and forecasts known by then), graded by
the live engine's own assessment (``core.alerts.engine.readings_assess``: the same readings, rules
and promotions) under the policies in force that day, and the trips run through a simulated alert
lifecycle (open, escalate, resolve; no planner, so no dismissal). The alerts are then labelled from
the ledger (``core.quality.outcomes``) and measured (``core.quality.replay_metrics``).

Nothing of the live tenant is written: no alert, reading, RFQ or outbox row. The definitions of
every figure and the assumptions are in docs/quality.md and in the report itself.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, connections
from django.utils import timezone

from core.alerts.catalog import STOCK_OUT
from core.alerts.engine import readings_assess
from core.alerts.models import GRADE_RANK
from core.alerts.policies import PolicyBook
from core.alerts.rules import RULES
from core.bulk_copy import bigint_array
from core.inventory.selectors import position_list
from core.quality.outcomes import DEFAULT_REVIEW_DAYS, FLAP_DAYS, Outcomes
from core.quality.replay_days import ChunkLedger, ledger_read
from core.quality.replay_metrics import replay_report
from core.quality.responses import responses_sql
from tenants.models import Membership, Role, Tenant

CHUNK_POSITIONS = 2000


@dataclass(frozen=True)
class _Placed:
    """The position something happened at, with what the report groups by (as the SKU is now)."""

    position_id: int
    sku_id: object
    category_id: object
    category_code: str
    velocity_class: str
    warehouse_id: object

    @staticmethod
    def of(static: dict) -> dict:
        """These fields from a chunk's position (``ChunkLedger.positions``)."""
        return {
            "position_id": static["id"],
            "sku_id": static["sku_id"],
            "category_id": static["category_id"],
            "category_code": static["category_code"],
            "velocity_class": static["velocity_class"],
            "warehouse_id": static["warehouse_id"],
        }


@dataclass(frozen=True)
class ReplayedAlert(_Placed):
    """One simulated alert: a run of days on which a (position, rule) tripped."""

    rule: str
    direction: str
    opened_on: date
    resolved_on: date | None  # the first day it no longer tripped; None if open on the last day
    first_grade: str
    peak_grade: str
    outcome: str  # true | false | averted | pending | unlabelled (a rule without a ledger outcome)
    outcome_on: date | None
    lead_days: int | None  # a true stock-out warning: days from opening to the first day out of stock
    lead_time_days: int | None  # the supplier lead time the reading had at opening
    reopened_within_week: bool  # flapping: opened within 7 days of the same rule resolving on the position
    inputs: dict = field(default_factory=dict)  # the trip's inputs at opening
    averted_by: str = ""


@dataclass(frozen=True)
class Episode(_Placed):
    """A stock-out episode: a run of days out of stock while the SKU sells, and how it was warned of."""

    started_on: date
    ended_on: date | None  # the last day out of stock; None if still out on the last day of data
    warned: bool
    warned_by: str | None  # the rule of the earliest warning
    first_warned_on: date | None
    lead_days: int | None  # started_on - first_warned_on
    lead_time_days: int | None  # the supplier lead time of the earliest warning
    actionable: bool  # warned at least one supplier lead time ahead
    # Per stock-out rule that warned: (first opening, lead days, peak grade of its warnings).
    warnings: dict = field(default_factory=dict)


@dataclass
class ReplayResult:
    tenant_id: object
    day_from: date
    day_to: date
    last_data_day: date
    positions: int
    planners: int
    alerts: list[ReplayedAlert]
    episodes: list[Episode]
    policies: str  # how the policies of each day were chosen

    def report(self) -> dict:
        """The figures, grouped, with their definitions and assumptions (JSON-ready)."""
        return replay_report(self)


def _default_policies(tenant: Tenant) -> tuple[Callable[[date], PolicyBook], str]:
    try:
        from core.alerts.policy_versions import policy_book_as_of
    except ImportError:
        book = PolicyBook(tenant)
        return (lambda day: book), "the tenant's current policies (no policy history is kept)"
    return (
        lambda day: policy_book_as_of(tenant=tenant, at=day_end(day)),
        "the policies in force at the end of each day (policy versions)",
    )


def day_end(day: date) -> datetime:
    """The last instant of ``day`` (UTC): what was known by the end of a replayed day."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(microseconds=1)


def warnings_replay(
    *,
    tenant: Tenant,
    day_from: date,
    day_to: date,
    policies: Callable[[date], PolicyBook] | None = None,
    position_ids: list[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Replay the warning engine over ``day_from`` .. ``day_to`` (both included) and label its alerts.

    ``policies(day)`` gives the book each day is graded with (default: the policies in force then);
    ``position_ids`` limits the replay to those positions of the tenant; ``progress(done, total)`` is
    told the days replayed as they go. Writes nothing.
    """
    if day_to < day_from:
        raise ValueError("day_to is before day_from")
    last_data_day = max(timezone.now().date(), day_to)
    how = "given by the caller for each day"
    if policies is None:
        policies, how = _default_policies(tenant)
    books: dict[date, PolicyBook] = {}

    def book_of(day: date) -> PolicyBook:
        if day not in books:
            books[day] = policies(day)
        return books[day]

    positions = position_list(tenant=tenant)
    if position_ids is not None:
        positions = positions.filter(id__in=position_ids)
    ids = list(positions.order_by("id").values_list("id", flat=True))
    responses = _responses(tenant, ids)
    days = [day_from + timedelta(days=k) for k in range((day_to - day_from).days + 1)]
    chunks = _chunked(ids)
    alerts: list[ReplayedAlert] = []
    episodes: list[Episode] = []
    for chunk_alerts, chunk_episodes in _chunks_replay(
        tenant, chunks, days, last_data_day, book_of, responses, progress
    ):
        alerts.extend(chunk_alerts)
        episodes.extend(chunk_episodes)
    if progress is not None:
        progress(len(days), len(days))
    planners = Membership.objects.filter(tenant=tenant, role=Role.PLANNER).count()
    return ReplayResult(
        tenant_id=tenant.pk,
        day_from=day_from,
        day_to=day_to,
        last_data_day=last_data_day,
        positions=len(ids),
        planners=planners,
        alerts=alerts,
        episodes=episodes,
        policies=how,
    )


def _chunked(ids: list[int]) -> list[list[int]]:
    """The positions in chunks of at most ``CHUNK_POSITIONS``, as many as a multiple of the processes
    that will replay them, so that none waits idle for the last."""
    count = -(-len(ids) // CHUNK_POSITIONS)
    processes = _processes(count)
    count = -(-count // processes) * processes
    size = -(-len(ids) // count) if count else 0
    return [ids[k : k + size] for k in range(0, len(ids), size)] if size else []


def _processes(chunks: int) -> int:
    """How many processes replay the chunks side by side: one per core, where the caller can fork.

    Not inside a transaction (another process would not see what it has not committed), nor in a
    daemonic process (a Celery pool's child may not have children): there, one chunk after another.
    """
    if chunks < 2 or connection.in_atomic_block or multiprocessing.current_process().daemon:
        return 1
    return min(chunks, os.cpu_count() or 1)


# What forked chunk processes inherit (set just before the pool forks): the replay's arguments, and
# a queue the children tell each day done on.
_FORKED: dict = {}


def _chunks_replay(
    tenant: Tenant,
    chunks: list[list[int]],
    days: list[date],
    last_data_day: date,
    book_of: Callable[[date], PolicyBook],
    responses: dict[int, list[tuple[date, str]]],
    progress: Callable[[int, int], None] | None,
) -> list[tuple[list[ReplayedAlert], list[Episode]]]:
    """Each chunk's alerts and episodes, in the chunks' order; told ``progress`` as days are done
    (a day of every chunk counts as one day)."""
    done, shown = 0, 0

    def told() -> None:
        nonlocal done, shown
        done += 1
        if progress is not None and done // len(chunks) > shown:
            shown = done // len(chunks)
            progress(shown, len(days))

    processes = _processes(len(chunks))
    if processes == 1:
        return [_chunk_replay(tenant, chunk, days, last_data_day, book_of, responses, told) for chunk in chunks]
    context = multiprocessing.get_context("fork")
    ticks = context.SimpleQueue()
    _FORKED.update(
        tenant=tenant, chunks=chunks, days=days, last=last_data_day, book_of=book_of, responses=responses, ticks=ticks
    )
    connections.close_all()  # each child opens its own; none may share the parent's socket
    try:
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            futures = [pool.submit(_forked_chunk, number) for number in range(len(chunks))]
            pending = set(futures)
            while pending:
                _, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                while not ticks.empty():
                    ticks.get()
                    told()
            return [future.result() for future in futures]
    finally:
        _FORKED.clear()


def _forked_chunk(number: int) -> tuple[list[ReplayedAlert], list[Episode]]:
    """One chunk, in a forked process, from what the parent left in ``_FORKED``."""
    state = _FORKED
    return _chunk_replay(
        state["tenant"],
        state["chunks"][number],
        state["days"],
        state["last"],
        state["book_of"],
        state["responses"],
        lambda: state["ticks"].put(1),
    )


def _responses(tenant: Tenant, ids: list[int]) -> dict[int, list[tuple[date, str]]]:
    """Each position's registered responses (RFQ awards, approved transfers, accepted markdowns), by day."""
    found: dict[int, list[tuple[date, str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.position_id, r.at, r.kind FROM ({responses_sql(tenant='%(tenant)s')}) r "  # noqa: S608 - registered SQL
            "WHERE r.position_id = ANY(%(ids)s::bigint[]) ORDER BY r.at",
            {"tenant": tenant.pk, "ids": bigint_array(ids)},
        )
        for position_id, at, kind in cursor.fetchall():
            found.setdefault(position_id, []).append((at.astimezone(UTC).date(), kind))
    return found


@dataclass
class _Open:
    opened_on: date
    first_grade: str
    peak_grade: str
    inputs: dict
    lead_time_days: int | None
    review_days: float
    reopened: bool


def _chunk_replay(
    tenant: Tenant,
    ids: list[int],
    days: list[date],
    last_data_day: date,
    book_of: Callable[[date], PolicyBook],
    responses: dict[int, list[tuple[date, str]]],
    told: Callable[[], None],
) -> tuple[list[ReplayedAlert], list[Episode]]:
    ledger = ledger_read(tenant=tenant, position_ids=ids, day_from=days[0], end=last_data_day)
    row_of = {static["id"]: n for n, static in enumerate(ledger.positions)}
    opened: dict[tuple, _Open] = {}
    resolved_last: dict[tuple, date] = {}
    closed: list[tuple[tuple, _Open, date | None]] = []
    for day in days:
        rows = ledger.rows_as_of(day)
        readings, trips = readings_assess(
            tenant=tenant,
            rows=rows,
            today=day,
            book=book_of(day),
            promotions_created_by=day_end(day),
            fingerprinted=False,
        )
        for key, trip in trips.items():
            state = opened.get(key)
            if state is None:
                reading = readings[key[0]]
                last = resolved_last.get(key)
                opened[key] = _Open(
                    opened_on=day,
                    first_grade=trip.grade,
                    peak_grade=trip.grade,
                    inputs=trip.inputs,
                    lead_time_days=reading["lead_time_days"],
                    review_days=float(reading["details"]["review_period_days"]),
                    reopened=last is not None and (day - last).days <= FLAP_DAYS,
                )
            elif GRADE_RANK[trip.grade] > GRADE_RANK[state.peak_grade]:
                state.peak_grade = trip.grade
        for key in [key for key in opened if key not in trips]:
            closed.append((key, opened.pop(key), day))
            resolved_last[key] = day
        told()
    closed.extend((key, state, None) for key, state in opened.items())
    outcomes = Outcomes(ledger, responses)
    alerts = []
    for (position_id, rule), state, resolved_on in closed:
        static = ledger.positions[row_of[position_id]]
        label = outcomes.label(
            row_of[position_id],
            position_id=position_id,
            rule=rule,
            opened_on=state.opened_on,
            inputs=state.inputs,
            review_days=state.review_days,
            velocity_class=static["velocity_class"],
        )
        alerts.append(
            ReplayedAlert(
                **_Placed.of(static),
                rule=rule,
                direction=RULES[rule].direction,
                opened_on=state.opened_on,
                resolved_on=resolved_on,
                first_grade=state.first_grade,
                peak_grade=state.peak_grade,
                outcome=label.outcome,
                outcome_on=label.outcome_on,
                lead_days=label.lead_days,
                lead_time_days=state.lead_time_days,
                reopened_within_week=state.reopened,
                inputs=state.inputs,
                averted_by=label.averted_by,
            )
        )
    alerts.sort(key=lambda alert: (alert.opened_on, alert.position_id, alert.rule))
    episodes = _episodes(ledger, outcomes, alerts, days[0], days[-1])
    return alerts, episodes


def _episodes(
    ledger: ChunkLedger, outcomes: Outcomes, alerts: list[ReplayedAlert], day_from: date, day_to: date
) -> list[Episode]:
    """The chunk's stock-out episodes starting in the period, each with the stock-out alerts that warned
    of it: opened before its first day and still open on it, or opened within their window before it."""
    warnings: dict[int, list[ReplayedAlert]] = {}
    for alert in alerts:
        if alert.direction == STOCK_OUT:
            warnings.setdefault(alert.position_id, []).append(alert)
    found = []
    for n, static in enumerate(ledger.positions):
        for started_on, ended_on in outcomes.episodes(n, day_from, day_to):
            by_rule: dict[str, dict] = {}
            for alert in warnings.get(static["id"], ()):
                if not _warns(alert, started_on):
                    continue
                seen = by_rule.get(alert.rule)
                if seen is None or alert.opened_on < seen["first_opened_on"]:
                    by_rule[alert.rule] = {
                        "first_opened_on": alert.opened_on,
                        "lead_days": (started_on - alert.opened_on).days,
                        "lead_time_days": alert.lead_time_days,
                        "peak_grade": alert.peak_grade,
                    }
                elif GRADE_RANK[alert.peak_grade] > GRADE_RANK[seen["peak_grade"]]:
                    seen["peak_grade"] = alert.peak_grade
            first = min(by_rule.items(), key=lambda item: (item[1]["first_opened_on"], item[0]), default=None)
            lead = first[1]["lead_days"] if first else None
            lead_time = first[1]["lead_time_days"] if first else None
            found.append(
                Episode(
                    **_Placed.of(static),
                    started_on=started_on,
                    ended_on=ended_on,
                    warned=first is not None,
                    warned_by=first[0] if first else None,
                    first_warned_on=first[1]["first_opened_on"] if first else None,
                    lead_days=lead,
                    lead_time_days=lead_time,
                    actionable=lead is not None and lead_time is not None and lead >= lead_time,
                    warnings=by_rule,
                )
            )
    return found


def _warns(alert: ReplayedAlert, started_on: date) -> bool:
    """Whether a stock-out alert warned of an episode starting on ``started_on``: opened before it, and
    still open on it or opened within its outcome window (lead time + review period) before it."""
    if alert.opened_on >= started_on:
        return False
    if alert.resolved_on is None or alert.resolved_on >= started_on:
        return True
    window = (alert.lead_time_days or 0) + DEFAULT_REVIEW_DAYS
    return (started_on - alert.opened_on).days <= window
