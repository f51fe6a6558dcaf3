"""What the engine knows: its indicators, the shape of a rule (``RuleSpec``) and the defaults rules share.

The rules themselves, each a ``RuleSpec`` with its evaluator, are registered in ``core.alerts.rules``;
policies are validated against them, the API serves them (``alert-policies/rules/``) and the
rules reference is written from them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from core.inventory.models import IndustryProfile, VelocityClass

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
    "days_of_cover": "with a fresh forecast: days until available + in transit + approved inbound runs out at the "
    "forecast's daily mean; without one: available / ads_28 (days); empty when nothing sold (or none projected)",
    "inbound_approved": "units of approved transfers to the position not shipped yet",
    "days_of_cover_source": "forecast or moving_average: which demand days_of_cover used",
    "projected_stock_out_on": "today + whole days of cover (the day the stock is projected to run out)",
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
    "safety_stock_forecast": "the forecast's service-level quantile of lead-time demand minus its mean, "
    "x z(policy service level) / z(forecast's); empty without a fresh forecast",
    "reorder_point_forecast": "forecast mean demand over the lead time + safety_stock_forecast",
    "launch_sell_through": "sell-through since launch: sold / (sold + on hand)",
    "sell_through_weekly_change": "this week's sell-through against last week's (relative change)",
    "competitor_price_gap": "latest competitor price / list price - 1",
    "social_volume_change": "social volume, last 7 days against the 28 before (relative change)",
    "supplier_lead_time_index": "latest supplier lead-time index (1.0 = as promised)",
    "health_index": "0-100, weighted as documented in docs/engine.md (Indicators)",
    "upcoming_promotion": "the position's promotion running today or starting within the promotion_shortfall "
    "rule's lead_days: its days, discount, uplift and the uplift's source (learned, stated, elasticity, "
    "default_elasticity), and whether the fresh forecast already carries it",
    "days_to_end_of_life": "days from today to the SKU's end_of_life_on (its last selling day)",
    "unsold_at_end_of_life": "available + in transit + approved inbound - projected demand through the end of life, "
    "floored at 0 (units)",
    "days_to_season_end": "days from today to the SKU's season_ends_on (its last full-price selling day)",
    "unsold_at_season_end": "available + in transit + approved inbound - projected demand through the season end, "
    "floored at 0 (units)",
    "unsold_share": "unsold at the last selling day / stock held (available + in transit + approved inbound)",
}


@dataclass(frozen=True)
class Threshold:
    """A rule's threshold on one indicator: its built-in default and the values a policy may set,
    which keep the condition's direction and leave no zero to divide by."""

    default: float
    minimum: float
    maximum: float


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


# The settings of every rule whose response sources stock: when an RFQ goes to the backup suppliers
# and how it is run.
RFQ_PARAMETERS = {
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
}

# The direction of the rules whose alerts call for stock: a review, a replenishment order, an RFQ to
# the backup suppliers, a transfer in. Which rules those are is their RuleSpec's direction, nowhere else.
STOCK_OUT = "stock_out"


@dataclass(frozen=True)
class RuleSpec:
    """Everything about one rule: what it warns of, the indicators it reads, its evaluator, its
    thresholds with their ranges and its parameters. The registry is ``core.alerts.rules.RULES``."""

    code: str
    direction: str  # overstock | stock_out | launch | decline | compound: decides the response
    summary: str
    graded_by: str
    evaluator: Callable[..., Any]  # (reading, Effective) -> Trip | None
    indicators: tuple[str, ...]  # names in INDICATORS the evaluator reads
    standard_help: str = ""
    thresholds: dict[str, Threshold] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    # The industry profiles (category ``profile``) the rule applies to; None: every profile.
    profiles: frozenset[str] | None = None

    def applies_to(self, profile: str) -> bool:
        return self.profiles is None or profile in self.profiles

    @property
    def profiles_listed(self) -> list[str] | None:
        """The profiles in a stable order, or None for every profile (as the API answers them)."""
        return sorted(self.profiles) if self.profiles is not None else None

    @property
    def threshold_defaults(self) -> dict[str, float]:
        return {name: threshold.default for name, threshold in self.thresholds.items()}


def rules_check(rules: dict[str, RuleSpec], codes: list[str]) -> list[str]:
    """What is wrong with a rule registry: codes that disagree with the enum, names the catalog does
    not know, defaults outside their own range. Empty when all agree."""
    problems = []
    if missing := sorted(set(codes) - set(rules)):
        problems.append(f"rule codes without a RuleSpec: {', '.join(missing)}")
    if unknown := sorted(set(rules) - set(codes)):
        problems.append(f"RuleSpecs without a rule code: {', '.join(unknown)}")
    for code, spec in rules.items():
        if spec.code != code:
            problems.append(f"{code}: registered under another code than its own ({spec.code})")
        if not callable(spec.evaluator):
            problems.append(f"{code}: no evaluator")
        for name in spec.indicators:
            if name not in INDICATORS:
                problems.append(f"{code}: reads {name!r}, which is not in INDICATORS")
        for name, threshold in spec.thresholds.items():
            if name not in spec.indicators:
                problems.append(f"{code}: threshold {name!r} is on an indicator the rule does not list")
            if not threshold.minimum <= threshold.default <= threshold.maximum:
                problems.append(f"{code}: threshold {name!r} defaults outside its range")
        for name, parameter in spec.parameters.items():
            if parameter.choices:
                if parameter.default not in parameter.choices:
                    problems.append(f"{code}: parameter {name!r} defaults outside its choices")
            elif (
                not (parameter.minimum or 0)
                <= parameter.default
                <= (parameter.maximum if parameter.maximum is not None else 1e9)
            ):
                problems.append(f"{code}: parameter {name!r} defaults outside its range")
        if spec.profiles is not None and (unknown := sorted(spec.profiles - set(IndustryProfile.values))):
            problems.append(f"{code}: unknown profiles {', '.join(unknown)}")
    return problems


# Weights of the health index (they sum to 100); each component scores 0 (bad) to 1 (healthy).
HEALTH_WEIGHTS = {
    "availability": 30,  # min(available / safety stock, cover / lead time), 1 when nothing sells
    "turnover": 20,  # standard / turnover days, 0 with stock and no sales in 90 days
    "age": 15,  # 90 / weighted age beyond 90 days
    "expiry": 15,  # 1 - expiry_at_risk / on hand
    "trend": 10,  # 1 + week-over-week change, within 0..1
    "sell_through": 10,  # sell_through_28 / 0.30, within 0..1
}


@dataclass(frozen=True)
class Effective:
    """One rule's settings for one SKU, with where each came from (for the explanation)."""

    rule: str
    enabled: bool
    standard: float | None
    bands: tuple[float, float, float]
    thresholds: dict[str, float]
    parameters: dict[str, float | str]
    sources: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        yellow, orange, red = self.bands
        return {
            "standard": self.standard,
            "bands": {"yellow": yellow, "orange": orange, "red": red},
            "thresholds": self.thresholds,
            "parameters": self.parameters,
            "sources": self.sources,
        }

    @cached_property
    def as_json(self) -> str:
        """``as_dict`` as sorted JSON text, made once: every alert of the SKU and rule shares it."""
        return json.dumps(self.as_dict(), sort_keys=True)
