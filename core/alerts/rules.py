"""The built-in rules: each reads one position's indicators and its effective policy, and says
whether it trips, how badly (the grade), and why, in plain words with the values and thresholds.

A band edge counts as reached: a deviation of exactly 10 % is yellow under the default bands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.alerts.catalog import RULES
from core.alerts.models import Grade, RuleCode
from core.alerts.policies import Effective

# Deviations are compared after rounding, so 0.1 computed as 0.30000000000000004 / 3 is 0.1.
_PLACES = 6


@dataclass
class Trip:
    rule: str
    grade: str
    deviation: float | None
    inputs: dict
    thresholds: dict
    explanation: str
    recommendation: dict = field(default_factory=dict)
    thresholds_json: str = ""  # ``thresholds`` as sorted JSON, shared by every trip of the same policy

    @property
    def direction(self) -> str:
        return RULES[self.rule].direction


def grade_of(deviation: float, bands: tuple[float, float, float]) -> str | None:
    """The grade a deviation reaches, or None below the yellow band."""
    deviation = round(deviation, _PLACES)
    yellow, orange, red = bands
    if deviation >= red:
        return Grade.RED
    if deviation >= orange:
        return Grade.ORANGE
    if deviation >= yellow:
        return Grade.YELLOW
    return None


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def _bands_text(bands: tuple[float, float, float]) -> str:
    return f"bands yellow {_pct(bands[0])}, orange {_pct(bands[1])}, red {_pct(bands[2])}"


def _trip(reading: dict, policy: Effective, grade: str, deviation: float | None, inputs: dict, why: str) -> Trip:
    text = f"{RULES[policy.rule].summary} {why}"
    if deviation is not None:
        text += f" Graded {grade}: {_pct(deviation)} deviation ({_bands_text(policy.bands)})."
    else:
        text += f" Graded {grade}."
    return Trip(
        rule=policy.rule,
        grade=grade,
        deviation=round(deviation, _PLACES) if deviation is not None else None,
        inputs=inputs,
        thresholds=policy.as_dict(),
        explanation=text,
        thresholds_json=policy.as_json,
    )


def slow_moving(reading: dict, policy: Effective) -> Trip | None:
    wow, age = reading["wow_change"], reading["weighted_age_days"]
    drop, age_limit = policy.thresholds["wow_change"], policy.thresholds["weighted_age_days"]
    if wow is None or age is None or not (round(wow, _PLACES) <= drop and age > age_limit):
        return None
    weekly = reading["details"]["weekly_sales"]
    deviation = (age - age_limit) / age_limit
    grade = grade_of(deviation, policy.bands) or Grade.YELLOW
    why = (
        f"Sales fell from {weekly[1]} to {weekly[0]} units week over week ({_pct(wow)}, threshold {_pct(drop)}) "
        f"and the stock's weighted age is {age:.1f} days (threshold {age_limit:g})."
    )
    inputs = {"wow_change": wow, "weighted_age_days": age, "weekly_sales": weekly[:2]}
    return _trip(reading, policy, grade, deviation, inputs, why)


def overstock(reading: dict, policy: Effective) -> Trip | None:
    on_hand, days, standard = reading["on_hand"], reading["turnover_days"], policy.standard
    if on_hand <= 0:
        return None
    source = policy.sources.get("standard", "")
    inputs = {"turnover_days": days, "on_hand": on_hand, "ads_90": reading["ads_90"], "standard": standard}
    if days is None:
        # Nothing sold in the window: unbounded turnover, but only stock that has sat longer than
        # the standard proves it; a fresh receipt has not had the time to sell.
        age = reading["weighted_age_days"]
        if age is None or age < standard:
            return None
        inputs["weighted_age_days"] = age
        why = (
            f"Nothing sold in 90 days with {on_hand} units on hand, {age:.0f} days old on average; "
            f"the standard is {standard:g} turnover days ({source})."
        )
        return _trip(reading, policy, Grade.RED, None, inputs, why)
    deviation = (days - standard) / standard
    grade = grade_of(deviation, policy.bands)
    if grade is None:
        return None
    why = f"Turnover days are {days:.1f} against a standard of {standard:g} ({source})."
    return _trip(reading, policy, grade, deviation, inputs, why)


def stock_out_risk(reading: dict, policy: Effective) -> Trip | None:
    ads, available, cover = reading["ads_28"], reading["available"], reading["days_of_cover"]
    safety, lead_time = reading["details"]["safety_stock"], reading["lead_time_days"]
    if ads <= 0:
        return None
    candidates = []
    if safety > 0 and available < safety:
        candidates.append(((safety - available) / safety, f"available {available} is below safety stock {safety:g}"))
    if lead_time > 0 and cover is not None and cover < lead_time:
        candidates.append(((lead_time - cover) / lead_time, f"{cover:g} days of cover are below the lead time"))
    if not candidates:
        return None
    deviation, worst = max(candidates, key=lambda candidate: candidate[0])
    grade = grade_of(deviation, policy.bands)
    if grade is None:
        return None
    method = reading["details"]["safety_stock_method"]
    why = (
        f"At {ads:g} units a day, {worst} ({lead_time} days, {reading['details']['lead_time_source']}); "
        f"safety stock by the {method} method."
    )
    inputs = {
        "available": available,
        "in_transit": reading["in_transit"],
        "ads_28": ads,
        "days_of_cover": cover,
        "safety_stock": safety,
        "safety_stock_method": method,
        "lead_time_days": lead_time,
        "reorder_point": reading["reorder_point_cover" if method == "cover" else "reorder_point_service"],
    }
    return _trip(reading, policy, grade, deviation, inputs, why)


def launch_check(reading: dict, policy: Effective) -> Trip | None:
    details = reading["details"]
    days, sell_through = details["days_since_launch"], details["launch_sell_through"]
    start, end = policy.parameters["launch_days"], policy.parameters["launch_window_days"]
    limit = policy.thresholds["launch_sell_through"]
    if days is None or sell_through is None or not start <= days < end or not sell_through < limit:
        return None
    deviation = (limit - sell_through) / limit
    grade = grade_of(deviation, policy.bands) or Grade.YELLOW
    why = (
        f"{days} days after launch, {details['units_sold_since_launch']} units sold against {reading['on_hand']} "
        f"on hand: sell-through {_pct(sell_through)}, below {_pct(limit)}."
    )
    inputs = {"days_since_launch": days, "launch_sell_through": sell_through, "on_hand": reading["on_hand"]}
    return _trip(reading, policy, grade, deviation, inputs, why)


def declining_product(reading: dict, policy: Effective) -> Trip | None:
    weeks = int(policy.parameters["weeks"])
    limit = policy.thresholds["sell_through_weekly_change"]
    changes = reading["details"]["sell_through_weekly_changes"][:weeks]
    if len(changes) < weeks:
        return None
    for change in changes:  # most positions fail on the first week: a plain loop stops there cheaply
        if change is None or not round(change, _PLACES) < limit:
            return None
    mean_decline = -sum(changes) / weeks
    deviation = (mean_decline - (-limit)) / -limit
    grade = grade_of(deviation, policy.bands) or Grade.YELLOW
    shown = ", ".join(_pct(change) for change in changes)
    why = f"Weekly sell-through changed {shown} over the last {weeks} weeks, each beyond {_pct(limit)}."
    inputs = {
        "sell_through_weekly_changes": changes,
        "weekly_sell_through": reading["details"]["weekly_sell_through"][: weeks + 1],
    }
    return _trip(reading, policy, grade, deviation, inputs, why)


def expiry_risk(reading: dict, policy: Effective) -> Trip | None:
    at_risk, on_hand = reading["expiry_at_risk"], reading["on_hand"]
    if at_risk <= 0 or on_hand <= 0:
        return None
    share = at_risk / on_hand
    grade = grade_of(share, policy.bands)
    if grade is None:
        return None
    why = (
        f"{at_risk} of {on_hand} units will not sell before they expire at {reading['ads_28']:g} units a day; "
        f"the earliest expiry is in {reading['days_to_expiry']} days."
    )
    inputs = {
        "expiry_at_risk": at_risk,
        "on_hand": on_hand,
        "ads_28": reading["ads_28"],
        "days_to_expiry": reading["days_to_expiry"],
    }
    return _trip(reading, policy, grade, share, inputs, why)


def three_dimension_risk(reading: dict, policy: Effective) -> Trip | None:
    details = reading["details"]
    social, index, gap = (
        details["social_volume_change"],
        details["supplier_lead_time_index"],
        details["competitor_price_gap"],
    )
    limits = policy.thresholds
    if social is None or index is None or gap is None:
        return None
    if not (
        round(social, _PLACES) <= limits["social_volume_change"]
        and index >= limits["supplier_lead_time_index"]
        and round(gap, _PLACES) <= limits["competitor_price_gap"]
    ):
        return None
    why = (
        f"Demand: social volume {_pct(social)} (threshold {_pct(limits['social_volume_change'])}); "
        f"supply: lead-time index {index:g} (threshold {limits['supplier_lead_time_index']:g}); "
        f"competition: competitor price {_pct(gap)} against list (threshold {_pct(limits['competitor_price_gap'])})."
    )
    inputs = {"social_volume_change": social, "supplier_lead_time_index": index, "competitor_price_gap": gap}
    return _trip(reading, policy, Grade.RED, None, inputs, why)


EVALUATORS: dict[str, Callable[[dict, Effective], Trip | None]] = {
    RuleCode.SLOW_MOVING: slow_moving,
    RuleCode.OVERSTOCK: overstock,
    RuleCode.STOCK_OUT_RISK: stock_out_risk,
    RuleCode.LAUNCH_CHECK: launch_check,
    RuleCode.DECLINING_PRODUCT: declining_product,
    RuleCode.EXPIRY_RISK: expiry_risk,
    RuleCode.THREE_DIMENSION_RISK: three_dimension_risk,
}
