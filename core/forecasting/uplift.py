"""Promotions in a forecast: their days out of the base model's history, their uplift on the days ahead.

A promotion day does not show normal demand, so it is read like a censored day: the base model
(``fitting.forecast_history``) learns from the other days, and a promotion day of the history is
filled with its weekday's level around it (``history.weekday_imputed_series``), not with its sales.

The uplift of a promotion ahead is a multiplier of that base level, chosen in this order:

1. **learned**: the position's own past promotions, the ratio of units sold on their observed days
   (stock-out and flagged days stay out) to the base level of the same days (the weekday-imputed
   series with every promotion day taken out: the level of the weeks around them), pooled over every
   past promotion day. Few days say little, so the ratio is shrunk towards the prior below:
   ``(n x ratio + k x prior) / (n + k)`` with ``n`` the promotion days seen and k =
   ``SHRINKAGE_DAYS``; with a month of promotion days the history decides almost alone;
2. **stated**: the promotion's ``expected_uplift``, what the planner or the ERP expects;
3. **elasticity**: ``(1 - d)^e`` with ``d`` the discount and ``e`` the position's price elasticity
   (``elasticity``), where its sales history gives a usable one;
4. **default_elasticity**: the same with ``e`` = ``DEFAULT_ELASTICITY`` (-2), as the clearance playbook
   assumes; a promotion without a discount (a display, a feature) then has no uplift.

A history outweighs a statement because it measures this position's buyers at this position's
prices; a stated uplift outweighs the elasticity because the planner knows what else runs with the
promotion (display, advertising) that a price slope cannot see. The stated uplift, else the
elasticity, is also the prior the learned ratio shrinks to.

On a promotion day ahead the mean, P50 and daily quantile are multiplied by the uplift; the
cumulative quantile grows by the added mean (its spread is kept, not scaled).

``fitting.forecast_with_promotions`` fits the base and applies the uplifts; this module holds the
arithmetic only, so readers of uplifts (the engine's promotion reads) do not load the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from core.forecasting.elasticity import DEFAULT_ELASTICITY
from core.forecasting.history import DailyHistory, weekday_imputed_series

if TYPE_CHECKING:  # the fitting module imports this one, and statsforecast, which readers of uplifts need not load
    from core.forecasting.fitting import Forecast

SHRINKAGE_DAYS = 5
UPLIFT_BOUNDS = (0.2, 20.0)
SOURCES = ("learned", "stated", "elasticity", "default_elasticity")


@dataclass(frozen=True)
class PromotionWindow:
    """One promotion as a forecast reads it: its days (both inclusive) and what it offers."""

    id: str
    starts_on: date
    ends_on: date
    discount: float  # a fraction, 0 to 0.95
    expected_uplift: float | None = None

    def token(self) -> str:
        """What of it a forecast depends on, for the forecast's fingerprint."""
        return f"{self.id}:{self.starts_on}:{self.ends_on}:{self.discount:.4f}:{self.expected_uplift}"


@dataclass(frozen=True)
class Uplift:
    uplift: float
    source: str  # one of SOURCES
    learned_days: int = 0  # past promotion days the learned ratio read


def promoted_days(start: date, days: int, windows: Iterable[PromotionWindow]) -> np.ndarray:
    """Which of the ``days`` days from ``start`` fall in a promotion."""
    promoted = np.zeros(days, dtype=bool)
    for window in windows:
        first = max(0, (window.starts_on - start).days)
        last = min(days - 1, (window.ends_on - start).days)
        if first <= last:
            promoted[first : last + 1] = True
    return promoted


def base_history(history: DailyHistory, promoted: np.ndarray) -> DailyHistory:
    """The history with its promotion days read like censored days (the sales of such a day are not
    a lower bound on its normal demand, so they are dropped rather than kept as a floor)."""
    if not promoted.any():
        return history
    return DailyHistory(
        start=history.start,
        units=np.where(promoted, 0.0, history.units),
        censored=history.censored | promoted,
    )


def learned_ratio(history: DailyHistory, promoted: np.ndarray) -> tuple[float | None, int]:
    """Units sold on the observed promotion days / the base level of those days, and how many
    days that read (None when there were none, or no base level to compare with)."""
    seen = promoted & ~history.censored
    days = int(seen.sum())
    base = base_history(history, promoted)
    if days == 0 or base.observed_days == 0:
        return None, 0
    level = weekday_imputed_series(base)[seen].sum()
    if level <= 0:
        return None, 0
    return float(history.units[seen].sum() / level), days


def prior_uplift(window: PromotionWindow, elasticity: float | None) -> Uplift:
    """What is expected of the promotion without the position's own promotion history."""
    if window.expected_uplift is not None:
        return Uplift(float(window.expected_uplift), "stated")
    if elasticity is not None:
        return Uplift(_bounded((1 - window.discount) ** elasticity), "elasticity")
    return Uplift(_bounded((1 - window.discount) ** DEFAULT_ELASTICITY), "default_elasticity")


def promotion_uplift(window: PromotionWindow, *, ratio: float | None, days: int, elasticity: float | None) -> Uplift:
    """The uplift applied to the promotion (see the module for the order)."""
    prior = prior_uplift(window, elasticity)
    if ratio is None or days == 0:
        return prior
    blended = (days * ratio + SHRINKAGE_DAYS * prior.uplift) / (days + SHRINKAGE_DAYS)
    return Uplift(_bounded(blended), "learned", days)


def _bounded(value: float) -> float:
    return float(min(max(value, UPLIFT_BOUNDS[0]), UPLIFT_BOUNDS[1]))


def scaled(forecast: Forecast, factor: np.ndarray) -> Forecast:
    """The forecast with each day's mean, P50 and quantile multiplied by ``factor``; the cumulative
    quantile grows by the added mean."""
    mean = forecast.mean * factor
    cumulative = forecast.cumulative_quantile + np.cumsum(mean - forecast.mean)
    return replace(
        forecast,
        mean=mean,
        p50=forecast.p50 * factor,
        quantile=forecast.quantile * factor,
        cumulative_quantile=np.maximum.accumulate(np.maximum(cumulative, 0.0)),
    )
