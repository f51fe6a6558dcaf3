"""The warnings' measured study (issue 18, "Measured, not asserted"): a tenant of its own, a planner
simulated over it, and the figures of the default policy against the tuned one.

The study tenant is the demo's generator (core/demo/synthetic.py) with another seed, two changes and
a longer history:

- one category, the planner's, is replenished deep: each order covers ``PLANNER_ORDER_DAYS`` of the
  outlook instead of the demo's three weeks. Its planner holds that up to ``PLANNER_COVER_DAYS`` (60)
  days of cover is fine, so an overstock or slow-moving alert there on stock that covers 60 days or
  less is a false alarm to them, while the default overstock standard (45 turnover days for a cash
  cow) trips on it;
- a share of every category's replenishment orders lands late (``LATE_SHARE``, ``LATE_DAYS``), so the
  ledger has stock-out episodes a warning could have seen coming, enough to measure recall on.

Its history is ``WARM_UP_DAYS`` (the 90 days the replay reads before its first day) plus the period
replayed, split in two halves: the planner judges the first half's alerts, the tuner learns from
them, and the second half is replayed with the default policies and with the tuned ones.

The planner's judgement (``planner_judgements``): in their category, an overstock or slow-moving alert
is judged by its cover when it opened (on hand at the end of that day over the average daily sales of
the 28 days up to it, from the daily facts), the day it opened: ``PLANNER_COVER_DAYS`` or less is a
false alarm, more (or stock that did not sell at all) a real problem, confirmed. Every other alert is
judged by what the ledger says followed it (the replay's outcome), on the day it did: a false one a
false alarm, a true or averted one confirmed, a pending one not judged.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
from django.core.exceptions import ValidationError

from core.alerts.models import AlertPolicy
from core.demo.loading import demo_ledger_load, demo_master_load
from core.demo.synthetic import ORDER_DAYS, DemoPlan, Scale
from core.inventory.ingestion import IngestResult
from core.inventory.models import DailyFact, Position
from tenants import services
from tenants.models import Tenant
from tenants.selectors import audit_events

if TYPE_CHECKING:
    from core.demo.synthetic import _PositionSpec

WARM_UP_DAYS = 90
# The study's sizes: the demo's scales with the warm-up before the period replayed.
STUDY_SCALES = {
    "tiny": Scale(regions=2, warehouses=5, categories_per_profile=1, skus=100, days=WARM_UP_DAYS + 90),
    "small": Scale(regions=4, warehouses=8, categories_per_profile=1, skus=160, days=WARM_UP_DAYS + 150),
    "medium": Scale(regions=6, warehouses=20, categories_per_profile=3, skus=1_000, days=WARM_UP_DAYS + 150),
}
STUDY_SEED = 1818  # the demo's default is 42
STUDY_TENANT_SLUG = "quality-study"

PLANNER_COVER_DAYS = 60
PLANNER_RULES = ("overstock", "slow_moving")
PLANNER_ORDER_DAYS = (70, 100)
LATE_SHARE = 0.15
LATE_DAYS = (5, 18)

FALSE_ALARM, CONFIRMED = "false_alarm", "confirmed"
COVER_SALES_DAYS = 28
STUDY_ACTOR = "quality_study"
STUDY_SEEDED = "quality_study.seeded"


class QualityStudyPlan(DemoPlan):
    """The demo's plan with the planner's category replenished deep and some orders landing late."""

    def __init__(self, *, scale: Scale, seed: int, today: date) -> None:
        super().__init__(scale=scale, seed=seed, today=today)
        self.planner_category = self._planner_category()
        planner_skus = {row["code"] for row in self.skus if row["category"] == self.planner_category}
        rng = random.Random(f"tripline-quality-study:{seed}:orders")  # noqa: S311 - reproducible, not secret
        # Each position of the planner's category keeps an order depth of its own.
        self._order_days = {
            (spec.sku.code, spec.warehouse): (
                rng.randint(*PLANNER_ORDER_DAYS) if spec.sku.code in planner_skus else ORDER_DAYS
            )
            for spec in self._positions
        }

    def _planner_category(self) -> str:
        """The category with the most cash-cow SKUs (the first in code order among equals): its
        positions turn fastest, so the default standard (45 turnover days) trips on deep stock there."""
        counts = {row["code"]: 0 for row in self.categories}
        for row in self.skus:
            counts[row["category"]] += row["velocity_class"] == "cash_cow"
        return max(sorted(counts), key=lambda code: counts[code])

    def _replenishment(self, spec: _PositionSpec, index: int, outlook: float) -> tuple[int, int]:
        # Whether an order lands late is drawn from the order itself (seed, position, day), so the
        # demo's generator draws what it drew without the study.
        draw = random.Random(f"tripline-quality-study:{self.seed}:{spec.sku.code}:{spec.warehouse}:{index}")  # noqa: S311
        late = draw.randint(*LATE_DAYS) if draw.random() < LATE_SHARE else 0
        days = self._order_days[(spec.sku.code, spec.warehouse)]
        return index + spec.sku.lead_time + late, max(5, math.ceil(outlook * days))


def quality_study_plan(*, scale: str, seed: int, today: date) -> QualityStudyPlan:
    """The study's data at a scale of ``STUDY_SCALES``, with yesterday as the last day of the ledger."""
    if scale not in STUDY_SCALES:
        raise ValueError(f"Unknown study scale {scale!r}; choose one of {', '.join(STUDY_SCALES)}.")
    return QualityStudyPlan(scale=STUDY_SCALES[scale], seed=seed, today=today)


