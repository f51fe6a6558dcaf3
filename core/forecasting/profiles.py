"""Industry profiles in the forecast, and the stock projections the profile rules read.

A category's profile decides what its SKUs' forecasts read of the master data:

- **apparel**, monthly coefficients (``Category.seasonal_coefficients``, January first, mean 1):
  each day takes the coefficient of its calendar month. The history is divided by its days'
  coefficients before the model sees it, so the level a model fits is de-seasonalised (a history
  read in a peak month is not taken for a higher level, a rise into the peak not for a trend);
  each forecast day is then multiplied by its own month's coefficient, quantiles included (the
  errors are taken as proportional to the level). Coefficients with the same ratio to each other
  give the same forecast: only their shape counts, the mean of 1 is for reading them.
- **apparel**, season end (``Sku.season_ends_on``, the last day of full-price selling): no demand
  is forecast after it. What is left then is sold at a markdown or not at all, and the markdown's
  demand is the markdown playbook's to estimate from price elasticity, not this forecast's: zero
  keeps "stock left when the season ends" the figure the season-end overstock rule reads.
- **electronics**, end of life (``Sku.end_of_life_on``, the last selling day): no demand after it.
- fmcg and general: nothing here (expiry is the lots' business).

What was applied is added to the forecast's ``reason``; what is read is part of the forecast's
fingerprint, so a change of it refits the position. Promotions (``uplift``) are fitted and applied
on the de-seasonalised history, the profile after them: a promotion's uplift is learned against
the level of its own month, and a promotion after the last selling day sells nothing.

The projection functions at the bottom are pure: a stock, a daily demand series starting on its
origin (a stored forecast's ``mean``, or a quantile series), optional arrivals, and a day.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from core.forecasting.fitting import Forecast
from core.forecasting.history import DailyHistory
from core.inventory.models import IndustryProfile
from core.inventory.selectors import sku_profile_terms
from tenants.models import Tenant

SEASON_DAYS = 7  # beyond the forecast's horizon, its last week repeats (the models' weekly season)


@dataclass(frozen=True)
class ProfileTerms:
    """What a SKU's profile makes its positions' forecasts read."""

    profile: str
    coefficients: tuple[float, ...] | None = None  # apparel: 12 monthly, January first
    season_ends_on: date | None = None  # apparel
    end_of_life_on: date | None = None  # electronics

    @property
    def last_selling_day(self) -> date | None:
        """The last day with demand: the season end for apparel, the end of life for electronics."""
        if self.profile == IndustryProfile.APPAREL:
            return self.season_ends_on
        if self.profile == IndustryProfile.ELECTRONICS:
            return self.end_of_life_on
        return None

    @property
    def acts(self) -> bool:
        return self.last_selling_day is not None or (
            self.profile == IndustryProfile.APPAREL and self.coefficients is not None
        )

    def fingerprint(self) -> str:
        """The terms as text, for the forecast's fingerprint."""
        coefficients = ",".join(f"{c!r}" for c in self.coefficients) if self.coefficients else ""
        return f"{self.profile}|{coefficients}|{self.last_selling_day}"


def profile_terms_read(*, tenant: Tenant, sku_ids: Iterable[object]) -> dict[object, ProfileTerms]:
    """The terms of those of ``sku_ids`` whose profile changes their forecasts, by SKU id (one query)."""
    found = {}
    for sku_id, profile, coefficients, season_ends_on, end_of_life_on in sku_profile_terms(
        tenant=tenant, sku_ids=sku_ids
    ):
        terms = ProfileTerms(
            profile=profile,
            coefficients=tuple(coefficients) if coefficients and profile == IndustryProfile.APPAREL else None,
            season_ends_on=season_ends_on,
            end_of_life_on=end_of_life_on,
        )
        if terms.acts:
            found[sku_id] = terms
    return found


def daily_coefficients(start: date, days: int, coefficients: tuple[float, ...]) -> np.ndarray:
    """Each day's monthly coefficient, for ``days`` days from ``start``."""
    months = np.array([(start + timedelta(days=k)).month - 1 for k in range(days)], dtype=np.int64)
    return np.asarray(coefficients, dtype=np.float64)[months]


