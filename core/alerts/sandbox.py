"""The what-if sandbox: the engine's own reading and grading of some positions, before and after a scenario.

A planner asks "what if this promotion runs, demand doubles for a fortnight, the supplier is a week
late, or I move stock from here to there?" The answer must be what the engine would say, so the
sandbox reads the positions' indicator rows with the engine's statement (``indicator_rows``, under
the engine's session settings), grades them with the engine's ``readings_assess`` (before), applies
the scenario to those rows (the inputs the engine derives from, never the figures it derives), grades
them again (after), and projects stock day by day with ``core.alerts.projection`` on both readings.
The semantics of each scenario kind are in docs/console.md, "What-if sandbox".

Nothing is written: the whole run is one read-only savepoint, rolled back at its end, so neither an
alert, a reading, an outbox event nor a ledger line can come of it (PostgreSQL refuses the write).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core.alerts.engine import _session_settings, readings_assess
from core.alerts.indicators import TAIL_DAYS, indicator_rows
from core.alerts.models import Alert, Grade, RuleCode
from core.alerts.policies import PolicyBook
from core.alerts.projection import projected_stock
from core.alerts.rules import Trip
from core.forecasting.elasticity import price_responses
from core.forecasting.promotion_selectors import UpcomingPromotion
from core.forecasting.uplift import PromotionWindow, prior_uplift
from core.inventory.models import Position, Sku, Warehouse
from tenants.models import Tenant

HORIZON_DAYS = 60  # days of projected stock shown, from today (day 0)
MAX_POSITIONS = 5_000  # one engine chunk: what the engine itself grades at once
MAX_DAYS = 365
MAX_FACTOR = 20.0
PROMOTION, DEMAND_SHOCK, SUPPLIER_DELAY, TRANSFER = "promotion", "demand_shock", "supplier_delay", "transfer"
KINDS = (PROMOTION, DEMAND_SHOCK, SUPPLIER_DELAY, TRANSFER)
KIND_LABELS = {
    PROMOTION: "Promotion",
    DEMAND_SHOCK: "Demand shock",
    SUPPLIER_DELAY: "Supplier delay",
    TRANSFER: "Transfer",
}
# The id an assumed promotion carries in the promotion-shortfall rule's explanation.
ASSUMED_PROMOTION_ID = "what-if"
_SYNTHETIC_SERVICE_LEVEL = 0.95
_SYNTHETIC_Z = 1.6448536269514722  # NormalDist().inv_cdf(0.95)
_GRADE_ORDER = {Grade.YELLOW: 1, Grade.ORANGE: 2, Grade.RED: 3}


@dataclass(frozen=True)
class Scenario:
    """One scenario; only the values of its kind are read.

    promotion: ``discount_percent`` for ``days`` days from ``start_offset`` days ahead; demand shock:
    demand x ``factor`` for ``days`` days from ``start_offset``; supplier delay: ``delay_days`` more
    lead time; transfer: ``quantity`` of ``transfer_sku`` from ``from_warehouse`` to ``to_warehouse``.
    """

    kind: str
    discount_percent: float | None = None
    days: int | None = None
    start_offset: int = 0
    factor: float | None = None
    delay_days: int | None = None
    quantity: int | None = None
    transfer_sku: str = ""
    from_warehouse: str = ""
    to_warehouse: str = ""

    def describe(self) -> str:
        """The scenario in words, for the page's summary."""
        starting = "from today" if self.start_offset == 0 else f"from day {self.start_offset}"
        if self.kind == PROMOTION:
            return f"A {self.discount_percent:g} % promotion for {self.days} days {starting}"
        if self.kind == DEMAND_SHOCK:
            return f"Demand x {self.factor:g} for {self.days} days {starting}"
        if self.kind == SUPPLIER_DELAY:
            return f"Lead time + {self.delay_days} days"
        return f"Transfer {self.quantity} of {self.transfer_sku} from {self.from_warehouse} to {self.to_warehouse}"


@dataclass
class Side:
    """One position as the engine reads it, before or after the scenario."""

    stock: list[float]  # projected stock at the end of each day of the horizon (day 0 = today)
    days_of_cover: float | None
    days_of_cover_source: str
    stock_out_days: int  # days of the horizon whose projected stock is 0 or less
    first_stock_out_day: int | None  # the first such day (0 = today), None within the horizon
    trips: dict[str, str]  # rule -> grade the engine gives
    reading: dict = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class AlertChange:
    """A rule of a position: its active alert now, its trip before and after, and what the engine's diff
    would do with the alert after the scenario (opens, clears, escalates, de-escalates, stays)."""

    rule: str
    active_grade: str | None
    before_grade: str | None
    after_grade: str | None
    outcome: str

    @property
    def by_scenario(self) -> bool:
        """Whether the scenario, not the time since the last evaluation, makes the difference."""
        return self.before_grade != self.after_grade