@dataclass(frozen=True)
class StudyPeriod:
    """The days replayed: after the warm-up to yesterday, cut in two halves."""

    day_from: date
    middle: date  # the first half's last day
    day_to: date

    @classmethod
    def of(cls, *, first_day: date, today: date, warm_up: int = WARM_UP_DAYS) -> StudyPeriod:
        day_from, day_to = first_day + timedelta(days=warm_up), today - timedelta(days=1)
        if day_to < day_from + timedelta(days=1):
            raise ValueError(f"No days to replay after a {warm_up}-day warm-up from {first_day} to {day_to}.")
        return cls(day_from=day_from, middle=day_from + (day_to - day_from) // 2, day_to=day_to)

    @property
    def second_from(self) -> date:
        return self.middle + timedelta(days=1)

    def as_dict(self) -> dict:
        return {
            "from": self.day_from.isoformat(),
            "first_half_to": self.middle.isoformat(),
            "second_half_from": self.second_from.isoformat(),
            "to": self.day_to.isoformat(),
        }


def quality_study_seed(
    *, slug: str, plan: QualityStudyPlan, scale: str, on_batch: Callable[[int, IngestResult], None] | None = None
) -> tuple[Tenant, bool]:
    """The study tenant loaded with the plan through the ingestion services (as ``seed_demo`` loads
    the demo), and whether it was seeded now. A tenant seeded before with the same scale, seed and
    day is taken as it is while it has no alert policy (the study's default figures are the
    built-in defaults'); any other existing tenant is refused."""
    arguments = {"scale": scale, "seed": plan.seed, "today": plan.today.isoformat()}
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is not None:
        seeded = audit_events(tenant=tenant, actions=[STUDY_SEEDED]).last()
        if seeded is None or seeded.data != arguments:
            raise ValidationError(
                f"Tenant {slug!r} exists and was not seeded by the study with {arguments}: give another --tenant."
            )
        if AlertPolicy.objects.filter(tenant=tenant).exists():
            raise ValidationError(
                f"Tenant {slug!r} holds alert policies (a study ran the tuner on it): give another --tenant, "
                "so the default policy is measured on a tenant without any."
            )
        return tenant, False
    tenant = services.tenant_create(slug=slug, name=f"Quality study (seed {plan.seed})", actor=STUDY_ACTOR)
    demo_master_load(tenant=tenant, plan=plan)
    demo_ledger_load(tenant=tenant, plan=plan, on_batch=on_batch)
    services.audit_record(tenant=tenant, actor=STUDY_ACTOR, action=STUDY_SEEDED, target=tenant, data=arguments)
    return tenant, True


# --- The simulated planner -----------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedPlanner:
    """Who judges the study's alerts: their category, and the cover they find fine there."""

    category_code: str
    cover_days: float = PLANNER_COVER_DAYS
    rules: tuple[str, ...] = PLANNER_RULES

    def finds_fine(self, *, category_code: str, rule: str, cover: float | None) -> bool:
        """Whether the planner holds this alert's stock to be no problem at all."""
        return (
            category_code == self.category_code
            and rule in self.rules
            and cover is not None
            and cover <= self.cover_days
        )


@dataclass(frozen=True)
class Judgement:
    """The planner's word on one replayed alert (``alert`` is a ``ReplayedAlert``), and the day they
    could give it: the opening day for their rule of thumb, the outcome's day for the others (None
    when the replay gives the outcome no day)."""

    alert: object
    verdict: str  # FALSE_ALARM | CONFIRMED
    cover_days: float | None
    known_on: date | None
    why: str


def cover_at_opening(*, tenant: object, alerts: Iterable[object]) -> dict[tuple[int, date], float | None]:
    """Days of cover of each alert's position at the end of the day it opened, as the planner reads
    it off the ledger: on hand then over the average daily sales of the 28 days up to that day
    (None when nothing sold: no cover figure, unbounded). On hand at the end of a past day is on
    hand now less the net changes after it."""
    wanted: dict[int, set[date]] = {}
    for alert in alerts:
        wanted.setdefault(alert.position_id, set()).add(alert.opened_on)
    if not wanted:
        return {}
    first = min(min(days) for days in wanted.values()) - timedelta(days=COVER_SALES_DAYS - 1)
    on_hand_now = dict(Position.objects.filter(tenant=tenant, pk__in=list(wanted)).values_list("id", "on_hand"))
    facts: dict[int, list[tuple[date, int, int]]] = {}
    for position_id, day, sold, net in (
        DailyFact.objects.filter(tenant=tenant, position_id__in=list(wanted), day__gte=first)
        .order_by("position_id", "day")
        .values_list("position_id", "day", "units_sold", "net_change")
    ):
        facts.setdefault(position_id, []).append((day, sold, net))
    covers: dict[tuple[int, date], float | None] = {}
    for position_id, days in wanted.items():
        rows = facts.get(position_id, [])
        fact_days = np.array([(day - first).days for day, _, _ in rows], dtype=np.int64)
        sold = np.array([units for _, units, _ in rows], dtype=np.float64)
        net = np.array([change for _, _, change in rows], dtype=np.float64)
        for day in days:
            index = (day - first).days
            after = net[fact_days > index].sum()
            window = (fact_days > index - COVER_SALES_DAYS) & (fact_days <= index)
            daily = sold[window].sum() / COVER_SALES_DAYS
            stock = on_hand_now.get(position_id, 0) - after
            covers[(position_id, day)] = round(stock / daily, 1) if daily > 0 else None
    return covers


def planner_judgements(*, tenant: object, planner: SimulatedPlanner, alerts: list) -> list[Judgement]:
    """The planner's verdict on each alert (``ReplayedAlert``s) their rule of thumb or its outcome lets
    them judge (see the module); pending alerts outside their rule of thumb get none."""
    own = [alert for alert in alerts if alert.category_code == planner.category_code and alert.rule in planner.rules]
    covers = cover_at_opening(tenant=tenant, alerts=own)
    verdicts = []
    for alert in alerts:
        cover = covers.get((alert.position_id, alert.opened_on))
        if alert.category_code == planner.category_code and alert.rule in planner.rules:
            shown = "no sales in 28 days" if cover is None else f"{cover:g} days of cover"
            if planner.finds_fine(category_code=alert.category_code, rule=alert.rule, cover=cover):
                why = f"{shown}, at most {planner.cover_days:g}: fine in {planner.category_code}"
                verdicts.append(Judgement(alert, FALSE_ALARM, cover, alert.opened_on, why))
            else:
                why = f"{shown}, beyond {planner.cover_days:g}: a real problem in {planner.category_code}"
                verdicts.append(Judgement(alert, CONFIRMED, cover, alert.opened_on, why))
        elif alert.outcome == "false":
            verdicts.append(Judgement(alert, FALSE_ALARM, cover, alert.outcome_on, "nothing followed it"))
        elif alert.outcome in ("true", "averted"):
            why = "its outcome followed" if alert.outcome == "true" else "a response came before the outcome"
            verdicts.append(Judgement(alert, CONFIRMED, cover, alert.outcome_on, why))
    return verdicts
