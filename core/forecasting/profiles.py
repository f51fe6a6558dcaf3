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
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from core.forecasting.fitting import Forecast
from core.forecasting.history import DailyHistory
from core.inventory.models import IndustryProfile
from core.inventory.selectors import sku_profile_terms
from tenants.models import Tenant


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
    """The promotions applied to a forecast (``fitting.forecast_with_promotions``), each with its
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