@dataclass
class PositionOutcome:
    position_id: int
    sku: str
    warehouse: str
    before: Side
    after: Side
    alerts: list[AlertChange]

    @property
    def opening(self) -> list[AlertChange]:
        return [change for change in self.alerts if change.outcome == "opens"]

    @property
    def clearing(self) -> list[AlertChange]:
        return [change for change in self.alerts if change.outcome == "clears"]


@dataclass
class SandboxResult:
    today: date
    horizon: int
    scenario: Scenario
    positions: list[PositionOutcome]
    stock_before: list[float]  # rolled up: the positions' projected stock summed per day
    stock_after: list[float]

    def days(self) -> list[date]:
        return [self.today + timedelta(days=d) for d in range(self.horizon)]

    def summary(self) -> dict:
        """The rolled-up figures: positions stocking out, stock-out position-days, the earliest stock-out
        day, the day the summed stock runs out, and the alerts opening and clearing."""

        def side(name: str, rolled: list[float]) -> dict:
            sides = [getattr(outcome, name) for outcome in self.positions]
            firsts = [s.first_stock_out_day for s in sides if s.first_stock_out_day is not None]
            return {
                "positions_stocking_out": sum(1 for s in sides if s.first_stock_out_day is not None),
                "stock_out_days": sum(s.stock_out_days for s in sides),
                "first_stock_out_day": min(firsts) if firsts else None,
                "rolled_up_stock_out_day": _first_out(rolled),
                "trips": sum(len(s.trips) for s in sides),
            }

        return {
            "positions": len(self.positions),
            "before": side("before", self.stock_before),
            "after": side("after", self.stock_after),
            "opening": sum(len(outcome.opening) for outcome in self.positions),
            "clearing": sum(len(outcome.clearing) for outcome in self.positions),
        }


def _first_out(stock: list[float]) -> int | None:
    return next((day for day, units in enumerate(stock) if units <= 0), None)


def scenario_validate(scenario: Scenario) -> None:
    """Refuse values out of range with a message per field (ValidationError)."""
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if scenario.kind not in KINDS:
        raise ValidationError({"kind": [f"Unknown scenario kind {scenario.kind!r}; one of {', '.join(KINDS)}."]})
    if scenario.kind in (PROMOTION, DEMAND_SHOCK):
        if scenario.days is None or not 1 <= scenario.days <= MAX_DAYS:
            refuse("days", f"A whole number of days from 1 to {MAX_DAYS} (got {_shown(scenario.days)}).")
        if not 0 <= scenario.start_offset <= MAX_DAYS:
            refuse("start_offset", f"From 0 (today) to {MAX_DAYS} days ahead (got {scenario.start_offset}).")
    if scenario.kind == PROMOTION:
        discount = scenario.discount_percent
        if discount is None or not math.isfinite(discount) or not 0 < discount < 100:
            refuse("discount_percent", f"The discount is a percentage above 0 and below 100 (got {_shown(discount)}).")
    if scenario.kind == DEMAND_SHOCK:
        factor = scenario.factor
        if factor is None or not math.isfinite(factor) or not 0 < factor <= MAX_FACTOR:
            refuse("factor", f"The demand factor k is above 0 and at most {MAX_FACTOR:g} (got {_shown(factor)}).")
    if scenario.kind == SUPPLIER_DELAY and (scenario.delay_days is None or not 1 <= scenario.delay_days <= MAX_DAYS):
        refuse(
            "delay_days",
            f"The delay is a whole number of days from 1 to {MAX_DAYS} (got {_shown(scenario.delay_days)}).",
        )
    if scenario.kind == TRANSFER:
        if scenario.quantity is None or scenario.quantity < 1:
            refuse(
                "quantity", f"The transfer quantity is a whole number of at least 1 (got {_shown(scenario.quantity)})."
            )
        for name in ("transfer_sku", "from_warehouse", "to_warehouse"):
            if not getattr(scenario, name):
                refuse(name, "Required for a transfer.")
        if scenario.from_warehouse and scenario.from_warehouse == scenario.to_warehouse:
            refuse("to_warehouse", "A transfer goes to another warehouse than its source.")
    if errors:
        raise ValidationError(errors)


