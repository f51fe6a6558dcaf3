"""Syntetos-Boylan-Croston demand classes from a daily demand series.

The two statistics are read on observed days only: a censored day (a stock-out, a day with a
flagged anomaly) says nothing about demand, so it is neither a zero nor a sale here.

- ADI, the average inter-demand interval: observed days / observed days with demand > 0.
- CV², the squared coefficient of variation of the non-zero demand sizes (sample standard
  deviation, ddof=1, as R's tsintermittent computes it; 0 when fewer than two sizes).

Cut-offs 1.32 (ADI) and 0.49 (CV²) from Syntetos, Boylan & Croston (2005):

    ADI < 1.32, CV² < 0.49  smooth         ADI ≥ 1.32, CV² < 0.49  intermittent
    ADI < 1.32, CV² ≥ 0.49  erratic        ADI ≥ 1.32, CV² ≥ 0.49  lumpy

A position observed for fewer than ``min_observed_days`` days is ``too_short`` (it gets the
seasonal naive fallback). One observed long enough without any demand is ``intermittent`` with an
infinite ADI: the intermittent models forecast zero for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
# Eight weeks: two weekly cycles are the least a weekly-seasonal model can separate from noise, and
# with fewer an intermittent item shows too few demands to read its interval.
MIN_OBSERVED_DAYS = 56


class DemandClass(StrEnum):
    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    TOO_SHORT = "too_short"


@dataclass(frozen=True)
class Classification:
    demand_class: DemandClass
    adi: float  # math.inf when no observed day had demand
    cv2: float
    observed_days: int
    demand_days: int


def classify(
    demand: np.ndarray, censored: np.ndarray | None = None, *, min_observed_days: int = MIN_OBSERVED_DAYS
) -> Classification:
    """The demand class of one daily series; ``censored`` marks the days to leave out."""
    values = np.asarray(demand, dtype=np.float64)
    if censored is not None:
        values = values[~np.asarray(censored, dtype=bool)]
    sizes = values[values > 0]
    observed, demand_days = int(values.size), int(sizes.size)
    adi = observed / demand_days if demand_days else math.inf
    cv2 = 0.0
    if demand_days >= 2:
        mean = float(sizes.mean())
        cv2 = (float(sizes.std(ddof=1)) / mean) ** 2
    if observed < min_observed_days:
        demand_class = DemandClass.TOO_SHORT
    elif adi < ADI_CUTOFF:
        demand_class = DemandClass.SMOOTH if cv2 < CV2_CUTOFF else DemandClass.ERRATIC
    else:
        demand_class = DemandClass.INTERMITTENT if cv2 < CV2_CUTOFF else DemandClass.LUMPY
    return Classification(demand_class=demand_class, adi=adi, cv2=cv2, observed_days=observed, demand_days=demand_days)
