"""The built-in rules, registered once in ``RULES``: each a ``RuleSpec`` carrying its evaluator, its
thresholds with their ranges and its parameters. The catalog endpoint, policy validation and the
rules reference read this registry; ``RuleCode`` (the database column's choices) must name the same
rules, which is checked when this module is imported.

An evaluator reads one position's indicators and its effective policy, and says whether the rule
trips, how badly (the grade), and why, in plain words with the values and thresholds. A band edge
counts as reached: a deviation of exactly 10 % is yellow under the default bands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ImproperlyConfigured

from core.alerts.catalog import (
    CLEARANCE_PARAMETERS,
    DEFAULT_BANDS,
    RFQ_PARAMETERS,
    STOCK_OUT,
    Effective,
    Parameter,
    RuleSpec,
    Threshold,
    rules_check,
)
from core.alerts.models import Grade, RuleCode
from core.alerts.projection import projected_demand
from core.inventory.models import IndustryProfile

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


def _day_text(day: date) -> str:
    return f"{day.day} {day:%B}"


def _forecast_text(reading: dict) -> str:
    """What the projection says, naming the forecast, for a reading whose cover comes from one."""
    details, lead_time = reading["details"], reading["lead_time_days"]
    forecast, runs_out = details["forecast"], reading["projected_stock_out_on"]
    named = f"forecast {forecast['model']}, demand class {forecast['demand_class']}"
    if runs_out is None:
        return f"The forecast projects no stock-out within its horizon ({named})."
    delivery = reading["as_of"] + timedelta(days=lead_time)
    gap = (delivery - runs_out).days
    if gap > 0:
        when = f"{gap} day{'s' if gap != 1 else ''} before the earliest delivery"
    elif gap == 0:
        when = "the day of the earliest delivery"
    else:
        when = f"{-gap} day{'s' if gap != -1 else ''} after the earliest delivery"
    return f"Projected to run out on {_day_text(runs_out)}, {when} (lead time {lead_time} days, {named})."


_REORDER_POINT = {"cover": "reorder_point_cover", "forecast": "reorder_point_forecast"}


def stock_out_risk(reading: dict, policy: Effective) -> Trip | None:
    ads, available, cover = reading["ads_28"], reading["available"], reading["days_of_cover"]
    safety, lead_time = reading["details"]["safety_stock"], reading["lead_time_days"]
    if ads <= 0:
        return None
    details = reading["details"]
    # Readings built before the forecast figures (and by hand in unit tests) lack them: moving average.
    forecasted = reading.get("days_of_cover_source") == "forecast"
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
    method = details["safety_stock_method"]
    if forecasted:
        why = (
            f"{_forecast_text(reading)} With {reading['in_transit']} in transit and {reading['inbound_approved']} "
            f"approved inbound, {worst} ({lead_time} days, {details['lead_time_source']}); "
            f"safety stock by the {method} method."
        )
    else:
        why = (
            f"At {ads:g} units a day, {worst} ({lead_time} days, {details['lead_time_source']}); "
            f"safety stock by the {method} method."
        )
    asked = details.get("safety_stock_method_asked", method)
    if method != asked:
        why += f" The policy asks for the {asked} method; the position has no fresh forecast."
    runs_out = reading.get("projected_stock_out_on")
    inputs = {
        "available": available,
        "in_transit": reading["in_transit"],
        "inbound_approved": reading.get("inbound_approved", 0),
        "ads_28": ads,
        "days_of_cover": cover,
        "days_of_cover_source": reading.get("days_of_cover_source", "moving_average"),
        "projected_stock_out_on": runs_out.isoformat() if runs_out else None,
        "safety_stock": safety,
        "safety_stock_method": method,
        "lead_time_days": lead_time,
        "reorder_point": reading[_REORDER_POINT.get(method, "reorder_point_service")],
    }
    if forecasted:
        inputs["forecast_model"] = details["forecast"]["model"]
        inputs["demand_class"] = details["forecast"]["demand_class"]
    if method == "forecast":
        # Replenishment orders up to the forecast's demand over lead time + review period + safety.
        inputs["lead_time_demand"] = details["lead_time_demand"]
        inputs["order_up_to"] = details["order_up_to"]
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


def promotion_shortfall(reading: dict, policy: Effective) -> Trip | None:
    """Promoted demand over the promotion and the lead time after it, against what the position will
    hold when the promotion starts (docs/engine.md, Promotion shortfall)."""
    promotion = reading["details"].get("upcoming_promotion")
    if promotion is None:
        return None
    today, lead_time = reading["as_of"], int(reading["lead_time_days"])
    starts_on, ends_on = date.fromisoformat(promotion["starts_on"]), date.fromisoformat(promotion["ends_on"])
    if (starts_on - today).days > policy.parameters["lead_days"] or ends_on < today:
        return None
    # Days from today (0): a promotion already running is checked from today.
    start, end = max((starts_on - today).days, 0), (ends_on - today).days
    last = end + lead_time
    uplift = float(promotion["uplift"])
    forecast = reading["details"].get("forecast")
    # The fresh forecast carries the uplift on the promotion days within its horizon when it was fitted
    # with the promotion; the days it does not carry it on (past its horizon, or all of them) get it here.
    scaled_until = len(forecast["daily_mean"]) if forecast is not None and promotion["in_forecast"] else 0
    base = projected_demand(reading, start, last)
    added = (uplift - 1) * projected_demand(reading, max(start, scaled_until), end)
    promoted = round(base + added, 2)
    held = reading["available"] + reading["in_transit"] + reading.get("inbound_approved", 0)
    before = round(projected_demand(reading, 0, start - 1), 2)
    at_start = round(max(0.0, held - before), 2)
    shortfall = round(promoted - at_start, 2)
    if shortfall <= 0 or promoted <= 0:
        return None
    order_by = starts_on - timedelta(days=lead_time)
    late = order_by < today
    deviation = shortfall / promoted
    grade = Grade.RED if late else (grade_of(deviation, policy.bands) or Grade.YELLOW)
    demand_from = "the fresh forecast" if forecast is not None else f"the 28-day average ({reading['ads_28']:g} a day)"
    if forecast is not None:
        demand_from += f" ({forecast['model']})"
    running = starts_on <= today
    why = (
        f"Promotion {promotion['promotion_id']} runs {_day_text(starts_on)} to {_day_text(ends_on)} at "
        f"{promotion['discount_percent']:g} % off, uplift x{uplift:g} ({promotion['uplift_source']}). "
        f"Promoted demand over {'the rest of ' if running else ''}the promotion and the {lead_time}-day lead "
        f"time after it ({_day_text(today + timedelta(days=start))} to {_day_text(today + timedelta(days=last))}) is "
        f"{promoted:g} units by {demand_from}; "
        + (
            f"the position holds {held} now (available, in transit and approved inbound)"
            if start == 0
            else f"the position will hold {at_start:g} when it starts ({held} available, in transit and approved "
            f"inbound, less {before:g} projected until then)"
        )
        + f": {shortfall:g} units short."
    )
    if late:
        why += (
            f" The order-by day ({_day_text(order_by)}, the start less the {lead_time}-day lead time) has passed: "
            "only the emergency path (backup suppliers, a transfer) can still arrive in time; red."
        )
    else:
        why += f" Order by {_day_text(order_by)} (the start less the {lead_time}-day lead time)."
    inputs = {
        "promotion_id": promotion["promotion_id"],
        "promotion_starts_on": promotion["starts_on"],
        "promotion_ends_on": promotion["ends_on"],
        "discount_percent": promotion["discount_percent"],
        "uplift": uplift,
        "uplift_source": promotion["uplift_source"],
        "uplift_in_forecast": bool(promotion["in_forecast"]),
        "demand_source": "forecast" if forecast is not None else "moving_average",
        "promoted_demand": promoted,
        "projected_demand_before_start": before,
        "available": reading["available"],
        "in_transit": reading["in_transit"],
        "inbound_approved": reading.get("inbound_approved", 0),
        "stock_at_start": at_start,
        "shortfall": shortfall,
        "lead_time_days": lead_time,
        "order_by": order_by.isoformat(),
        "order_by_passed": late,
        "ads_28": reading["ads_28"],
    }
    if forecast is not None:
        inputs["forecast_model"] = forecast["model"]
    return _trip(reading, policy, grade, deviation, inputs, why)


def _unsold_at_last_day(
    reading: dict, policy: Effective, *, day_key: str, days_key: str, unsold_key: str, what: str
) -> Trip | None:
    """The shape both profile rules share: within ``lookahead_days`` before the SKU's last selling day,
    the stock projected unsold then (at least one unit), as a share of the stock held, at or beyond
    ``unsold_share``."""
    details = reading["details"]
    days, unsold = details[days_key], details[unsold_key]
    lookahead = policy.parameters["lookahead_days"]
    if days is None or unsold is None or not 0 <= days <= lookahead:
        return None
    held = reading["available"] + reading["in_transit"] + reading["inbound_approved"]
    # Less than one unit projected left is the forecast's fraction, not stock anyone can clear.
    if held <= 0 or unsold < 1:
        return None
    share = unsold / held
    limit = policy.thresholds["unsold_share"]
    if round(share, _PLACES) < limit:
        return None
    grade = grade_of(share, policy.bands) or Grade.YELLOW
    last_day = date.fromisoformat(details[day_key])
    why = (
        f"{unsold:g} of {held} units held are projected unsold when {what} on {_day_text(last_day)} "
        f"({days} days away): {_pct(share)}, threshold {_pct(limit)}."
    )
    inputs = {
        day_key: details[day_key],
        days_key: days,
        unsold_key: unsold,
        "unsold_share": round(share, _PLACES),
        "stock_held": held,
        "days_of_cover_source": reading["days_of_cover_source"],
    }
    return _trip(reading, policy, grade, share, inputs, why)


def obsolescence_risk(reading: dict, policy: Effective) -> Trip | None:
    trip = _unsold_at_last_day(
        reading,
        policy,
        day_key="end_of_life_on",
        days_key="days_to_end_of_life",
        unsold_key="unsold_at_end_of_life",
        what="the SKU reaches its end of life",
    )
    if trip is not None:
        successor = reading["details"]["successor"]
        trip.inputs["successor"] = successor
        if successor:
            trip.explanation += f" Its successor is {successor}."
    return trip


def season_end_overstock(reading: dict, policy: Effective) -> Trip | None:
    return _unsold_at_last_day(
        reading,
        policy,
        day_key="season_ends_on",
        days_key="days_to_season_end",
        unsold_key="unsold_at_season_end",
        what="its season ends",
    )


# Negative thresholds are declines: the range keeps them declines and away from zero.
_DECLINE = (-1.0, -0.0001)

RULES: dict[str, RuleSpec] = {
    spec.code: spec
    for spec in [
        RuleSpec(
            code=RuleCode.SLOW_MOVING,
            direction="overstock",
            summary="Weekly sales down at least 40 % week over week while the stock's weighted age is above 90 days.",
            graded_by="how far the weighted age is beyond its threshold; at least yellow once tripped",
            evaluator=slow_moving,
            indicators=("wow_change", "weighted_age_days"),
            thresholds={
                "wow_change": Threshold(-0.40, *_DECLINE),
                "weighted_age_days": Threshold(90.0, 1.0, 3650.0),
            },
            parameters=CLEARANCE_PARAMETERS,
        ),
        RuleSpec(
            code=RuleCode.OVERSTOCK,
            direction="overstock",
            summary="Turnover days beyond the velocity class standard; unsold stock older than the standard is red.",
            graded_by="(turnover days - standard) / standard",
            evaluator=overstock,
            indicators=("turnover_days", "on_hand", "ads_90", "weighted_age_days"),
            standard_help="turnover days; by default 45 (cash cow), 90 (strategic reserve), 180 (long tail)",
            parameters=CLEARANCE_PARAMETERS,
        ),
        RuleSpec(
            code=RuleCode.STOCK_OUT_RISK,
            direction=STOCK_OUT,
            summary="Available below safety stock, or days of cover below the lead time, while the SKU sells; "
            "with a fresh forecast, cover is the days until projected stock-out.",
            graded_by="the worse of (safety stock - available) / safety stock and (lead time - cover) / lead time",
            evaluator=stock_out_risk,
            indicators=(
                "available",
                "in_transit",
                "ads_28",
                "days_of_cover",
                "lead_time_days",
                "safety_stock_service",
                "safety_stock_cover",
                "reorder_point_service",
                "reorder_point_cover",
                "inbound_approved",
                "days_of_cover_source",
                "projected_stock_out_on",
                "safety_stock_forecast",
                "reorder_point_forecast",
            ),
            parameters={
                "service_level": Parameter(0.95, "target service level for the z x sigma safety stock", 0.5, 0.9999),
                "volatility_coefficient_days": Parameter(
                    3.0, "days added to the longest lead time in the cover safety stock", 0, 365
                ),
                "safety_stock_method": Parameter(
                    "service_level",
                    "which safety stock the rule compares with: z x sigma, cover days, or the forecast's own "
                    "error (its service-level quantile of lead-time demand minus the mean; without a fresh "
                    "forecast, service_level)",
                    choices=("service_level", "cover", "forecast"),
                ),
                "default_lead_time_days": Parameter(14.0, "lead time when the SKU has no supplier on file", 0, 365),
                "review_period_days": Parameter(7.0, "days an order must last beyond the lead time", 0, 365),
                **RFQ_PARAMETERS,
            },
        ),
        RuleSpec(
            code=RuleCode.LAUNCH_CHECK,
            direction="launch",
            summary="From 15 days after launch, sell-through since launch below 30 % calls for re-distribution.",
            graded_by="(threshold - sell-through) / threshold; at least yellow once tripped",
            evaluator=launch_check,
            indicators=("launch_sell_through", "on_hand"),
            thresholds={"launch_sell_through": Threshold(0.30, 0.0001, 1.0)},
            parameters={
                "launch_days": Parameter(15.0, "days after launch the check starts", 1, 365),
                "launch_window_days": Parameter(60.0, "days after launch the check stops", 1, 730),
            },
        ),
        RuleSpec(
            code=RuleCode.DECLINING_PRODUCT,
            direction="decline",
            summary="Weekly sell-through down more than 15 % three weeks running calls for clearance.",
            graded_by="(average weekly decline - threshold) / threshold; at least yellow once tripped",
            evaluator=declining_product,
            indicators=("sell_through_weekly_change",),
            thresholds={"sell_through_weekly_change": Threshold(-0.15, *_DECLINE)},
            parameters={"weeks": Parameter(3.0, "weeks running the decline must last", 1, 8), **CLEARANCE_PARAMETERS},
        ),
        RuleSpec(
            code=RuleCode.EXPIRY_RISK,
            direction="overstock",
            summary="Stock that will not sell before it expires at the current rate (goods with a shelf life).",
            graded_by="expiry_at_risk / on hand",
            evaluator=expiry_risk,
            indicators=("expiry_at_risk", "on_hand", "ads_28", "days_to_expiry"),
            parameters=CLEARANCE_PARAMETERS,
        ),
        RuleSpec(
            code=RuleCode.THREE_DIMENSION_RISK,
            direction="compound",
            summary="Demand, supply and competition risk all beyond their thresholds at once: red.",
            graded_by="red when all three dimensions are beyond their thresholds",
            evaluator=three_dimension_risk,
            indicators=("social_volume_change", "supplier_lead_time_index", "competitor_price_gap"),
            thresholds={
                "social_volume_change": Threshold(-0.30, *_DECLINE),
                "supplier_lead_time_index": Threshold(1.20, 0.0001, 100.0),
                "competitor_price_gap": Threshold(-0.10, *_DECLINE),
            },
        ),
        RuleSpec(
            code=RuleCode.PROMOTION_SHORTFALL,
            direction=STOCK_OUT,
            summary="From lead_days (30) before a promotion starts: promoted demand over the promotion and the lead "
            "time after it beyond what the position will hold when it starts calls for stocking up by the order-by "
            "day (the start less the lead time).",
            graded_by="shortfall / promoted demand; at least yellow once short; red once the order-by day has passed",
            evaluator=promotion_shortfall,
            indicators=(
                "upcoming_promotion",
                "available",
                "in_transit",
                "inbound_approved",
                "ads_28",
                "lead_time_days",
                "days_of_cover_source",
            ),
            parameters={
                "lead_days": Parameter(30.0, "days before a promotion starts that the check begins", 1, 365),
                **RFQ_PARAMETERS,
            },
        ),
        RuleSpec(
            code=RuleCode.OBSOLESCENCE_RISK,
            direction="overstock",
            summary="Stock projected unsold at the SKU's end of life (electronics), checked in the days before it.",
            graded_by="unsold at end of life / stock held; at least yellow once tripped",
            evaluator=obsolescence_risk,
            indicators=("days_to_end_of_life", "unsold_at_end_of_life", "unsold_share", "available", "in_transit"),
            thresholds={"unsold_share": Threshold(0.10, 0.0001, 1.0)},
            parameters={
                "lookahead_days": Parameter(90.0, "days before the end of life the check starts", 1, 730),
                "clearance_days": Parameter(
                    14.0, "days before the end of life from which the response is a clearance, not a run-down", 0, 365
                ),
                **CLEARANCE_PARAMETERS,
            },
            profiles=frozenset({IndustryProfile.ELECTRONICS}),
        ),
        RuleSpec(
            code=RuleCode.SEASON_END_OVERSTOCK,
            direction="overstock",
            summary="Stock projected left when the SKU's season ends (apparel), warned of before the season turns.",
            graded_by="unsold at season end / stock held; at least yellow once tripped",
            evaluator=season_end_overstock,
            indicators=("days_to_season_end", "unsold_at_season_end", "unsold_share", "available", "in_transit"),
            thresholds={"unsold_share": Threshold(0.15, 0.0001, 1.0)},
            parameters={
                "lookahead_days": Parameter(60.0, "days before the season end the check starts", 1, 365),
                "markdown_start_days": Parameter(
                    21.0, "days before the season end from which the response is a markdown", 0, 365
                ),
                "clearance_days": Parameter(
                    7.0, "days before the season end from which the response is a clearance", 0, 365
                ),
                **CLEARANCE_PARAMETERS,
            },
            profiles=frozenset({IndustryProfile.APPAREL}),
        ),
    ]
}

# The database column's choices and the registry must name the same rules: a rule without its
# spec would fail every evaluation, a spec without its code could never be stored.
if _problems := rules_check(RULES, RuleCode.values):
    raise ImproperlyConfigured("The rule registry disagrees: " + "; ".join(_problems))


def rules_of_direction(direction: str) -> tuple[str, ...]:
    """The codes of the rules whose RuleSpec has this direction (``STOCK_OUT``: the rules whose alerts
    call for stock)."""
    return tuple(code for code, spec in RULES.items() if spec.direction == direction)


def rule_catalog() -> list[dict]:
    """The built-in rules with their defaults, as the catalog endpoint answers them."""
    bands = dict(zip(("yellow", "orange", "red"), DEFAULT_BANDS, strict=True))
    return [
        {
            "code": spec.code,
            "direction": spec.direction,
            "summary": spec.summary,
            "graded_by": spec.graded_by,
            "standard_help": spec.standard_help,
            "profiles": spec.profiles_listed,
            "default_bands": bands,
            "thresholds": spec.threshold_defaults,
            "parameters": [
                {"name": name, **{k: getattr(p, k) for k in ("default", "help", "minimum", "maximum", "choices")}}
                for name, p in spec.parameters.items()
            ],
        }
        for spec in RULES.values()
    ]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _parameter_text(name: str, parameter: Parameter) -> str:
    if parameter.choices:
        allowed = " / ".join(parameter.choices)
    else:
        allowed = f"{_number(parameter.minimum)} to {_number(parameter.maximum)}"
    default = parameter.default if isinstance(parameter.default, str) else _number(parameter.default)
    return f"`{name}` {default} ({allowed})"


def rules_reference_markdown() -> str:
    """The manual's rules reference, written from ``RULES``: each rule's code, what it warns of, how it
    is graded, the indicators it reads, its thresholds (default and range) and its parameters
    (default and range or choices)."""
    yellow, orange, red = (f"{band * 100:g} %" for band in DEFAULT_BANDS)
    lines = [
        "# Rules",
        "",
        "<!-- Generated from the RuleSpecs in core/alerts/rules.py by `make docs`; edit those, not this page. -->",
        "",
        f"Bands measure the deviation from a standard: yellow at {yellow}, orange at {orange}, red at {red}; "
        f"reaching a band's edge counts (exactly {yellow} is yellow). A policy (`alert-policies/`) may set each "
        "threshold within its range and each parameter within its range or choices; "
        "`alert-policies/rules/` answers the same defaults.",
        "",
        "A rule with profiles applies only to positions whose category has one of those industry profiles "
        "(`profile`); the others apply to every profile.",
        "",
        "| rule | profiles | warns of | graded by | indicators | thresholds: default (range) "
        "| parameters: default (range) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for spec in RULES.values():
        thresholds = "<br>".join(
            f"`{name}` {_number(t.default)} ({_number(t.minimum)} to {_number(t.maximum)})"
            for name, t in spec.thresholds.items()
        )
        if spec.standard_help:
            thresholds = "<br>".join(filter(None, [f"standard: {spec.standard_help}", thresholds]))
        parameters = "<br>".join(_parameter_text(name, p) for name, p in spec.parameters.items())
        indicators = ", ".join(f"`{name}`" for name in spec.indicators)
        profiles = ", ".join(f"`{name}`" for name in spec.profiles_listed) if spec.profiles is not None else "every"
        cells = [
            f"`{spec.code}`",
            profiles,
            spec.summary,
            spec.graded_by,
            indicators,
            thresholds or "none",
            parameters or "none",
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
