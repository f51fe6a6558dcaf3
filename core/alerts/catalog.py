"""What the engine knows: its indicators, its built-in rules and their documented defaults.

The catalog is data: policies are validated against it, the API serves it (``alert-policies/rules/``)
and README's defaults table is written from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.alerts.models import RuleCode
from core.inventory.models import VelocityClass

DEFAULT_BANDS = (0.10, 0.20, 0.30)  # yellow, orange, red: deviation from the standard

# Turnover days a velocity class is expected to stay within; overstock measures deviation from it.
TURNOVER_STANDARD_DAYS = {
    VelocityClass.CASH_COW: 45.0,
    VelocityClass.STRATEGIC_RESERVE: 90.0,
    VelocityClass.LONG_TAIL: 180.0,
}

# Every indicator a reading carries, with its unit; policies may only name these.
INDICATORS: dict[str, str] = {
    "on_hand": "units",
    "available": "units: on hand - reserved",
    "in_transit": "units",
    "ads_7": "average daily sales over the last 7 days (units/day)",
    "ads_28": "average daily sales over the last 28 days (units/day)",
    "ads_90": "average daily sales over the last 90 days (units/day)",
    "days_of_cover": "available / ads_28 (days); empty when nothing sold",
    "average_on_hand_90": "average end-of-day stock over 90 days (units)",
    "turnover_rate": "annualized: cost of goods sold over 90 days / average inventory value x 365/90",
    "turnover_days": "365 / turnover_rate (days); empty when nothing sold in 90 days",
    "sell_through_28": "units sold / (units sold + on hand) over 28 days (share)",
    "wow_change": "sales of the last 7 days against the 7 before (relative change)",
    "weekly_declines": "consecutive weeks, back from this one, each selling less than the one before",
    "age_0_30": "units received 0-30 days ago",
    "age_31_60": "units received 31-60 days ago",
    "age_61_90": "units received 61-90 days ago",
    "age_91_180": "units received 91-180 days ago",
    "age_over_180": "units received more than 180 days ago",
    "weighted_age_days": "quantity-weighted age of the stock on hand (days)",
    "expiry_at_risk": "units that will not sell before they expire at the ads_28 rate",
    "expiry_at_risk_share": "expiry_at_risk / on hand (share)",
    "days_to_expiry": "days to the earliest expiry of stock on hand",
    "lead_time_days": "lead time of the primary supplier (days)",
    "longest_lead_time_days": "longest lead time among the SKU's suppliers (days)",
    "lead_time_volatility_days": "standard deviation of receipt lateness against promised days (days)",
    "demand_sigma_28": "standard deviation of daily sales over 28 days (units)",
    "safety_stock_cover": "ads_28 x (longest lead time + volatility coefficient days)",
    "safety_stock_service": "z(service level) x demand_sigma_28 x sqrt(lead time)",
    "reorder_point_cover": "ads_28 x lead time + safety_stock_cover",
    "reorder_point_service": "ads_28 x lead time + safety_stock_service",
    "launch_sell_through": "sell-through since launch: sold / (sold + on hand)",
    "sell_through_weekly_change": "this week's sell-through against last week's (relative change)",
    "competitor_price_gap": "latest competitor price / list price - 1",
    "social_volume_change": "social volume, last 7 days against the 28 before (relative change)",
    "supplier_lead_time_index": "latest supplier lead-time index (1.0 = as promised)",
    "health_index": "0-100, weighted as documented in README",
}


# The values a threshold may take: the direction of each condition and no zero to divide by.
THRESHOLD_RANGES: dict[str, tuple[float, float]] = {
    "wow_change": (-1.0, -0.0001),
    "weighted_age_days": (1.0, 3650.0),
    "launch_sell_through": (0.0001, 1.0),
    "sell_through_weekly_change": (-1.0, -0.0001),
    "social_volume_change": (-1.0, -0.0001),
    "supplier_lead_time_index": (0.0001, 100.0),
    "competitor_price_gap": (-1.0, -0.0001),
}


@dataclass(frozen=True)
class Parameter:
    default: float | str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


# The playbook settings of every rule whose response marks down or clears stock.
CLEARANCE_PARAMETERS = {
    "markdown_percent": Parameter(
        15.0, "markdown when the position has no price history to read a response from", 1, 90
    ),
    "clearance_step_percent": Parameter(10.0, "points the clearance discount rises each week", 1, 50),
    "clearance_max_discount_percent": Parameter(70.0, "deepest clearance discount before liquidation", 5, 95),
    "clearance_horizon_days": Parameter(84.0, "days to clear aged stock in (expiring stock: until it expires)", 7, 365),
}


@dataclass(frozen=True)
class RuleSpec:
    code: str
    direction: str  # overstock | stock_out | launch | decline | compound: decides the response
    summary: str
    graded_by: str
    standard: float | None = None
    standard_help: str = ""
    thresholds: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)


RULES: dict[str, RuleSpec] = {
    spec.code: spec
    for spec in [
        RuleSpec(
            code=RuleCode.SLOW_MOVING,
            direction="overstock",
            summary="Weekly sales down at least 40 % week over week while the stock's weighted age is above 90 days.",
            graded_by="how far the weighted age is beyond its threshold; at least yellow once tripped",
            thresholds={"wow_change": -0.40, "weighted_age_days": 90.0},
            parameters=CLEARANCE_PARAMETERS,
        ),
        RuleSpec(
            code=RuleCode.OVERSTOCK,
            direction="overstock",
            summary="Turnover days beyond the velocity class standard; unsold stock older than the standard is red.",
            graded_by="(turnover days - standard) / standard",
            standard_help="turnover days; by default 45 (cash cow), 90 (strategic reserve), 180 (long tail)",
            parameters=CLEARANCE_PARAMETERS,
        ),
        RuleSpec(
            code=RuleCode.STOCK_OUT_RISK,
            direction="stock_out",
            summary="Available below safety stock, or days of cover below the lead time, while the SKU sells.",
            graded_by="the worse of (safety stock - available) / safety stock and (lead time - cover) / lead time",
            parameters={
                "service_level": Parameter(0.95, "target service level for the z x sigma safety stock", 0.5, 0.9999),
                "volatility_coefficient_days": Parameter(
                    3.0, "days added to the longest lead time in the cover safety stock", 0, 365
                ),
                "safety_stock_method": Parameter(
                    "service_level", "which safety stock the rule compares with", choices=("service_level", "cover")
                ),
                "default_lead_time_days": Parameter(14.0, "lead time when the SKU has no supplier on file", 0, 365),
                "review_period_days": Parameter(7.0, "days an order must last beyond the lead time", 0, 365),
                "rfq_grade": Parameter(
                    "red", "grade at which an RFQ goes to the backup suppliers", choices=("yellow", "orange", "red")
                ),
                "rfq_award_rule": Parameter(
                    "lowest_landed_cost",
                    "how an RFQ is awarded: automatically, or by a planner",
                    choices=("lowest_landed_cost", "manual"),
                ),
                "rfq_response_hours": Parameter(24.0, "hours suppliers have to quote", 1, 720),
                "rfq_invitations": Parameter(5.0, "backup suppliers invited per round", 1, 50),
            },
        ),
        RuleSpec(
            code=RuleCode.LAUNCH_CHECK,
            direction="launch",
            summary="From 15 days after launch, sell-through since launch below 30 % calls for re-distribution.",
            graded_by="(threshold - sell-through) / threshold; at least yellow once tripped",
            thresholds={"launch_sell_through": 0.30},
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
            thresholds={"sell_through_weekly_change": -0.15},
            parameters={"weeks": Parameter(3.0, "weeks running the decline must last", 1, 8), **CLEARANCE_PARAMETERS},
        ),
        RuleSpec(
            code=RuleCode.EXPIRY_RISK,
            direction="overstock",
            summary="Stock that will not sell before it expires at the current rate (goods with a shelf life).",
            graded_by="expiry_at_risk / on hand",
            parameters=CLEARANCE_PARAMETERS,
        ),
        RuleSpec(
            code=RuleCode.THREE_DIMENSION_RISK,
            direction="compound",
            summary="Demand, supply and competition risk all beyond their thresholds at once: red.",
            graded_by="red when all three dimensions are beyond their thresholds",
            thresholds={
                "social_volume_change": -0.30,
                "supplier_lead_time_index": 1.20,
                "competitor_price_gap": -0.10,
            },
        ),
    ]
}

# Weights of the health index (they sum to 100); each component scores 0 (bad) to 1 (healthy).
HEALTH_WEIGHTS = {
    "availability": 30,  # min(available / safety stock, cover / lead time), 1 when nothing sells
    "turnover": 20,  # standard / turnover days, 0 with stock and no sales in 90 days
    "age": 15,  # 90 / weighted age beyond 90 days
    "expiry": 15,  # 1 - expiry_at_risk / on hand
    "trend": 10,  # 1 + week-over-week change, within 0..1
    "sell_through": 10,  # sell_through_28 / 0.30, within 0..1
}