def history_deseasonalised(history: DailyHistory, terms: ProfileTerms | None) -> DailyHistory:
    """The history divided by its days' monthly coefficients (apparel with coefficients), else as it is."""
    if terms is None or terms.profile != IndustryProfile.APPAREL or terms.coefficients is None:
        return history
    factors = daily_coefficients(history.start, history.units.size, terms.coefficients)
    return replace(history, units=history.units / factors)


def forecast_profiled(forecast: Forecast, terms: ProfileTerms | None, *, origin: date) -> Forecast:
    """The forecast (day 1 = ``origin``, fitted on ``history_deseasonalised``) with the profile's
    monthly coefficients and last selling day applied, and what was applied added to its reason."""
    if terms is None or not terms.acts:
        return forecast
    horizon = forecast.mean.size
    factor = np.ones(horizon)
    notes = []
    if terms.profile == IndustryProfile.APPAREL and terms.coefficients is not None:
        factor *= daily_coefficients(origin, horizon, terms.coefficients)
        # The months are named, not their coefficients: a supplier reads the reason but not the
        # figures, and the coefficients are the shape of the demand.
        notes.append(
            "apparel: history divided by its days' monthly coefficients, each forecast day multiplied by its "
            f"month's ({_months_read(origin, horizon)})"
        )
    last = terms.last_selling_day
    alive = horizon
    if last is not None:
        alive = int(np.clip((last - origin).days + 1, 0, horizon))
        factor[alive:] = 0.0
        what = "season ends" if terms.profile == IndustryProfile.APPAREL else "end of life"
        notes.append(f"{terms.profile}: {what} {last.isoformat()}, no demand forecast after it")
    mean = forecast.mean * factor
    cumulative = _cumulative_scaled(forecast.cumulative_quantile, forecast.mean, mean, factor)
    if alive < horizon:
        cumulative[alive:] = cumulative[alive - 1] if alive else 0.0
    return replace(
        forecast,
        mean=mean,
        p50=forecast.p50 * factor,
        quantile=forecast.quantile * factor,
        cumulative_quantile=np.maximum.accumulate(cumulative),
        reason="; ".join(part for part in (forecast.reason, *notes) if part),
    )


def promotions_restated(applied: list[dict], mean: np.ndarray, *, origin: date) -> list[dict]:
    """The promotions applied to a forecast (``uplift.forecast_with_promotions``), each with its
    ``promoted_mean`` read again from the profiled series: the monthly coefficients scale a
    promotion's days too, and none is sold after the last selling day."""
    horizon = mean.size
    restated = []
    for promotion in applied:
        first = max(0, (date.fromisoformat(promotion["starts_on"]) - origin).days)
        last = min(horizon - 1, (date.fromisoformat(promotion["ends_on"]) - origin).days)
        promoted = float(mean[first : last + 1].sum()) if last >= first else 0.0
        restated.append({**promotion, "promoted_mean": round(promoted, 3)})
    return restated


