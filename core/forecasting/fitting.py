"""Fit and forecast one position: the model its demand class calls for, and its quantiles.

Pure: numpy arrays in and out; the models are Nixtla's statsforecast classes called directly on
one array (``Model().forecast(y=..., h=..., fitted=True)``), without its pandas front end, which
costs more per series than the intermittent models' fit.

Model per class (``DEFAULT_MODEL``; ``model`` names another of ``MODELS`` instead):

- intermittent → Croston SBA (bias-corrected Croston); lumpy → TSB (its demand probability decays
  when demand stops, which is what a lumpy, possibly dying item needs). Both read the observed days
  only (``history.model_input``).
- smooth and erratic → Theta with a weekly season (classical decomposition when statsforecast's
  seasonality test finds one), on the weekday-imputed calendar.
- too short (``demand_class.MIN_OBSERVED_DAYS``) → ``seasonal_naive_fallback``: the last week
  repeated (the mean of the days seen when there is less than a week; zero with none), with the
  reason.

Quantiles. The intermittent models have no native intervals in statsforecast (only conformal ones,
symmetric, from refits), and the Gaussian intervals of Theta/ETS are symmetric too, while daily
demand is skewed and never negative. So every model's quantiles come the same way, from its own
in-sample errors, which also makes them cheap (no second fit):

- errors are centred on their mean (the forecast ahead is taken as unbiased; the in-sample fit of
  Croston-type models runs high after their initialisation) and the first ``BURN_IN_DAYS`` fitted
  days are skipped when the history can spare them;
- daily quantile τ on day d: max(0, mean_d + Q_τ(r)), r = y - fitted (one-step errors). For an
  intermittent item most r are about -mean (days without demand), so its P50 is about 0 and its
  P95 a demand size;
- cumulative quantile τ through day k (what safety stock and days of cover need: the quantile of
  demand over a lead time, not the sum of daily quantiles): cumsum(mean)_k + Q_τ(e_k), e_k the
  in-sample errors of k-day sums. For the flat models these are exact k-step errors (the forecast
  from day t on is fitted_t for every day); for the seasonal ones the sum of k one-step errors.
  Where the history has fewer than ``MIN_WINDOWS`` k-day windows, the last measured error
  quantile grows with sqrt(k) (independent daily errors). Kept non-decreasing and ≥ 0.
- the fallback has too few errors to read, so it assumes Poisson demand (a lower bound on the
  spread of real demand, said in its reason).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from scipy.stats import poisson
from statsforecast.models import IMAPA, TSB, CrostonSBA, Theta

from core.forecasting.demand_class import MIN_OBSERVED_DAYS, Classification, DemandClass, classify
from core.forecasting.history import DailyHistory, model_input, weekday_imputed_series
from core.forecasting.uplift import (
    PromotionWindow,
    base_history,
    learned_ratio,
    promoted_days,
    promotion_uplift,
    scaled,
)

SEASON_DAYS = 7
FALLBACK_MODEL = "seasonal_naive_fallback"
# Fewer k-day windows than this and the k-day error quantile is extrapolated instead of read.
MIN_WINDOWS = 28
BURN_IN_DAYS = 14
TSB_ALPHA_DEMAND = 0.1
TSB_ALPHA_PROBABILITY = 0.1

MODELS: dict[str, Callable[[], Any]] = {
    "croston_sba": CrostonSBA,
    "tsb": lambda: TSB(alpha_d=TSB_ALPHA_DEMAND, alpha_p=TSB_ALPHA_PROBABILITY),
    "imapa": IMAPA,
    "theta_weekly": lambda: Theta(season_length=SEASON_DAYS),
}
# Models whose forecast is one level for every day ahead.
FLAT_MODELS = frozenset({"croston_sba", "tsb", "imapa"})
DEFAULT_MODEL: dict[DemandClass, str] = {
    DemandClass.SMOOTH: "theta_weekly",
    DemandClass.ERRATIC: "theta_weekly",
    DemandClass.INTERMITTENT: "croston_sba",
    DemandClass.LUMPY: "tsb",
}


@dataclass(frozen=True)
class Forecast:
    """One position's forecast: day 1 is the day after the history's last day."""

    model: str
    classification: Classification
    service_level: float
    mean: np.ndarray  # expected demand per day
    p50: np.ndarray  # daily median
    quantile: np.ndarray  # daily service-level quantile
    cumulative_quantile: np.ndarray  # service-level quantile of demand summed over days 1..k
    reason: str = ""  # why the fallback was used; empty for a class's model

    @property
    def demand_class(self) -> DemandClass:
        return self.classification.demand_class


def forecast_history(
    history: DailyHistory,
    *,
    horizon: int,
    service_level: float = 0.95,
    model: str | None = None,
    min_observed_days: int = MIN_OBSERVED_DAYS,
) -> Forecast:
    """Classify the history, fit its class's model (or ``model``) and forecast ``horizon`` days."""
    classification = classify(history.units, history.censored, min_observed_days=min_observed_days)
    if classification.demand_class == DemandClass.TOO_SHORT:
        return seasonal_naive_fallback(
            history,
            horizon=horizon,
            service_level=service_level,
            classification=classification,
            reason=(
                f"{classification.observed_days} observed days, fewer than the {min_observed_days} a demand class needs"
            ),
        )
    name = model or DEFAULT_MODEL[classification.demand_class]
    y = model_input(history, classification.demand_class)
    mean, fitted = fit_forecast(y, model=name, horizon=horizon)
    p50, daily, cumulative = residual_quantiles(y, fitted, mean, service_level=service_level, flat=name in FLAT_MODELS)
    return Forecast(
        model=name,
        classification=classification,
        service_level=service_level,
        mean=mean,
        p50=p50,
        quantile=daily,
        cumulative_quantile=cumulative,
    )


