"""Forecast accuracy, as the backtest reports it, and the two baselines it compares against.

Conventions (the M5 competition's where it has one):

- RMSSE = sqrt(mean((actual - forecast)²) / scale), scale = mean of the squared one-step naive
  errors (y[t] - y[t-1])² over the in-sample series from its first non-zero demand (M5 drops the
  leading zeros, when the item was not yet sold). No scale (fewer than two days from the first
  demand, or a constant series) gives NaN: such a series has no RMSSE and leaves WRMSSE.
- WRMSSE = Σ wᵢ · RMSSEᵢ with wᵢ the series' share of sales (M5: sales value over the last 28 days
  of the in-sample), renormalised over the series that have an RMSSE. Only the bottom level (the
  position); M5 also averaged over aggregation levels.
- WAPE = Σ|actual - forecast| / Σ actual. Bias = Σ(forecast - actual) / Σ actual (positive: over-
  forecast). Both NaN when nothing was sold.
- Pinball loss at quantile τ: mean of τ·(a - q) when a ≥ q, else (1 - τ)·(q - a).
- Coverage of a quantile forecast: the share of days with actual ≤ quantile (target: τ).
"""

from __future__ import annotations

import numpy as np

MOVING_AVERAGE_DAYS = 28
SEASON_DAYS = 7


def _floats(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def rmsse_scale(insample: np.ndarray) -> float:
    """Mean squared one-step naive error from the first non-zero demand; NaN when there is none."""
    y = _floats(insample)
    nonzero = np.flatnonzero(y != 0)
    if nonzero.size == 0:
        return float("nan")
    y = y[nonzero[0] :]
    if y.size < 2:
        return float("nan")
    scale = float(np.mean(np.diff(y) ** 2))
    return scale if scale > 0 else float("nan")


def rmsse(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray) -> float:
    scale = rmsse_scale(insample)
    if np.isnan(scale):
        return scale
    return float(np.sqrt(np.mean((_floats(actual) - _floats(forecast)) ** 2) / scale))


def sales_weights(sales: np.ndarray) -> np.ndarray:
    """Each series' share of the total (of units or of value, as the caller passes)."""
    s = _floats(sales)
    total = s.sum()
    return s / total if total > 0 else np.full(s.shape, np.nan)


def wrmsse(rmsses: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean of the series' RMSSE, over the series that have one."""
    r, w = _floats(rmsses), _floats(weights)
    keep = np.isfinite(r) & np.isfinite(w)
    total = w[keep].sum()
    return float((w[keep] * r[keep]).sum() / total) if total > 0 else float("nan")


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    a = _floats(actual)
    total = a.sum()
    return float(np.abs(a - _floats(forecast)).sum() / total) if total > 0 else float("nan")


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    a = _floats(actual)
    total = a.sum()
    return float((_floats(forecast) - a).sum() / total) if total > 0 else float("nan")


def pinball_loss(actual: np.ndarray, quantile_forecast: np.ndarray, tau: float) -> float:
    diff = _floats(actual) - _floats(quantile_forecast)
    return float(np.mean(np.maximum(tau * diff, (tau - 1) * diff)))


def coverage(actual: np.ndarray, quantile_forecast: np.ndarray) -> float:
    return float(np.mean(_floats(actual) <= _floats(quantile_forecast)))


def moving_average_forecast(history: np.ndarray, horizon: int, *, days: int = MOVING_AVERAGE_DAYS) -> np.ndarray:
    """The engine's rule today: the mean of the last ``days`` days, flat over the horizon."""
    y = _floats(history)[-days:]
    level = float(y.mean()) if y.size else 0.0
    return np.full(horizon, level)


def seasonal_naive_forecast(history: np.ndarray, horizon: int, *, season: int = SEASON_DAYS) -> np.ndarray:
    """The last ``season`` days repeated (the last value, or zero, for a shorter history)."""
    y = _floats(history)
    if y.size == 0:
        return np.zeros(horizon)
    last = y[-season:]
    if last.size < season:
        return np.full(horizon, last[-1])
    return np.resize(last, horizon)