def _shown(value: object) -> str:
    return "nothing" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def sandbox_positions(
    *, tenant: Tenant, sku_codes: list[str], warehouse_codes: list[str] | None, scenario: Scenario
) -> list[int]:
    """The ids of the positions the scenario covers: the chosen SKUs in the chosen warehouses (every
    warehouse when ``warehouse_codes`` is None), and a transfer's two positions. Unknown codes (another
    tenant's included) and too many positions are refused."""
    errors: dict[str, list[str]] = {}
    if not sku_codes and scenario.kind != TRANSFER:  # a transfer's own two positions suffice
        errors["skus"] = ["Choose at least one SKU code."]
    skus = dict(Sku.objects.filter(tenant=tenant, code__in=sku_codes).values_list("code", "id"))
    if unknown := [code for code in sku_codes if code not in skus]:
        errors["skus"] = [f"Unknown SKU code{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."]
    warehouses: dict[str, object] = {}
    if warehouse_codes is not None:
        if not warehouse_codes:
            errors["warehouses"] = ["Choose at least one warehouse code, or all."]
        warehouses = dict(Warehouse.objects.filter(tenant=tenant, code__in=warehouse_codes).values_list("code", "id"))
        if unknown := [code for code in warehouse_codes if code not in warehouses]:
            errors["warehouses"] = [f"Unknown warehouse code{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."]
    transfer_ids: list[int] = []
    if scenario.kind == TRANSFER:
        transfer_ids = _transfer_positions(tenant, scenario, errors)
    if errors:
        raise ValidationError(errors)
    positions = Position.objects.filter(tenant=tenant, sku_id__in=list(skus.values()))
    if warehouse_codes is not None:
        positions = positions.filter(warehouse_id__in=list(warehouses.values()))
    ids = sorted(set(positions.values_list("id", flat=True)[: MAX_POSITIONS + 1]) | set(transfer_ids))
    if len(ids) > MAX_POSITIONS:
        raise ValidationError(
            {"skus": [f"More than {MAX_POSITIONS:,} positions: choose fewer SKUs or warehouses (one engine chunk)."]}
        )
    if not ids:
        raise ValidationError({"skus": ["These SKUs have no position in these warehouses."]})
    return ids


def _transfer_positions(tenant: Tenant, scenario: Scenario, errors: dict[str, list[str]]) -> list[int]:
    """The transfer's source and destination positions; the source must spare the quantity."""
    sku = Sku.objects.filter(tenant=tenant, code=scenario.transfer_sku).first()
    if sku is None:
        errors.setdefault("transfer_sku", []).append(f"Unknown SKU code: {scenario.transfer_sku}.")
        return []
    found = {}
    for name in ("from_warehouse", "to_warehouse"):
        code = getattr(scenario, name)
        position = Position.objects.filter(tenant=tenant, sku=sku, warehouse__code=code).first()
        if position is None:
            known = Warehouse.objects.filter(tenant=tenant, code=code).exists()
            message = f"{sku.code} has no stock position at {code}." if known else f"Unknown warehouse code: {code}."
            errors.setdefault(name, []).append(message)
        else:
            found[name] = position
    source = found.get("from_warehouse")
    if source is not None and scenario.quantity is not None:
        available = source.on_hand - source.reserved
        if scenario.quantity > available:
            errors.setdefault("quantity", []).append(
                f"A transfer of {scenario.quantity} is more than the {max(available, 0)} available "
                f"of {sku.code} at {scenario.from_warehouse}."
            )
    return [position.pk for position in found.values()]


