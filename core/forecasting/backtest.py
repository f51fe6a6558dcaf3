"""Rolling-origin backtest of the forecasts, against the engine's moving average and a seasonal naive,
and an inventory replay of the reorder policy with either safety stock.

Accuracy. For each position, ``origins`` forecast origins ``step_days`` apart, the latest ending
``horizon`` days before the last day of data, so every forecast has its actuals. The horizon is the
position's lead time (primary supplier's, else the stock-out policy's default of 14 days) plus the
review period (7 days): the span a reorder decision has to cover. At each origin the pure
``forecast_history`` is fitted on the history before it (at most ``HISTORY_DAYS`` days) and compared
with what sold after it; on the same data the two baselines forecast from the same history:

- the 28-day moving average as the engine computes ``ads_28`` (units sold over 28 calendar days,
  stock-out days counted as sold, i.e. as zero or what little sold);
- the 7-day seasonal naive (the last week repeated), on the same raw days.

Censored days (a stock-out: the day ended with nothing on hand; or a day with flagged anomalous
units) are excluded from every error, for every method: what sold that day is not the demand. They
stay in the baselines' input, which is what the engine reads.

Metrics (core/forecasting/metrics.py): RMSSE per (position, origin) with the in-sample scale of the
history's observed days, WRMSSE weighting each by its units sold over the 28 days before the origin;
WAPE and bias over all observed horizon days of the group; pinball loss at the service level and
that daily quantile's coverage (the forecast only: the baselines give no quantile), and the
coverage of the cumulative (lead time + review) quantile where the whole horizon was observed.
Groups: the demand class the forecast found at that origin, the SKU's velocity class, and overall.

Promotions: the forecast at every origin knows the promotions of the position's SKU and warehouse
(planned ahead, as they are), reads their days out of the base model's history and scales the days
ahead by their uplift (``uplift``); the price elasticity it may fall back on is estimated from the
90 days before the earliest origin, so it never reads a day it is tested on. Over every horizon with
promotion days the report compares, on those days only, the forecast with the same forecast with
promotions ignored (fitted on the raw history, no uplift): WAPE and mean RMSSE of each and the
ratio (goal ≤ 0.7).

Inventory replay (``replay``): each position's last ``REPLAY_DAYS`` days, reviewed every 7 days;
see ``replay`` for the assumptions.

Reads are set-based: one query for the chunk's daily facts (inventory's selector) and one for its
lead times (supply's selector), never one per position.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np
from django.db import transaction
from django.utils import timezone

from core.forecasting import metrics
from core.forecasting.elasticity import price_responses
from core.forecasting.fitting import forecast_history, forecast_with_promotions
from core.forecasting.history import DailyHistory, closing_stock, daily_history, weekday_imputed_series
from core.forecasting.models import ForecastBacktest
from core.forecasting.promotion_selectors import promotion_windows
from core.forecasting.uplift import PromotionWindow, promoted_days
from core.inventory import selectors as inventory
from core.supply import selectors as supply
from tenants.models import Tenant

MIN_ORIGINS = 1
REVIEW_DAYS = 7
DEFAULT_LEAD_TIME_DAYS = 14  # the stock-out policy's default_lead_time_days
SERVICE_LEVEL = 0.95  # the stock-out policy's default service_level
HISTORY_DAYS = 182  # history a fit reads, at most: half a year
REPLAY_DAYS = 90
CHUNK = 200
METHODS = ("forecast", "moving_average_28", "seasonal_naive_7")
PROMOTION_METHODS = ("forecast", "promotions_ignored")
PROMOTION_GOAL = 0.7
PROMOTIONS = ("promotions", "promotion_days")  # the group key of the promotion days' figures


@dataclass
class _Accumulator:
    """Sums of one group and method, from which its metrics follow."""

    abs_error: float = 0.0
    error: float = 0.0
    actual: float = 0.0
    days: int = 0
    pinball: float = 0.0
    covered: int = 0
    horizons: int = 0
    horizons_covered: int = 0
    rmsse: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    positions: set[int] = field(default_factory=set)

    def add(self, *, actual: np.ndarray, forecast: np.ndarray, rmsse: float, weight: float) -> None:
        self.abs_error += float(np.abs(actual - forecast).sum())
        self.error += float((forecast - actual).sum())
        self.actual += float(actual.sum())
        self.days += int(actual.size)
        self.rmsse.append(rmsse)
        self.weights.append(weight)

    def add_quantile(self, *, actual: np.ndarray, quantile: np.ndarray, tau: float) -> None:
        if actual.size:
            self.pinball += metrics.pinball_loss(actual, quantile, tau) * actual.size
            self.covered += int((actual <= quantile).sum())

    def summary(self, *, with_quantile: bool) -> dict:
        out = {
            "positions": len(self.positions),
            "forecasts": len(self.rmsse),
            "observed_days": self.days,
            "units": round(self.actual, 2),
            "rmsse_mean": _figure(float(np.nanmean(self.rmsse)) if np.isfinite(self.rmsse).any() else None),
            "wrmsse": _figure(metrics.wrmsse(np.array(self.rmsse), np.array(self.weights))),
            "wape": _figure(self.abs_error / self.actual if self.actual > 0 else None),
            "bias": _figure(self.error / self.actual if self.actual > 0 else None),
        }
        if with_quantile:
            out["pinball_loss"] = _figure(self.pinball / self.days if self.days else None)
            out["coverage"] = _figure(self.covered / self.days if self.days else None)
            out["horizon_coverage"] = _figure(self.horizons_covered / self.horizons if self.horizons else None)
        return out


def _figure(value: float | None, digits: int = 4) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


@dataclass(frozen=True)
class PositionDays:
    """One position's dense daily arrays over the read window (day 0 = ``start``)."""

    position_id: int
    velocity_class: str
    lead_time: int
    lead_time_source: str
    start: date
    units: np.ndarray
    flagged: np.ndarray
    on_hand_end: np.ndarray
    promotions: tuple[PromotionWindow, ...] = ()
    elasticity: float | None = None


