"""Which setting of each rule the tuner moves, which way is stricter, and within what range.

One entry per tuned rule. The value a step moves is the rule's trip point, read from its effective
settings (``Effective``) in a scope; ``settings_for`` turns a new trip point into what the scope's
policy is written with. Rules without an entry (the compound rule, promotion shortfall) are not
tuned: no single setting decides their false alarms. docs/tuning.md lists the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.alerts.catalog import Effective
from core.alerts.models import RuleCode
from core.alerts.rules import RULES

# Bands scaled as a set keep their ratios (default 1 : 2 : 3); shifted, their widths.
SCALE, SHIFT, THRESHOLD = "bands_scaled", "bands_shifted", "threshold"


@dataclass(frozen=True)
class Tunable:
    """``how``: SCALE (the yellow band is the trip point; the three bands scale with it), SHIFT (the
    trip point is 1 + yellow, a multiple of the standard; the three bands shift together) or
    THRESHOLD (the trip point is ``thresholds[name]``). ``stricter`` is +1 where a higher value trips
    less often, -1 where a lower one does. ``minimum`` and ``maximum`` bound the trip point."""

    rule: str
    how: str
    stricter: int
    minimum: float
    maximum: float
    name: str = ""
    unit: str = ""

    @property
    def setting(self) -> str:
        return f"thresholds.{self.name}" if self.how == THRESHOLD else "bands"

    def value_of(self, effective: Effective) -> float:
        if self.how == THRESHOLD:
            return float(effective.thresholds[self.name])
        yellow = float(effective.bands[0])
        return 1.0 + yellow if self.how == SHIFT else yellow

    def settings_for(self, effective: Effective, value: float) -> dict:
        """The policy settings that put the trip point at ``value`` (the scope's other settings stay)."""
        if self.how == THRESHOLD:
            return {"thresholds": {self.name: round(value, 4)}}
        yellow, orange, red = (float(band) for band in effective.bands)
        if self.how == SHIFT:
            delta = (value - 1.0) - yellow
            bands = (yellow + delta, orange + delta, red + delta)
        else:
            factor = value / yellow
            bands = (yellow * factor, orange * factor, red * factor)
        return {"bands": dict(zip(("yellow", "orange", "red"), (round(band, 4) for band in bands), strict=True))}

    def step(self, value: float, *, tighten: bool, fraction: float) -> float:
        """The value one step of ``fraction`` (at most 0.2) stricter or looser, inside the range."""
        stricter = self.stricter if tighten else -self.stricter
        # A negative threshold (a decline) is stricter further from zero: scale its magnitude.
        moved = value * (1 + fraction) if (stricter > 0) == (value >= 0) else value * (1 - fraction)
        return min(max(moved, self.minimum), self.maximum)


def _threshold(rule: str, name: str, stricter: int, unit: str) -> Tunable:
    spec = RULES[rule].thresholds[name]
    return Tunable(rule, THRESHOLD, stricter, spec.minimum, spec.maximum, name=name, unit=unit)


TUNABLES: dict[str, Tunable] = {
    tunable.rule: tunable
    for tunable in [
        # Turnover days beyond standard x (1 + yellow): the trip point in multiples of the standard.
        Tunable(RuleCode.OVERSTOCK, SHIFT, +1, 1.01, 4.0, unit="x the turnover standard"),
        _threshold(RuleCode.SLOW_MOVING, "weighted_age_days", +1, "days"),
        # Available below safety stock, or cover below the lead time, by at least the yellow share.
        Tunable(RuleCode.STOCK_OUT_RISK, SCALE, +1, 0.02, 0.33, unit="share below safety stock / lead time"),
        _threshold(RuleCode.LAUNCH_CHECK, "launch_sell_through", -1, "sell-through share"),
        _threshold(RuleCode.DECLINING_PRODUCT, "sell_through_weekly_change", -1, "weekly change"),
        Tunable(RuleCode.EXPIRY_RISK, SCALE, +1, 0.01, 0.33, unit="share of on hand at risk"),
        _threshold(RuleCode.OBSOLESCENCE_RISK, "unsold_share", +1, "share unsold"),
        _threshold(RuleCode.SEASON_END_OVERSTOCK, "unsold_share", +1, "share unsold"),
    ]
}


def tunables_markdown() -> str:
    """The table docs/tuning.md shows (kept in step by a test)."""
    lines = ["| rule | setting moved | trip point | stricter when | range |", "| --- | --- | --- | --- | --- |"]
    for tunable in TUNABLES.values():
        point = {
            SHIFT: "1 + yellow band (x the standard)",
            SCALE: "yellow band (the three scale together)",
            THRESHOLD: f"`{tunable.name}`",
        }[tunable.how]
        way = "higher" if tunable.stricter > 0 else "lower"
        lines.append(
            f"| `{tunable.rule}` | `{tunable.setting}` | {point} | {way} | {tunable.minimum:g} to {tunable.maximum:g} |"
        )
    return "\n".join(lines) + "\n"