def sandbox_run(
    *,
    tenant: Tenant,
    sku_codes: list[str],
    warehouse_codes: list[str] | None,
    scenario: Scenario,
    today: date | None = None,
    horizon: int = HORIZON_DAYS,
) -> SandboxResult:
    """The chosen positions before and after the scenario, as the engine reads and grades them, with
    their projected stock over ``horizon`` days and the alerts that would open or clear. Writes nothing."""
    scenario_validate(scenario)
    today = today or timezone.now().date()
    ids = sandbox_positions(tenant=tenant, sku_codes=sku_codes, warehouse_codes=warehouse_codes, scenario=scenario)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Whatever the engine's code does in here, PostgreSQL refuses to write it; the savepoint's
            # rollback lifts the setting again for a caller's transaction.
            cursor.execute("SET LOCAL transaction_read_only = on")
            _session_settings(cursor)
            rows = indicator_rows(cursor, tenant_id=tenant.pk, position_ids=ids, today=today)
        book = PolicyBook(tenant)
        before, before_trips = readings_assess(tenant=tenant, rows=rows, today=today, book=book, fingerprinted=False)
        changed, assumed = _scenario_applied(tenant, rows, before, book, scenario, today, horizon)
        after, after_trips = readings_assess(
            tenant=tenant, rows=changed, today=today, book=book, fingerprinted=False, promotions_assumed=assumed
        )
        active = list(
            Alert.objects.filter(tenant=tenant, active=True, position_id__in=ids).values_list(
                "position_id", "rule", "grade"
            )
        )
        codes = {
            pid: (sku, warehouse)
            for pid, sku, warehouse in Position.objects.filter(tenant=tenant, id__in=ids).values_list(
                "id", "sku__code", "warehouse__code"
            )
        }
        transaction.set_rollback(True)
    active_by: dict[int, dict[str, str]] = {}
    for position_id, rule, grade in active:
        active_by.setdefault(position_id, {})[rule] = grade
    graded = [(before, _grades_by_position(before_trips)), (after, _grades_by_position(after_trips))]
    outcomes = []
    for row in rows:
        pid = row["id"]
        sides = [_side(readings[pid], grades.get(pid, {}), horizon) for readings, grades in graded]
        outcomes.append(
            PositionOutcome(
                position_id=pid,
                sku=codes[pid][0],
                warehouse=codes[pid][1],
                before=sides[0],
                after=sides[1],
                alerts=_alert_changes(active_by.get(pid, {}), sides[0].trips, sides[1].trips),
            )
        )
    outcomes.sort(key=lambda outcome: (outcome.sku, outcome.warehouse))
    rolled_before = np.sum([o.before.stock for o in outcomes], axis=0).round(2).tolist()
    rolled_after = np.sum([o.after.stock for o in outcomes], axis=0).round(2).tolist()
    return SandboxResult(
        today=today,
        horizon=horizon,
        scenario=scenario,
        positions=outcomes,
        stock_before=rolled_before,
        stock_after=rolled_after,
    )


def _grades_by_position(trips: dict[tuple, Trip]) -> dict[int, dict[str, str]]:
    grades: dict[int, dict[str, str]] = {}
    for (position_id, rule), trip in trips.items():
        grades.setdefault(position_id, {})[rule] = trip.grade
    return grades


def _side(reading: dict, trips: dict[str, str], horizon: int) -> Side:
    stock = [round(projected_stock(reading, day), 2) for day in range(horizon)]
    return Side(
        stock=stock,
        days_of_cover=reading["days_of_cover"],
        days_of_cover_source=reading["days_of_cover_source"],
        stock_out_days=sum(1 for units in stock if units <= 0),
        first_stock_out_day=_first_out(stock),
        trips=trips,
        reading=reading,
    )


def _alert_changes(active: dict[str, str], before: dict[str, str], after: dict[str, str]) -> list[AlertChange]:
    """Per rule, what the engine's diff would do with the position's alert were the scenario true:
    open an alert where none is active, clear (resolve) an active one no longer tripped, re-grade one."""
    changes = []
    for rule in sorted(active.keys() | before.keys() | after.keys()):
        now, then = active.get(rule), after.get(rule)
        if now is None:
            outcome = "opens" if then is not None else "stays"
        elif then is None:
            outcome = "clears"
        elif _GRADE_ORDER[then] > _GRADE_ORDER[now]:
            outcome = "escalates"
        elif _GRADE_ORDER[then] < _GRADE_ORDER[now]:
            outcome = "de-escalates"
        else:
            outcome = "stays"
        changes.append(AlertChange(rule, now, before.get(rule), then, outcome))
    return changes