def _chunk_days(
    tenant: Tenant,
    positions: list[tuple],
    lead_times: dict[int, int],
    *,
    day_from: date,
    today: date,
    elasticity_day: date | None = None,
) -> list[PositionDays]:
    """The chunk's positions with their daily arrays, from one query for the chunk's facts, with
    their promotions (one query) and, for those with one, their price elasticity as of
    ``elasticity_day`` (one query)."""
    ids = [p[0] for p in positions]
    n = (today - day_from).days + 1
    units = {pid: np.zeros(n) for pid in ids}
    flagged = {pid: np.zeros(n) for pid in ids}
    net = {pid: np.zeros(n) for pid in ids}
    for pid, day, sold, flag, change in inventory.daily_fact_rows(
        tenant=tenant, position_ids=ids, day_from=day_from, day_to=today
    ).iterator(chunk_size=20000):
        i = (day - day_from).days
        units[pid][i], flagged[pid][i], net[pid][i] = sold, flag, change
    windows = promotion_windows(
        tenant_id=tenant.pk, positions=[(p[0], p[1], p[4]) for p in positions], day_from=day_from, day_to=today
    )
    responses = price_responses(tenant_id=tenant.pk, position_ids=list(windows), today=elasticity_day or day_from)
    out = []
    for pid, sku_id, velocity, on_hand, _ in positions:
        known = sku_id in lead_times
        response = responses.get(pid)
        out.append(
            PositionDays(
                position_id=pid,
                velocity_class=velocity,
                lead_time=int(lead_times[sku_id]) if known else DEFAULT_LEAD_TIME_DAYS,
                lead_time_source="primary supplier" if known else "policy default",
                start=day_from,
                units=units[pid],
                flagged=flagged[pid],
                on_hand_end=closing_stock(on_hand, net[pid]),
                promotions=tuple(windows.get(pid, ())),
                elasticity=response.elasticity if response else None,
            )
        )
    return out


def _history(days: PositionDays, end: int) -> DailyHistory:
    """The history of days [end - HISTORY_DAYS, end) of the window."""
    first = max(0, end - HISTORY_DAYS)
    return daily_history(
        start=days.start + timedelta(days=first),
        units_sold=days.units[first:end],
        units_flagged=days.flagged[first:end],
        on_hand_end=days.on_hand_end[first:end],
    )