def fit_forecast(y: np.ndarray, *, model: str, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The model's mean forecast (clipped at 0) and its in-sample one-step fitted values (NaN where
    it has none, e.g. the first day)."""
    series = np.ascontiguousarray(y, dtype=np.float64)
    # statsmodels' seasonality test divides by a zero variance on a constant series: harmless.
    with np.errstate(divide="ignore", invalid="ignore"):
        out = MODELS[model]().forecast(y=series, h=horizon, fitted=True)
    return np.maximum(out["mean"], 0.0), np.asarray(out["fitted"], dtype=np.float64)


def residual_quantiles(
    y: np.ndarray, fitted: np.ndarray, mean: np.ndarray, *, service_level: float, flat: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily P50, daily service-level quantile and cumulative service-level quantile (see the module)."""
    y = np.asarray(y, dtype=np.float64)
    fitted = np.asarray(fitted, dtype=np.float64)
    known = np.isfinite(fitted)
    # The first fitted values mostly reflect the model's initialisation: leave them out when the
    # history is long enough to spare them.
    first = np.flatnonzero(known)
    if first.size > BURN_IN_DAYS + MIN_WINDOWS:
        known[: first[BURN_IN_DAYS]] = False
    residuals = (y - fitted)[known]
    horizon = mean.size
    if residuals.size == 0:
        return mean.copy(), mean.copy(), np.cumsum(mean)
    # Centred: the forecast ahead is taken as unbiased, the errors give the spread and the shape.
    centred = residuals - residuals.mean()
    p50 = np.maximum(mean + np.quantile(centred, 0.5), 0.0)
    daily = np.maximum(mean + np.quantile(centred, service_level), 0.0)
    offsets = _window_error_quantiles(y[known], fitted[known], horizon, service_level, flat=flat)
    cumulative = np.maximum.accumulate(np.maximum(np.cumsum(mean) + offsets, 0.0))
    return p50, daily, cumulative