def _scenario_applied(
    tenant: Tenant,
    rows: list[dict],
    before: dict[int, dict],
    book: PolicyBook,
    scenario: Scenario,
    today: date,
    horizon: int,
) -> tuple[list[dict], dict[int, UpcomingPromotion]]:
    """The indicator rows as they would read under the scenario, and the promotion it assumes by position."""
    changed = [dict(row) for row in rows]
    assumed: dict[int, UpcomingPromotion] = {}
    if scenario.kind == SUPPLIER_DELAY:
        for row in changed:
            stock_out = book.for_sku(row["sku_id"], row["category_id"], row["velocity_class"])[RuleCode.STOCK_OUT_RISK]
            lead = row["lead_time"] if row["lead_time"] is not None else stock_out.parameters["default_lead_time_days"]
            longest = row["longest_lead_time"] if row["longest_lead_time"] is not None else lead
            row["lead_time"] = float(lead) + scenario.delay_days
            row["longest_lead_time"] = float(longest) + scenario.delay_days
    elif scenario.kind == TRANSFER:
        sku = Sku.objects.get(tenant=tenant, code=scenario.transfer_sku)
        codes = dict(
            Warehouse.objects.filter(
                tenant=tenant, code__in=[scenario.from_warehouse, scenario.to_warehouse]
            ).values_list("id", "code")
        )
        for row in changed:
            if row["sku_id"] != sku.pk:
                continue
            code = codes.get(row["warehouse_id"])
            if code == scenario.from_warehouse:
                row["on_hand"] = row["on_hand"] - scenario.quantity
            elif code == scenario.to_warehouse:
                row["in_transit"] = (row["in_transit"] or 0) + scenario.quantity
    else:
        start, days = scenario.start_offset, scenario.days
        factors = {row["id"]: scenario.factor for row in changed} if scenario.kind == DEMAND_SHOCK else {}
        if scenario.kind == PROMOTION:
            window = PromotionWindow(
                id=ASSUMED_PROMOTION_ID,
                starts_on=today + timedelta(days=start),
                ends_on=today + timedelta(days=start + days - 1),
                discount=scenario.discount_percent / 100,
            )
            responses = price_responses(tenant_id=tenant.pk, position_ids=[row["id"] for row in rows], today=today)
            for row in changed:
                response = responses.get(row["id"])
                uplift = prior_uplift(window, response.elasticity if response else None)
                factors[row["id"]] = uplift.uplift
                assumed[row["id"]] = UpcomingPromotion(
                    promotion_id=window.id,
                    starts_on=window.starts_on,
                    ends_on=window.ends_on,
                    discount_percent=round(scenario.discount_percent, 2),
                    uplift=uplift.uplift,
                    uplift_source=uplift.source,
                    promoted_mean=None,
                )
        for row in changed:
            carried = _demand_scaled(row, before[row["id"]], factors[row["id"]], start, days, today, horizon)
            if carried is not None and row["id"] in assumed:
                # The scaled series carries the uplift, as a forecast fitted with the promotion does.
                assumed[row["id"]] = _with_promoted_mean(assumed[row["id"]], carried)
    return changed, assumed


def _with_promoted_mean(promotion: UpcomingPromotion, promoted_mean: float) -> UpcomingPromotion:
    return UpcomingPromotion(**{**promotion.__dict__, "promoted_mean": promoted_mean})


def _demand_scaled(
    row: dict, reading: dict, factor: float, start: int, days: int, today: date, horizon: int
) -> float | None:
    """Scale the demand the engine projects from on the scenario's days, in place, and answer the units
    projected over those days, scaled (None when the position has no demand to scale).

    With a fresh forecast: its daily mean on those days times ``factor``, and its cumulative quantile
    up by the mean added (the spread kept), as ``core.forecasting.uplift.scaled`` applies a promotion;
    a series ending before the scenario does is first carried on at its last week's mean, as the engine
    carries it. Without one: the engine's 28-day average as a day-by-day series, scaled likewise, with
    the quantile spread of the z x sigma x sqrt(days) the service-level safety stock assumes.
    """
    end = start + days  # exclusive, in days from today
    if row["forecast_mean"]:
        shift = int(row["forecast_shift"])
        mean = [float(value) for value in row["forecast_mean"]]
        quantile = [float(value) for value in row["forecast_cumulative_quantile"]]
        last_week = mean[-min(len(mean), TAIL_DAYS) :]
        tail = sum(last_week) / len(last_week)
        while len(mean) < shift + end + TAIL_DAYS:
            mean.append(tail)
            quantile.append(quantile[-1] + tail)
    else:
        rate = float(reading["ads_28"])
        if rate <= 0:
            return None
        sigma = float(reading["demand_sigma_28"] or 0.0)
        shift, length = 0, max(horizon, end) + TAIL_DAYS
        mean = [rate] * length
        quantile = [rate * (t + 1) + _SYNTHETIC_Z * sigma * math.sqrt(t + 1) for t in range(length)]
        row.update(
            forecast_shift=0,
            forecast_model="28-day average (what-if)",
            forecast_demand_class="moving average",
            forecast_origin=today,
            forecast_service_level=_SYNTHETIC_SERVICE_LEVEL,
        )
    promoted = 0.0
    running = 0.0  # the mean added so far: the cumulative quantile grows by it
    for index in range(len(mean)):
        if shift + start <= index < shift + end:
            extra = mean[index] * (factor - 1)
            mean[index] += extra
            running += extra
            promoted += mean[index]
        quantile[index] = max(quantile[index] + running, quantile[index - 1] if index else 0.0)
    row["forecast_mean"], row["forecast_cumulative_quantile"] = mean, quantile
    return promoted