def _censored(days: PositionDays) -> np.ndarray:
    return (days.flagged > 0) | (days.on_hand_end <= 0)


def backtest_position(days: PositionDays, *, origins: int, step_days: int, groups: dict, tau: float) -> None:
    """Add one position's forecasts at every origin to ``groups`` (key → method → accumulator)."""
    horizon = days.lead_time + REVIEW_DAYS
    n = days.units.size
    censored = _censored(days)
    for k in range(origins):
        cut = n - horizon - k * step_days  # the history is days [.., cut), the actuals [cut, cut + horizon)
        history = _history(days, cut)
        if history.observed_days == 0:
            continue  # nothing sold or held before the origin: the position did not exist yet
        raw = days.units[max(0, cut - HISTORY_DAYS) : cut]
        forecast, _ = forecast_with_promotions(
            history, horizon=horizon, service_level=tau, windows=days.promotions, elasticity=days.elasticity
        )
        actual_all = days.units[cut : cut + horizon]
        observed = ~censored[cut : cut + horizon]
        actual = actual_all[observed]
        insample = history.units[~history.censored]
        weight = float(raw[-metrics.MOVING_AVERAGE_DAYS :].sum())
        predictions = {
            "forecast": forecast.mean,
            "moving_average_28": metrics.moving_average_forecast(raw, horizon),
            "seasonal_naive_7": metrics.seasonal_naive_forecast(raw, horizon),
        }
        keys = (
            ("demand_class", str(forecast.demand_class)),
            ("velocity_class", days.velocity_class),
            ("overall", "all"),
        )
        for key in keys:
            for method, prediction in predictions.items():
                acc = groups[key][method]
                acc.positions.add(days.position_id)
                if actual.size:
                    value = metrics.rmsse(actual, prediction[observed], insample)
                    acc.add(actual=actual, forecast=prediction[observed], rmsse=value, weight=weight)
            acc = groups[key]["forecast"]
            acc.add_quantile(actual=actual, quantile=forecast.quantile[observed], tau=tau)
            if observed.all():
                acc.horizons += 1
                acc.horizons_covered += int(actual_all.sum() <= forecast.cumulative_quantile[-1])
        if days.promotions:
            on = promoted_days(days.start + timedelta(days=cut), horizon, days.promotions) & observed
            if on.any():
                ignored = forecast_history(history, horizon=horizon, service_level=tau).mean
                for method, prediction in (("forecast", forecast.mean), ("promotions_ignored", ignored)):
                    acc = groups[PROMOTIONS].setdefault(method, _Accumulator())
                    acc.positions.add(days.position_id)
                    value = metrics.rmsse(actual_all[on], prediction[on], insample)
                    acc.add(actual=actual_all[on], forecast=prediction[on], rmsse=value, weight=weight)


def replay(days: PositionDays, *, tau: float, replay_days: int = REPLAY_DAYS) -> dict[str, dict[str, float]]:
    """Replay the position's last ``replay_days`` days with the reorder policy, once per safety stock.

    Assumptions, kept simple on purpose:
    - demand each day is what sold, and on a censored day the weekday-imputed demand (never below
      what sold); unmet demand is lost, not backordered;
    - a review every 7 days (day 0 of the replay, then weekly) orders up to
      S = expected demand over (lead time + review period) + safety stock, when the inventory
      position (on hand + on order) is below S; the order arrives ``lead time`` days later, whole
      (the primary supplier's lead time, fixed; no minimum order, no capacity);
    - moving-average safety stock, as the stock-out rule's service-level method computes it:
      z(service level) * σ₂₈ * √lead time, with the expected demand ads₂₈ * (L + R) (σ₂₈ the sample
      standard deviation of the last 28 days' sales, stock-out days included, as the engine reads them);
    - forecast safety stock: the cumulative service-level quantile of lead-time demand minus its
      mean, with the expected demand the forecast's sum over (L + R), refitted at each review;
    - both start with on hand = their first order-up-to level and nothing on order.
    Fill rate = demand served / demand; average stock = mean end-of-day on hand.
    """
    n = days.units.size
    lead, z = days.lead_time, NormalDist().inv_cdf(tau)
    start = n - replay_days
    history = _history(days, n)
    # The demand of the whole window, censored days imputed, aligned with the window's days.
    demand = days.units.copy()
    offset = n - history.units.size
    demand[offset:] = weekday_imputed_series(history)

    def moving_average(cut: int) -> float:
        window = days.units[max(0, cut - 28) : cut]
        mean = float(window.sum()) / 28
        sigma = float(window.std(ddof=1)) if window.size > 1 else 0.0
        return mean * (lead + REVIEW_DAYS) + z * sigma * np.sqrt(lead)

    def forecast(cut: int) -> float:
        past = _history(days, cut)
        if past.observed_days == 0:
            return 0.0
        fc = forecast_history(past, horizon=lead + REVIEW_DAYS, service_level=tau)
        cumulative_mean = np.cumsum(fc.mean)
        safety = max(0.0, float(fc.cumulative_quantile[lead - 1] - cumulative_mean[lead - 1])) if lead > 0 else 0.0
        return float(cumulative_mean[-1]) + safety

    return {
        "moving_average": _simulate(demand, start=start, lead=lead, level=moving_average),
        "forecast": _simulate(demand, start=start, lead=lead, level=forecast),
    }