def _window_error_quantiles(y: np.ndarray, fitted: np.ndarray, horizon: int, tau: float, *, flat: bool) -> np.ndarray:
    """Q_τ of the in-sample k-day sum errors, centred on their mean, for k = 1..horizon."""
    m = y.size
    measured = max(1, min(horizon, m - MIN_WINDOWS + 1))
    ks = np.arange(1, measured + 1)
    starts = np.arange(m)
    ends = starts[None, :] + ks[:, None]  # shape (k, start): the window is [start, end)
    valid = ends <= m
    ends = np.minimum(ends, m)
    y_sums = np.concatenate(([0.0], np.cumsum(y)))
    actual = y_sums[ends] - y_sums[starts[None, :]]
    if flat:
        predicted = ks[:, None] * fitted[None, :]
    else:
        f_sums = np.concatenate(([0.0], np.cumsum(fitted)))
        predicted = f_sums[ends] - f_sums[starts[None, :]]
    errors = actual - predicted
    errors = np.where(valid, errors - (np.where(valid, errors, 0).sum(axis=1) / valid.sum(axis=1))[:, None], np.nan)
    # Row-wise quantile with linear interpolation, NaNs sorted last (np.nanquantile loops per row).
    errors.sort(axis=1)
    counts = valid.sum(axis=1)
    position = (counts - 1) * tau
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, counts - 1)
    rows = np.arange(ks.size)
    quantiles = errors[rows, low] + (position - low) * (errors[rows, high] - errors[rows, low])
    if measured == horizon:
        return quantiles
    rest = np.arange(measured + 1, horizon + 1)
    return np.concatenate((quantiles, quantiles[-1] * np.sqrt(rest / measured)))


def seasonal_naive_fallback(
    history: DailyHistory,
    *,
    horizon: int,
    service_level: float,
    classification: Classification | None = None,
    reason: str = "",
) -> Forecast:
    """The last week repeated, with Poisson quantiles; for histories too short for a class's model."""
    if classification is None:
        classification = classify(history.units, history.censored)
    y = weekday_imputed_series(history) if history.observed_days else np.zeros(0)
    if y.size >= SEASON_DAYS:
        mean = np.resize(y[-SEASON_DAYS:], horizon)
        basis = "the last week repeated"
    elif y.size:
        mean = np.full(horizon, float(y.mean()))
        basis = "the mean of the days seen (less than a week)"
    else:
        mean = np.zeros(horizon)
        basis = "zero (no observed day)"
    mean = mean.astype(np.float64)
    return Forecast(
        model=FALLBACK_MODEL,
        classification=classification,
        service_level=service_level,
        mean=mean,
        p50=poisson.ppf(0.5, mean),
        quantile=poisson.ppf(service_level, mean),
        cumulative_quantile=poisson.ppf(service_level, np.cumsum(mean)),
        reason="; ".join(
            part for part in (reason, f"forecast: {basis}", "quantiles: Poisson, no error history to read") if part
        ),
    )


def forecast_with_promotions(
    history: DailyHistory,
    *,
    horizon: int,
    service_level: float,
    windows: Sequence[PromotionWindow] = (),
    elasticity: float | None = None,
    model: str | None = None,
) -> tuple[Forecast, list[dict]]:
    """The base forecast (promotion days of the history out) with the uplift of every promotion
    ahead applied, and what was applied: one entry per promotion with days in the horizon."""
    promoted = promoted_days(history.start, history.units.size, windows)
    forecast = forecast_history(
        base_history(history, promoted), horizon=horizon, service_level=service_level, model=model
    )
    origin = history.end + timedelta(days=1)
    ahead = [w for w in windows if w.ends_on >= origin and w.starts_on < origin + timedelta(days=horizon)]
    if not ahead:
        return forecast, []
    ratio, days = learned_ratio(history, promoted) if promoted.any() else (None, 0)
    factor = np.ones(horizon)
    applied = []
    for window in sorted(ahead, key=lambda w: (w.starts_on, w.id)):
        uplift = promotion_uplift(window, ratio=ratio, days=days, elasticity=elasticity)
        on = promoted_days(origin, horizon, [window])
        factor[on] = uplift.uplift
        applied.append(
            {
                "id": window.id,
                "starts_on": window.starts_on.isoformat(),
                "ends_on": window.ends_on.isoformat(),
                "uplift": round(uplift.uplift, 4),
                "source": uplift.source,
                "learned_days": uplift.learned_days,
                "promoted_mean": round(float((forecast.mean[on] * uplift.uplift).sum()), 3),
            }
        )
    return scaled(forecast, factor), applied
