"""The response each grade calls for, recorded on the alert as a recommendation with figures.

The engine asks for it through its ``grade_response`` hook while it evaluates a chunk.

Overstock, slow-moving and expiry: yellow a markdown, orange a transfer to where it sells, red a
clearance plan. The stock-out direction (stock-out risk, promotion shortfall): yellow a review,
orange a replenishment order, red an emergency RFQ to the backup suppliers. A launch that does not
sell calls for re-distribution, a declining product for clearance, a compound
demand-supply-competition risk for a cross-functional review.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db.models import QuerySet

from core.alerts.catalog import STOCK_OUT
from core.alerts.models import Grade, IndicatorReading, RuleCode
from core.alerts.rules import Trip
from core.supply.models import SupplierOffer
from core.transfers.cover import COVER_TARGET_DAYS, cover_stock


@dataclass
class ResponseContext:
    """Figures from other positions, fetched once per chunk for the SKUs that need them."""

    targets: dict[object, list[dict]] = field(default_factory=dict)  # sku -> positions that sell it
    backups: dict[object, list[dict]] = field(default_factory=dict)  # sku -> backup suppliers by rank


# The profile rules: (days to the last selling day, unsold then, the last day) as their trips' inputs name them.
LAST_DAY_INPUTS = {
    RuleCode.OBSOLESCENCE_RISK: ("days_to_end_of_life", "unsold_at_end_of_life", "end_of_life_on"),
    RuleCode.SEASON_END_OVERSTOCK: ("days_to_season_end", "unsold_at_season_end", "season_ends_on"),
}


def needs_target(trip: Trip) -> bool:
    # The profile rules offer a transfer at any grade while there is time for one.
    return (
        trip.direction == "launch"
        or (trip.direction == "overstock" and trip.grade == Grade.ORANGE)
        or trip.rule in LAST_DAY_INPUTS
    )


def needs_backups(trip: Trip) -> bool:
    return trip.direction == STOCK_OUT and trip.grade == Grade.RED


def context_load(*, tenant_id: object, target_skus: set, backup_skus: set) -> ResponseContext:
    context = ResponseContext()
    if target_skus:
        readings: QuerySet = (
            IndicatorReading.objects.filter(
                # A forecast that projects no stock-out leaves the cover empty: that warehouse needs no stock.
                tenant_id=tenant_id,
                sku_id__in=target_skus,
                ads_28__gt=0,
                days_of_cover__isnull=False,
            )
            .order_by("sku_id", "days_of_cover", "position_id")
            .values("sku_id", "warehouse_id", "warehouse__code", "days_of_cover", "ads_28", "available")
        )
        for row in readings:
            context.targets.setdefault(row["sku_id"], []).append(row)
    if backup_skus:
        offers = (
            SupplierOffer.objects.filter(tenant_id=tenant_id, sku_id__in=backup_skus, rank__gte=2)
            .select_related("supplier")
            .order_by("sku_id", "rank", "created_at")
        )
        for offer in offers:
            context.backups.setdefault(offer.sku_id, []).append(
                {
                    "supplier_id": str(offer.supplier_id),
                    "supplier": offer.supplier.name,
                    "rank": offer.rank,
                    "lead_time_days": offer.lead_time_days,
                    "unit_price": str(offer.unit_price),
                    "min_order_quantity": offer.min_order_quantity,
                }
            )
    return context


def _excess(trip: Trip, reading: dict) -> int:
    on_hand, available = reading["on_hand"], reading["available"]
    beyond_cover = max(0, available - cover_stock(reading["ads_28"]))
    if trip.rule == RuleCode.OVERSTOCK:
        # Stock beyond what sells in the standard's days at the 90-day rate, from whole units.
        standard = trip.thresholds["standard"]
        return max(0, on_hand - math.ceil(reading["units_sold_90"] * standard / 90))
    if trip.rule == RuleCode.SLOW_MOVING:
        aged = reading["age_91_180"] + reading["age_over_180"]
        return min(on_hand, aged) or beyond_cover
    if trip.rule == RuleCode.EXPIRY_RISK:
        return reading["expiry_at_risk"]
    if trip.rule in LAST_DAY_INPUTS:
        return math.ceil(trip.inputs[LAST_DAY_INPUTS[trip.rule][1]])
    return beyond_cover


def _clamp(value: float, low: int, high: int) -> int:
    return int(max(low, min(high, round(value))))


def _transfer(trip: Trip, reading: dict, context: ResponseContext, quantity: int, action: str) -> dict:
    candidates = [
        row
        for row in context.targets.get(reading["sku_id"], [])
        if row["warehouse_id"] != reading["warehouse_id"] and (row["days_of_cover"] or 0) < COVER_TARGET_DAYS
    ]
    if not candidates:
        return {
            "action": action,
            "quantity": quantity,
            "to_warehouse": None,
            "summary": f"Move {quantity} units to where the SKU sells; no other warehouse sells it short of "
            f"{COVER_TARGET_DAYS} days of cover now, so consider a markdown instead.",
        }
    target = candidates[0]
    need = max(0, cover_stock(target["ads_28"]) - target["available"])
    moved = min(quantity, need) if need else quantity
    return {
        "action": action,
        "quantity": moved,
        "to_warehouse": target["warehouse__code"],
        "target_days_of_cover": target["days_of_cover"],
        "target_ads_28": target["ads_28"],
        "summary": f"Transfer {moved} units to {target['warehouse__code']}, which sells "
        f"{target['ads_28']:g} a day with {target['days_of_cover']:g} days of cover.",
    }


def _stock_need(trip: Trip, reading: dict) -> tuple[int, dict, str]:
    """(units to order, the figures shown with them, what they achieve) of a stock-out-direction trip,
    raised to the primary supplier's minimum order quantity.

    A promotion shortfall asks for its shortfall by the order-by day (the promotion start less the lead
    time); the stock-out risk for what restores the order-up-to level.
    """
    inputs = trip.inputs
    moq = reading["details"]["min_order_quantity"] or 1
    if "shortfall" in inputs:
        quantity = max(0, math.ceil(inputs["shortfall"]))
        figures = {
            "shortfall": inputs["shortfall"],
            "order_by": inputs["order_by"],
            "order_by_passed": inputs["order_by_passed"],
            "needed_by": inputs["promotion_starts_on"],
            "promotion_id": inputs["promotion_id"],
        }
        need = f"cover the promotion starting {inputs['promotion_starts_on']} (order by {inputs['order_by']}" + (
            ", already passed: use the emergency path)" if inputs["order_by_passed"] else ")"
        )
    else:
        lead_time = inputs["lead_time_days"]
        review = float(trip.thresholds["parameters"]["review_period_days"])
        if inputs.get("order_up_to") is not None:  # the forecast method: its demand over lead time + review
            order_up_to = inputs["order_up_to"]
        else:
            order_up_to = inputs["safety_stock"] + inputs["ads_28"] * (lead_time + review)
        coming = inputs["in_transit"] + (inputs.get("inbound_approved") or 0)
        quantity = max(0, math.ceil(order_up_to - inputs["available"] - coming))
        figures = {"order_up_to": round(order_up_to, 2)} if trip.grade == Grade.ORANGE else {}
        need = f"restore the order-up-to level of {order_up_to:.0f}"
    if quantity:
        quantity = max(quantity, moq)
    return quantity, figures, need


def _clearance(quantity: int, value: float, percent: int, why: str) -> dict:
    return {
        "action": "clearance",
        "quantity": quantity,
        "discount_percent": percent,
        "value_at_cost": round(value, 2),
        "summary": f"Clear {quantity} units (cost value {value:,.2f}) at up to {percent} % off through "
        f"outlets, bundles or a liquidator{why}.",
    }


def _before_last_day(trip: Trip, reading: dict, context: ResponseContext) -> dict:
    """Obsolescence and season-end overstock: the response depends on the days left before the last
    selling day. Close to it (``clearance_days``), a clearance of what is projected unsold; before it,
    stop replenishing and sell the unsold stock off while the SKU still sells: the extra units a day
    that takes (run_down_per_day: unsold / days left, today and the last day included), by a transfer
    to where it sells or a markdown (season end: a markdown from ``markdown_start_days`` before it)."""
    days_key, unsold_key, day_key = LAST_DAY_INPUTS[trip.rule]
    days, unsold, last_day = trip.inputs[days_key], trip.inputs[unsold_key], trip.inputs[day_key]
    parameters = trip.thresholds["parameters"]
    quantity = _excess(trip, reading)
    value = float(reading["unit_cost"]) * quantity
    successor = trip.inputs.get("successor")
    obsolete = trip.rule == RuleCode.OBSOLESCENCE_RISK
    when = f"end of life on {last_day}" if obsolete else f"season end on {last_day}"
    figures = {
        days_key: days,
        unsold_key: unsold,
        day_key: last_day,
        "stop_replenishment": True,
        "run_down_per_day": round(unsold / (days + 1), 2),
    }
    if obsolete:
        figures["successor"] = successor
    moving = f"; move demand to {successor}" if successor else ""
    if days <= parameters["clearance_days"]:
        percent = _clamp((trip.deviation if trip.deviation is not None else 0.5) * 100, 30, 70)
        advice = _clearance(quantity, value, percent, f" before the {when}{moving}")
        return {**advice, **figures}
    head = (
        f"Stop replenishment: {unsold:g} units are projected unsold at the {when}; selling them off takes "
        f"{figures['run_down_per_day']:g} more units a day{moving}. "
    )
    markdown_now = not obsolete and days <= parameters["markdown_start_days"]
    target = None if markdown_now else _transfer(trip, reading, context, quantity, "transfer")
    if target is not None and target["to_warehouse"]:
        return {**target, **figures, "summary": head + target["summary"]}
    later = (
        "" if markdown_now or obsolete else f" from {parameters['markdown_start_days']:g} days before the season end"
    )
    advice = {
        "action": "markdown",
        "quantity": quantity,
        "summary": head + f"Mark down {quantity} units{later}; the markdown playbook sets the percent from the "
        "price response.",
    }
    return {**advice, **figures}


def recommend(trip: Trip, reading: dict, context: ResponseContext) -> dict:
    """The recommendation for the trip's direction and grade, with its figures."""
    deviation = trip.deviation
    if trip.rule in LAST_DAY_INPUTS:
        return _before_last_day(trip, reading, context)
    if trip.direction in ("overstock", "decline", "launch"):
        quantity = _excess(trip, reading)
        value = float(reading["unit_cost"]) * quantity
        if trip.direction == "launch":
            return _transfer(trip, reading, context, quantity, "redistribution")
        if trip.direction == "overstock" and trip.grade == Grade.YELLOW:
            percent = _clamp((deviation or 0.6) * 50, 5, 30)
            return {
                "action": "markdown",
                "percent": percent,
                "quantity": quantity,
                "summary": f"Mark down {percent} % to sell {quantity} units of excess stock.",
            }
        if trip.direction == "overstock" and trip.grade == Grade.ORANGE:
            return _transfer(trip, reading, context, quantity, "transfer")
        percent = _clamp((deviation if deviation is not None else 0.5) * 100, 30, 70)
        return _clearance(quantity, value, percent, "")
    if trip.direction == STOCK_OUT:
        quantity, figures, need = _stock_need(trip, reading)
        lead_time = trip.inputs["lead_time_days"]
        if trip.grade == Grade.YELLOW:
            return {
                "action": "review",
                "quantity": quantity,
                **figures,
                "summary": f"Review demand and open orders: {quantity} units would {need}.",
            }
        if trip.grade == Grade.ORANGE:
            by = f" by {figures['order_by']}" if "order_by" in figures else ""
            return {
                "action": "replenishment_order",
                "quantity": quantity,
                **figures,
                "summary": f"Order {quantity} units from the primary supplier{by} (lead time {lead_time} days).",
            }
        backups = context.backups.get(reading["sku_id"], [])
        return {
            "action": "emergency_rfq",
            "quantity": quantity,
            **figures,
            "suppliers": backups,
            "summary": f"Send an emergency RFQ for {quantity} units to "
            + (f"{len(backups)} backup supplier(s)." if backups else "backup suppliers: none is on file, add one."),
        }
    return {
        "action": "risk_review",
        "summary": "Demand, supply and competition are all moving against this SKU: hold replenishment, review "
        "price against the competitor and confirm supply before the next order.",
        **trip.inputs,
    }


def trips_recommend(*, tenant_id: object, readings: dict[int, dict], trips: dict[tuple, Trip]) -> None:
    """Every trip of a chunk gets its recommendation, from one context load for the chunk."""
    target_skus = {readings[pid]["sku_id"] for (pid, _), trip in trips.items() if needs_target(trip)}
    backup_skus = {readings[pid]["sku_id"] for (pid, _), trip in trips.items() if needs_backups(trip)}
    context = context_load(tenant_id=tenant_id, target_skus=target_skus, backup_skus=backup_skus)
    for (pid, _), trip in trips.items():
        trip.recommendation = recommend(trip, readings[pid], context)
