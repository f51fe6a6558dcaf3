"""The response each grade calls for (``core/playbooks/recommend.py``), on figures worked out in the
comments: ``recommend`` and ``cover_stock`` are pure, so these need no database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.alerts import grade_response
from core.alerts.models import Grade, RuleCode
from core.alerts.rules import Trip
from core.playbooks.recommend import ResponseContext, needs_backups, needs_target, recommend, trips_recommend
from core.transfers.cover import cover_stock

SKU, HERE, THERE, FULL = "sku-1", "wh-here", "wh-there", "wh-full"


def trip(rule: str, grade: str, deviation: float | None = None, **inputs: object) -> Trip:
    return Trip(
        rule=rule,
        grade=grade,
        deviation=deviation,
        inputs=inputs,
        thresholds={"standard": 90, "parameters": {"review_period_days": 7}},
        explanation="",
    )


def reading(**values: object) -> dict:
    """200 on hand and available, 60 sold in 90 days, 1 a day over 28, unit cost 2.50."""
    return {
        "sku_id": SKU,
        "warehouse_id": HERE,
        "on_hand": 200,
        "available": 200,
        "units_sold_90": 60,
        "ads_28": 1.0,
        "age_91_180": 0,
        "age_over_180": 0,
        "expiry_at_risk": 0,
        "unit_cost": "2.50",
        "details": {"min_order_quantity": None},
        **values,
    }


def target(warehouse: str, code: str, ads_28: float, available: int, days_of_cover: float | None) -> dict:
    return {
        "sku_id": SKU,
        "warehouse_id": warehouse,
        "warehouse__code": code,
        "ads_28": ads_28,
        "available": available,
        "days_of_cover": days_of_cover,
    }


NOWHERE = ResponseContext()


# --- Cover ----------------------------------------------------------------------------------------


def test_cover_stock_is_four_weeks_of_the_whole_units_sold():
    # 27 sold in 28 days is stored as 0.9643 a day: 0.9643 x 28 = 27.0004, rounded to the 27 sold,
    # and four weeks of 27 / 28 a day are 27 units (a ceiling of 27.0004 would say 28).
    assert cover_stock(0.9643) == 27
    assert cover_stock(2.0) == 56
    assert cover_stock(0.0) == 0


# --- Overstock, slow-moving, expiry, decline, launch ----------------------------------------------


def test_a_yellow_overstock_marks_down_half_its_deviation_within_5_to_30_percent():
    # Excess: 200 on hand - ceil(60 sold x 90 standard days / 90) = 140. 0.4 x 50 = 20 %.
    assert recommend(trip(RuleCode.OVERSTOCK, Grade.YELLOW, 0.4), reading(), NOWHERE) == {
        "action": "markdown",
        "percent": 20,
        "quantity": 140,
        "summary": "Mark down 20 % to sell 140 units of excess stock.",
    }
    # 0.05 x 50 = 2.5 -> raised to 5; 1.2 x 50 = 60 -> cut to 30; no deviation -> 0.6 x 50 = 30.
    percents = [
        recommend(trip(RuleCode.OVERSTOCK, Grade.YELLOW, deviation), reading(), NOWHERE)["percent"]
        for deviation in (0.05, 1.2, None)
    ]
    assert percents == [5, 30, 30]


def test_a_red_overstock_clears_at_its_deviation_within_30_to_70_percent_with_its_cost_value():
    # 140 excess x 2.50 = 350.00 at cost; deviation 0.45 -> 45 % off.
    assert recommend(trip(RuleCode.OVERSTOCK, Grade.RED, 0.45), reading(), NOWHERE) == {
        "action": "clearance",
        "quantity": 140,
        "discount_percent": 45,
        "value_at_cost": 350.0,
        "summary": "Clear 140 units (cost value 350.00) at up to 45 % off through outlets, bundles or a liquidator.",
    }
    # 0.1 -> 10 -> raised to 30; 0.9 -> 90 -> cut to 70; no deviation -> 0.5 x 100 = 50.
    percents = [
        recommend(trip(RuleCode.OVERSTOCK, Grade.RED, deviation), reading(), NOWHERE)["discount_percent"]
        for deviation in (0.1, 0.9, None)
    ]
    assert percents == [30, 70, 50]


def test_slow_moving_stock_counts_the_aged_units_else_what_lies_beyond_cover():
    # 30 + 25 units older than 90 days, of 200 on hand: 55 to clear.
    aged = reading(age_91_180=30, age_over_180=25)
    assert recommend(trip(RuleCode.SLOW_MOVING, Grade.RED, 0.5), aged, NOWHERE)["quantity"] == 55
    # Nothing aged: 200 available - 28 units of cover at 1 a day = 172.
    assert recommend(trip(RuleCode.SLOW_MOVING, Grade.RED, 0.5), reading(), NOWHERE)["quantity"] == 172


def test_expiry_risk_clears_the_units_at_risk_and_a_decline_what_lies_beyond_cover():
    assert recommend(trip(RuleCode.EXPIRY_RISK, Grade.RED, 0.5), reading(expiry_at_risk=33), NOWHERE)["quantity"] == 33
    # A declining product is cleared whatever its grade: 200 - 28 = 172 at 0.35 x 100 = 35 % off.
    declining = recommend(trip(RuleCode.DECLINING_PRODUCT, Grade.YELLOW, 0.35), reading(), NOWHERE)
    assert (declining["action"], declining["quantity"], declining["discount_percent"]) == ("clearance", 172, 35)


def test_an_orange_overstock_moves_what_the_first_short_warehouse_needs_to_reach_four_weeks():
    # Candidates by days of cover: the own warehouse and one with 30 days (>= 28) are passed over.
    # THERE sells 2 a day with 10 available: it needs 56 - 10 = 46 of the 140 excess.
    context = ResponseContext(
        targets={
            SKU: [
                target(HERE, "W-HERE", 5.0, 1, 0.2),
                target(THERE, "W-S", 2.0, 10, 5.0),
                target(FULL, "W-F", 1.0, 30, 30.0),
            ]
        }
    )
    assert recommend(trip(RuleCode.OVERSTOCK, Grade.ORANGE, 0.3), reading(), context) == {
        "action": "transfer",
        "quantity": 46,
        "to_warehouse": "W-S",
        "target_days_of_cover": 5.0,
        "target_ads_28": 2.0,
        "summary": "Transfer 46 units to W-S, which sells 2 a day with 5 days of cover.",
    }
    # A target that already holds four weeks' worth (need 0) takes the whole excess.
    stocked = ResponseContext(targets={SKU: [target(THERE, "W-S", 2.0, 60, 5.0)]})
    assert recommend(trip(RuleCode.OVERSTOCK, Grade.ORANGE, 0.3), reading(), stocked)["quantity"] == 140


def test_a_launch_with_nowhere_short_to_go_is_redistributed_nowhere_and_says_so():
    # Launch: the stock beyond cover, 200 - 28 = 172; the only other warehouse has 30 days of cover.
    context = ResponseContext(targets={SKU: [target(FULL, "W-F", 1.0, 30, 30.0)]})
    assert recommend(trip(RuleCode.LAUNCH_CHECK, Grade.YELLOW, 0.2), reading(), context) == {
        "action": "redistribution",
        "quantity": 172,
        "to_warehouse": None,
        "summary": "Move 172 units to where the SKU sells; no other warehouse sells it short of 28 days of cover "
        "now, so consider a markdown instead.",
    }


# --- Stock-out ------------------------------------------------------------------------------------

SHORT = {"lead_time_days": 10, "safety_stock": 20, "ads_28": 5, "available": 30, "in_transit": 10}


def test_a_stock_out_orders_up_to_safety_stock_plus_lead_time_and_review_at_least_the_moq():
    # Order-up-to 20 + 5 x (10 + 7) = 105; 105 - 30 available - 10 in transit = 65 units.
    assert recommend(trip(RuleCode.STOCK_OUT_RISK, Grade.YELLOW, 0.5, **SHORT), reading(), NOWHERE) == {
        "action": "review",
        "quantity": 65,
        "summary": "Review demand and open orders: 65 units would restore the order-up-to level of 105.",
    }
    # Orange orders from the primary supplier, rounded up to its minimum order of 100.
    moq = reading(details={"min_order_quantity": 100})
    assert recommend(trip(RuleCode.STOCK_OUT_RISK, Grade.ORANGE, 0.5, **SHORT), moq, NOWHERE) == {
        "action": "replenishment_order",
        "quantity": 100,
        "order_up_to": 105.0,
        "summary": "Order 100 units from the primary supplier (lead time 10 days).",
    }
    # Enough on hand and on the way (60 + 50 >= 105): nothing to order, the minimum order aside.
    covered = {**SHORT, "available": 60, "in_transit": 50}
    assert recommend(trip(RuleCode.STOCK_OUT_RISK, Grade.ORANGE, 0.5, **covered), moq, NOWHERE)["quantity"] == 0


def test_a_red_stock_out_sends_an_emergency_rfq_to_the_backups_on_file():
    backups = [{"supplier": "Backup B", "rank": 2}, {"supplier": "Backup C", "rank": 3}]
    found = recommend(
        trip(RuleCode.STOCK_OUT_RISK, Grade.RED, 1.0, **SHORT), reading(), ResponseContext(backups={SKU: backups})
    )
    assert found == {
        "action": "emergency_rfq",
        "quantity": 65,
        "suppliers": backups,
        "summary": "Send an emergency RFQ for 65 units to 2 backup supplier(s).",
    }
    alone = recommend(trip(RuleCode.STOCK_OUT_RISK, Grade.RED, 1.0, **SHORT), reading(), NOWHERE)
    assert alone["summary"] == "Send an emergency RFQ for 65 units to backup suppliers: none is on file, add one."


def test_the_compound_risk_asks_for_a_review_with_its_inputs():
    found = recommend(
        trip(RuleCode.THREE_DIMENSION_RISK, Grade.RED, None, social_volume_change=-0.4), reading(), NOWHERE
    )
    assert (found["action"], found["social_volume_change"]) == ("risk_review", -0.4)


def test_only_orange_overstock_and_launch_need_a_target_only_red_stock_out_needs_backups():
    wants = {
        (rule, grade): (needs_target(trip(rule, grade)), needs_backups(trip(rule, grade)))
        for rule in (RuleCode.OVERSTOCK, RuleCode.LAUNCH_CHECK, RuleCode.STOCK_OUT_RISK)
        for grade in (Grade.YELLOW, Grade.ORANGE, Grade.RED)
    }
    assert {key for key, (target_, _) in wants.items() if target_} == {
        (RuleCode.OVERSTOCK, Grade.ORANGE),
        (RuleCode.LAUNCH_CHECK, Grade.YELLOW),
        (RuleCode.LAUNCH_CHECK, Grade.ORANGE),
        (RuleCode.LAUNCH_CHECK, Grade.RED),
    }
    assert {key for key, (_, backups) in wants.items() if backups} == {(RuleCode.STOCK_OUT_RISK, Grade.RED)}


# --- The engine's hook ----------------------------------------------------------------------------


def test_the_engine_asks_the_playbooks_through_the_hook_alerts_own(monkeypatch):
    # Filled when Django starts (PlaybooksConfig.ready); without it the engine refuses to guess.
    assert grade_response._registered == [trips_recommend]
    monkeypatch.setattr(grade_response, "_registered", [])
    with pytest.raises(ImproperlyConfigured, match=r"core\.playbooks"):
        grade_response.trips_recommend(tenant_id=None, readings={}, trips={})