def _cumulative_scaled(cumulative: np.ndarray, mean: np.ndarray, scaled: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """The cumulative quantile in proportion to the cumulative mean (or, where that is 0, to the
    mean factor so far)."""
    before, after = np.cumsum(mean), np.cumsum(scaled)
    average_factor = np.cumsum(factor) / np.arange(1, factor.size + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(before > 0, after / before, average_factor)
    return np.asarray(cumulative, dtype=np.float64) * ratio


def _months_read(origin: date, horizon: int) -> str:
    months: list[int] = []
    for k in range(horizon):
        month = (origin + timedelta(days=k)).month
        if not months or months[-1] != month:
            months.append(month)
    return ", ".join(calendar.month_abbr[m] for m in months)


# --- Projections for the profile rules -------------------------------------------------------------


def demand_through(demand: np.ndarray, days: int) -> np.ndarray:
    """The first ``days`` days of ``demand``; past its end, its last week repeated (a forecast whose
    profile stopped its demand repeats zeros)."""
    demand = np.asarray(demand, dtype=np.float64)
    if days <= demand.size:
        return demand[:days]
    if demand.size == 0:
        return np.zeros(days)
    week = demand[-min(SEASON_DAYS, demand.size) :]
    return np.concatenate((demand, np.resize(week, days - demand.size)))


def arrivals_by_day(inbound: Mapping[date, float] | None, *, origin: date, days: int) -> np.ndarray:
    """Units arriving on each of ``days`` days from ``origin``. An arrival dated before the origin
    (overdue, or in transit without a day) counts on day 1; one after the last day not at all."""
    out = np.zeros(days)
    for day, quantity in (inbound or {}).items():
        k = max(0, (day - origin).days)
        if k < days:
            out[k] += float(quantity)
    return out


def projected_stock(
    *, stock: float, demand: np.ndarray, origin: date, through: date, inbound: Mapping[date, float] | None = None
) -> np.ndarray:
    """Stock at the end of each day from ``origin`` through ``through``: yesterday's stock plus the
    day's arrivals minus the day's demand, never below 0. Demand the shelf cannot meet is lost, not
    owed: goods arriving after a stock-out are not eaten by the demand of the days without stock.
    Where stock never runs out before the last arrival this is stock + arrivals so far - cumulative
    demand so far."""
    days = (through - origin).days + 1
    if days <= 0:
        return np.zeros(0)
    daily = demand_through(demand, days)
    arriving = arrivals_by_day(inbound, origin=origin, days=days)
    if not arriving[1:].any():
        # One starting stock: the closed form, without a loop.
        return np.maximum(float(stock) + arriving[0] - np.cumsum(daily), 0.0)
    closing = np.empty(days)
    level = float(stock)
    for k in range(days):
        level = max(level + arriving[k] - daily[k], 0.0)
        closing[k] = level
    return closing


def projected_unsold(
    *, stock: float, demand: np.ndarray, origin: date, on: date, inbound: Mapping[date, float] | None = None
) -> float:
    """Units projected left unsold at the end of day ``on`` (the season end, the end of life): the
    stock, plus what arrives by then, minus what the forecast sells by then, floored at 0. The
    stock as it is when ``on`` is before ``origin``."""
    if on < origin:
        return max(float(stock), 0.0)
    return float(projected_stock(stock=stock, demand=demand, origin=origin, through=on, inbound=inbound)[-1])


def stockout_on(
    *, stock: float, demand: np.ndarray, origin: date, through: date, inbound: Mapping[date, float] | None = None
) -> date | None:
    """The first day that ends with no stock while demand is still forecast, through ``through``;
    None if stock lasts (or nothing is left to sell for). The origin itself when there is no stock."""
    closing = projected_stock(stock=stock, demand=demand, origin=origin, through=through, inbound=inbound)
    daily = demand_through(demand, closing.size)
    empty = np.flatnonzero((closing <= 0) & (daily > 0))
    return origin + timedelta(days=int(empty[0])) if empty.size else None


def run_down_per_day(
    *, stock: float, demand: np.ndarray, origin: date, on: date, inbound: Mapping[date, float] | None = None
) -> float:
    """Units a day to sell on top of the forecast, from ``origin`` through ``on``, for nothing to be
    left then: the projected unsold stock spread over those days (0 when nothing is left; the whole
    stock at once when ``on`` has passed)."""
    unsold = projected_unsold(stock=stock, demand=demand, origin=origin, on=on, inbound=inbound)
    days = (on - origin).days + 1
    return unsold / days if days > 0 else unsold


def projected_unsold_many(*, stock: np.ndarray, demand: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``projected_unsold`` for many positions at once, for a set-based reader: ``stock`` one value
    per position (what it has to sell, arrivals due by day 1 included), ``demand`` a row of daily
    demand per position from a common origin, ``days`` how many days each position sells for
    (its last selling day - origin + 1; 0 or less: none, past the row: its last week repeats).
    Without later arrivals lost sales change nothing, so this is max(stock - demand over its days, 0)."""
    stock = np.asarray(stock, dtype=np.float64)
    days = np.asarray(days, dtype=np.int64)
    demand = np.asarray(demand, dtype=np.float64).reshape(stock.size, -1)
    longest = max(int(days.max(initial=0)), demand.shape[1])
    if longest > demand.shape[1]:
        demand = np.vstack([demand_through(row, longest) for row in demand]) if stock.size else demand
    totals = np.concatenate((np.zeros((stock.size, 1)), np.cumsum(demand, axis=1)), axis=1)
    sold = totals[np.arange(stock.size), np.clip(days, 0, longest)]
    return np.maximum(stock - sold, 0.0)