def _simulate(demand: np.ndarray, *, start: int, lead: int, level: Callable[[int], float]) -> dict[str, float]:
    on_hand = level(start)
    arriving: dict[int, float] = defaultdict(float)
    on_order = 0.0
    served = wanted = stock = 0.0
    for day in range(start, demand.size):
        if (day - start) % REVIEW_DAYS == 0 and day > start:
            target = level(day)
            if on_hand + on_order < target:
                quantity = target - on_hand - on_order
                arriving[day + lead] += quantity
                on_order += quantity
        received = arriving.pop(day, 0.0)
        on_hand += received
        on_order -= received
        sale = min(on_hand, demand[day])
        served += sale
        wanted += demand[day]
        on_hand -= sale
        stock += on_hand
    return {"demand": wanted, "served": served, "stock_days": stock, "days": demand.size - start}


def _replay_summary(totals: dict[str, dict[str, float]]) -> dict:
    out = {}
    for method, t in totals.items():
        out[method] = {
            "fill_rate": _figure(t["served"] / t["demand"] if t["demand"] else None),
            "average_stock": _figure(t["stock_days"] / t["days"] if t["days"] else None, 2),
        }
    ma, fc = out["moving_average"], out["forecast"]
    out["forecast_stock_vs_moving_average"] = _figure(
        fc["average_stock"] / ma["average_stock"] if ma["average_stock"] else None
    )
    return out


