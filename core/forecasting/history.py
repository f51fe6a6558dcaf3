"""Daily facts → the series a model reads, with censored days handled.

A day is censored when what was sold that day is not the demand of that day:

- a stock-out day: the position ended the day with nothing on hand (or the caller flags it), so
  sales stopped at what there was; demand was at least the sales, maybe more;
- a day with flagged anomalous units: part of what the ledger shows was not believed, and whether
  the rest of the day is normal is not known either.

Reading such a day as its sales (often zero) teaches a model that demand dropped exactly when the
shelf was empty, which lowers the forecast and, through it, the next order: the classic censored-
demand spiral. So censored days are left out of what a model learns from, in one of two ways:

- ``observed_series`` drops them. For the intermittent models (Croston family, TSB, IMAPA): they
  read demand sizes and the intervals between demands in observed periods, need no calendar, and
  an interval that spans a stock-out is simply measured in observed days.
- ``weekday_imputed_series`` keeps the calendar and fills each censored day with its weekday's level
  (mean of the same weekday's observed days within ``weeks`` weeks either side, else of all
  observed days), never below what was sold that day (sales are a lower bound on censored demand). For the
  weekly-seasonal models (Theta, ETS, seasonal naive), which need every day in its weekday slot.

The history starts at the first day the position sold or held stock: days before it existed are
not days of zero demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from core.forecasting.demand_class import DemandClass

IMPUTATION_WEEKS = 8


@dataclass(frozen=True)
class DailyHistory:
    """One position's days, oldest first: ``units`` is clean demand where ``censored`` is False."""

    start: date
    units: np.ndarray  # float64, units sold per day (anomalous units already out)
    censored: np.ndarray  # bool, per day

    @property
    def end(self) -> date:
        return self.start + timedelta(days=len(self.units) - 1)

    @property
    def observed_days(self) -> int:
        return int((~self.censored).sum())


def closing_stock(on_hand_now: np.ndarray, net_change: np.ndarray) -> np.ndarray:
    """Stock at the end of each day, rebuilt backwards: stock now minus the net changes of the days
    after. ``net_change`` is one row of days (or a matrix, a row per position, with ``on_hand_now``
    one value per row); the last day's closing stock is the stock now."""
    net = np.asarray(net_change, dtype=np.float64)
    after = net.sum(axis=-1, keepdims=True) - np.cumsum(net, axis=-1)
    return np.asarray(on_hand_now, dtype=np.float64)[..., None] - after


def daily_history(
    *,
    start: date,
    units_sold: np.ndarray,
    units_flagged: np.ndarray | None = None,
    on_hand_end: np.ndarray | None = None,
    stockout: np.ndarray | None = None,
) -> DailyHistory:
    """The history from dense daily arrays starting on ``start`` (one value per calendar day).

    ``units_sold`` counts clean sales (the daily facts keep flagged units apart, in
    ``units_flagged``); a day is censored if it had flagged units, ended with ``on_hand_end`` ≤ 0,
    or ``stockout`` says so. Leading days with neither a sale nor stock are cut off.
    """
    units = np.asarray(units_sold, dtype=np.float64)
    n = units.size
    censored = np.zeros(n, dtype=bool)
    if units_flagged is not None:
        censored |= np.asarray(units_flagged) > 0
    if on_hand_end is not None:
        censored |= np.asarray(on_hand_end) <= 0
    if stockout is not None:
        censored |= np.asarray(stockout, dtype=bool)
    alive = units > 0
    if on_hand_end is not None:
        alive |= np.asarray(on_hand_end) > 0
    first = int(np.argmax(alive)) if alive.any() else n
    return DailyHistory(start=start + timedelta(days=first), units=units[first:].copy(), censored=censored[first:])


def observed_series(history: DailyHistory) -> np.ndarray:
    """Demand on the observed days only, in order: censored days dropped."""
    return history.units[~history.censored]


def weekday_imputed_series(history: DailyHistory, *, weeks: int = IMPUTATION_WEEKS) -> np.ndarray:
    """Every calendar day, censored ones filled with their weekday's recent level (see the module)."""
    units, censored = history.units, history.censored
    out = units.copy()
    if not censored.any() or censored.all():
        return out
    observed = ~censored
    overall = float(units[observed].mean())
    n = units.size
    for day in np.flatnonzero(censored):
        # The same weekday in the ``weeks`` weeks before and after this day, observed ones only.
        same = np.arange(day % 7, n, 7)
        same = same[(np.abs(same - day) <= 7 * weeks) & observed[same]]
        level = float(units[same].mean()) if same.size else overall
        out[day] = max(level, units[day])
    return out


def model_input(history: DailyHistory, demand_class: DemandClass) -> np.ndarray:
    """The series the class's model reads: observed days for intermittent and lumpy demand, the
    weekday-imputed calendar for the rest (their models are weekly-seasonal)."""
    if demand_class in (DemandClass.INTERMITTENT, DemandClass.LUMPY):
        return observed_series(history)
    return weekday_imputed_series(history)