def forecast_backtest_run(
    *,
    tenant: Tenant,
    origins: int = 6,
    step_days: int = 7,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Backtest every position of the tenant, store the report as its latest, and return it.

    ``today`` is the last day of data (default: yesterday, the last complete day); ``progress`` is called with the
    number of positions each chunk finished."""
    if origins < MIN_ORIGINS:
        raise ValueError(f"origins must be at least {MIN_ORIGINS}, not {origins}")
    if step_days < 1:
        raise ValueError(f"step_days must be at least 1, not {step_days}")
    today = today or timezone.localdate() - timedelta(days=1)
    tau = SERVICE_LEVEL
    groups: dict = defaultdict(lambda: {method: _Accumulator() for method in METHODS})
    replay_totals = {m: defaultdict(float) for m in ("moving_average", "forecast")}
    replay_by_velocity: dict = defaultdict(lambda: {m: defaultdict(float) for m in ("moving_average", "forecast")})
    positions = list(
        inventory.position_list(tenant=tenant).values_list(
            "id", "sku_id", "sku__velocity_class", "on_hand", "warehouse_id"
        )
    )
    for first in range(0, len(positions), CHUNK):
        chunk = positions[first : first + CHUNK]
        # Enough days for the longest horizon's earliest origin and the replay, plus a fit's history.
        lead_times = supply.primary_lead_times(tenant_id=tenant.pk, sku_ids=sorted({p[1] for p in chunk}))
        longest = max(lead_times.values(), default=DEFAULT_LEAD_TIME_DAYS)
        span = max(max(longest, DEFAULT_LEAD_TIME_DAYS) + REVIEW_DAYS + (origins - 1) * step_days, REPLAY_DAYS)
        day_from = today - timedelta(days=span + HISTORY_DAYS - 1)
        # The elasticity a promotion may fall back on is read before the earliest origin of the chunk.
        earliest = day_from + timedelta(days=HISTORY_DAYS - 1)
        for days in _chunk_days(tenant, chunk, lead_times, day_from=day_from, today=today, elasticity_day=earliest):
            backtest_position(days, origins=origins, step_days=step_days, groups=groups, tau=tau)
            if days.units[-REPLAY_DAYS:].sum() > 0:
                result = replay(days, tau=tau)
                for method, figures in result.items():
                    for name, value in figures.items():
                        replay_totals[method][name] += value
                        replay_by_velocity[days.velocity_class][method][name] += value
        if progress:
            progress(len(chunk))
    report = _report(groups, replay_totals, replay_by_velocity, origins=origins, step_days=step_days, today=today)
    parameters = {"origins": origins, "step_days": step_days, "today": today.isoformat(), "service_level": tau}
    with transaction.atomic():
        ForecastBacktest.objects.update_or_create(
            tenant=tenant, defaults={"ran_at": timezone.now(), "parameters": parameters, "report": report}
        )
    return report


def _report(groups: dict, replay_totals: dict, replay_by_velocity: dict, **run: object) -> dict:
    def section(kind: str) -> dict:
        return {
            name: {method: acc.summary(with_quantile=method == "forecast") for method, acc in by_method.items()}
            for (k, name), by_method in sorted(groups.items())
            if k == kind
        }

    def promotions() -> dict | None:
        if PROMOTIONS not in groups:
            return None  # no horizon had an observed promotion day
        figures = {method: groups[PROMOTIONS][method].summary(with_quantile=False) for method in PROMOTION_METHODS}
        with_, without = figures["forecast"], figures["promotions_ignored"]
        return {
            **figures,
            "wape_ratio": _figure(
                with_["wape"] / without["wape"] if with_["wape"] is not None and without["wape"] else None
            ),
            "rmsse_ratio": _figure(
                with_["rmsse_mean"] / without["rmsse_mean"]
                if with_["rmsse_mean"] is not None and without["rmsse_mean"]
                else None
            ),
            "goal": PROMOTION_GOAL,
        }

    overall = section("overall").get("all")  # None: no position had anything to compare
    ratios = {}
    if overall:
        fc = overall["forecast"]["wrmsse"]
        for baseline in ("moving_average_28", "seasonal_naive_7"):
            base = overall[baseline]["wrmsse"]
            ratios[baseline] = _figure(fc / base if fc is not None and base else None)
    return {
        "today": run["today"].isoformat(),
        "origins": run["origins"],
        "step_days": run["step_days"],
        "horizon": f"lead time (primary supplier's, else {DEFAULT_LEAD_TIME_DAYS} days) + {REVIEW_DAYS}-day review",
        "service_level": SERVICE_LEVEL,
        "censored": (
            "Stock-out days (ended with nothing on hand) and days with flagged anomalous units are excluded from"
            " every error, for every method; they stay in the baselines' input, as the engine reads them."
        ),
        "overall": overall,
        "wrmsse_ratio": ratios,
        "by_demand_class": section("demand_class"),
        "by_velocity_class": section("velocity_class"),
        "promotions": promotions(),
        "inventory_replay": {
            "days": REPLAY_DAYS,
            "review_days": REVIEW_DAYS,
            "assumptions": (
                "Demand = sales, censored days weekday-imputed; lost sales; weekly review ordering up to"
                " expected demand over lead time + review + safety stock; fixed primary lead time; both"
                " policies start at their order-up-to level."
            ),
            "overall": _replay_summary(replay_totals) if replay_totals["forecast"] else None,
            "by_velocity_class": {
                velocity: _replay_summary(totals) for velocity, totals in sorted(replay_by_velocity.items())
            },
        },
    }


def forecast_backtest_latest(*, tenant: Tenant) -> ForecastBacktest | None:
    """The tenant's stored report, or None when no backtest has run for it."""
    return ForecastBacktest.objects.filter(tenant=tenant).first()
