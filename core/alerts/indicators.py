"""Indicators of many positions at once: one SQL statement over daily facts, lots, offers and signals.

SQL does the reading and aggregating (every window, week and lot bucket in one pass per table);
``reading_derive`` turns one aggregated row into the documented indicators, with the
stock-out policy's parameters (service level, volatility coefficient) of that position's SKU.
The formulas are in ``catalog.INDICATORS`` and README.
"""

from __future__ import annotations

import math
from datetime import date
from functools import lru_cache
from statistics import NormalDist

from core.alerts.catalog import HEALTH_WEIGHTS
from core.alerts.policies import Effective

FACT_DAYS = 90  # the longest window read from the daily facts
WEEKS = 12  # weekly sales kept for the consecutive-decline count
NET_WEEKS = 9  # weekly net stock change, to rebuild week-end stock for weekly sell-through


def _weekly(column: str, weeks: int) -> str:
    parts = [f"COALESCE(sum(f.{column}) FILTER (WHERE f.week = {k}), 0)" for k in range(weeks)]
    return "ARRAY[" + ", ".join(parts) + "]::bigint[]"


INDICATOR_SQL = f"""
WITH pos AS (
    SELECT p.id, p.sku_id, p.warehouse_id, p.on_hand, p.reserved, p.in_transit,
           s.category_id, s.velocity_class, s.launch_date, s.unit_cost, s.list_price, c.profile
    FROM inventory_position p
    JOIN inventory_sku s ON s.id = p.sku_id
    JOIN inventory_category c ON c.id = s.category_id
    WHERE p.tenant_id = %(tenant)s AND p.id = ANY(%(ids)s)
), facts AS (
    SELECT f.position_id,
           COALESCE(sum(f.units_sold) FILTER (WHERE f.week = 0), 0)::bigint AS sold_7,
           COALESCE(sum(f.units_sold) FILTER (WHERE f.week < 4), 0)::bigint AS sold_28,
           sum(f.units_sold)::bigint AS sold_90,
           COALESCE(sum(f.units_sold * f.units_sold) FILTER (WHERE f.week < 4), 0)::bigint AS sold_sq_28,
           sum(f.net_change * ({FACT_DAYS - 1} - f.age))::bigint AS net_weighted,
           sum(f.receipts_promised)::bigint AS receipts_promised,
           sum(f.receipt_delay_days)::bigint AS delay_sum,
           sum(f.receipt_delay_days_sq)::bigint AS delay_sq_sum,
           {_weekly("units_sold", WEEKS)} AS weekly_sold,
           {_weekly("net_change", NET_WEEKS)} AS weekly_net
    FROM (
        -- Each fact's age in days and its week (0 = the last 7 days), worked out once per row:
        -- OFFSET 0 keeps the planner from inlining them into each of the 25 filters. No join: the
        -- facts of a chunk are read straight from their index.
        SELECT f.position_id, f.units_sold, f.net_change, f.receipts_promised, f.receipt_delay_days,
               f.receipt_delay_days_sq, %(today)s - f.day AS age, (%(today)s - f.day) / 7 AS week
        FROM inventory_dailyfact f
        WHERE f.tenant_id = %(tenant)s AND f.position_id = ANY(%(ids)s)
          AND f.day > %(today)s - {FACT_DAYS} AND f.day <= %(today)s
        OFFSET 0
    ) f
    GROUP BY f.position_id
), launched AS (
    -- Sales since launch of SKUs launched inside the window (for the rest it is the window's).
    SELECT f.position_id, sum(f.units_sold)::bigint AS sold
    FROM inventory_dailyfact f JOIN pos ON pos.id = f.position_id
    WHERE f.tenant_id = %(tenant)s
      AND f.position_id = ANY(ARRAY(SELECT id FROM pos WHERE launch_date > %(today)s - {FACT_DAYS}))
      AND f.day >= pos.launch_date AND f.day <= %(today)s
    GROUP BY f.position_id
), lots AS (
    SELECT l.position_id,
           COALESCE(sum(l.quantity) FILTER (WHERE %(today)s - l.received_on <= 30), 0)::bigint AS age_0_30,
           COALESCE(sum(l.quantity) FILTER (WHERE %(today)s - l.received_on BETWEEN 31 AND 60), 0)::bigint
               AS age_31_60,
           COALESCE(sum(l.quantity) FILTER (WHERE %(today)s - l.received_on BETWEEN 61 AND 90), 0)::bigint
               AS age_61_90,
           COALESCE(sum(l.quantity) FILTER (WHERE %(today)s - l.received_on BETWEEN 91 AND 180), 0)::bigint
               AS age_91_180,
           COALESCE(sum(l.quantity) FILTER (WHERE %(today)s - l.received_on > 180), 0)::bigint AS age_over_180,
           sum(l.quantity * GREATEST(%(today)s - l.received_on, 0))::float8 / sum(l.quantity) AS weighted_age,
           min(l.expires_on) AS earliest_expiry
    FROM inventory_lot l
    WHERE l.tenant_id = %(tenant)s AND l.position_id = ANY(%(ids)s) AND l.quantity > 0
    GROUP BY l.position_id
), expiry AS (
    -- Selling at the 28-day rate, first-expired-first-out, what cannot be sold by each expiry day
    -- is the cumulative quantity expiring by then minus what the rate sells by then; the worst
    -- such cut is what will expire unsold.
    SELECT x.position_id, GREATEST(max(x.cumulative - x.rate * GREATEST(x.days_left, 0)), 0)::float8 AS at_risk
    FROM (
        SELECT l.position_id, l.expires_on - %(today)s AS days_left,
               sum(l.quantity) OVER (PARTITION BY l.position_id ORDER BY l.expires_on) AS cumulative,
               COALESCE(facts.sold_28, 0) / 28.0 AS rate
        FROM inventory_lot l LEFT JOIN facts ON facts.position_id = l.position_id
        WHERE l.tenant_id = %(tenant)s AND l.position_id = ANY(%(ids)s) AND l.quantity > 0
          AND l.expires_on IS NOT NULL
    ) x
    GROUP BY x.position_id
), supply AS (
    SELECT o.sku_id,
           (array_agg(o.lead_time_days ORDER BY o.rank, o.created_at))[1] AS lead_time,
           max(o.lead_time_days) AS longest_lead_time,
           (array_agg(o.min_order_quantity ORDER BY o.rank, o.created_at))[1] AS min_order_quantity,
           count(*) FILTER (WHERE o.rank > 1) AS backups
    FROM procurement_supplieroffer o
    WHERE o.tenant_id = %(tenant)s AND o.sku_id IN (SELECT sku_id FROM pos)
    GROUP BY o.sku_id
), signals AS (
    SELECT g.sku_id,
           (array_agg(g.competitor_price ORDER BY g.day DESC)
                FILTER (WHERE g.competitor_price IS NOT NULL AND g.day > %(today)s - 14))[1] AS competitor_price,
           (avg(g.social_volume) FILTER (WHERE g.day > %(today)s - 7))::float8 AS social_recent,
           (avg(g.social_volume) FILTER (WHERE g.day <= %(today)s - 7))::float8 AS social_before,
           (array_agg(g.supplier_lead_time_index ORDER BY g.day DESC)
                FILTER (WHERE g.supplier_lead_time_index IS NOT NULL AND g.day > %(today)s - 14))[1]
                AS supplier_lead_time_index
    FROM alerts_signal g
    WHERE g.tenant_id = %(tenant)s AND g.sku_id IN (SELECT sku_id FROM pos)
      AND g.day > %(today)s - 35 AND g.day <= %(today)s
    GROUP BY g.sku_id
)
SELECT pos.*, facts.sold_7, facts.sold_28, facts.sold_90, facts.sold_sq_28, facts.net_weighted,
       CASE WHEN pos.launch_date IS NULL OR pos.launch_date > %(today)s THEN 0
            WHEN pos.launch_date > %(today)s - {FACT_DAYS} THEN COALESCE(launched.sold, 0)
            ELSE COALESCE(facts.sold_90, 0) END AS sold_since_launch,
       facts.receipts_promised, facts.delay_sum, facts.delay_sq_sum,
       facts.weekly_sold, facts.weekly_net,
       lots.age_0_30, lots.age_31_60, lots.age_61_90, lots.age_91_180, lots.age_over_180, lots.weighted_age,
       lots.earliest_expiry, expiry.at_risk,
       supply.lead_time, supply.longest_lead_time, supply.min_order_quantity, supply.backups,
       signals.competitor_price, signals.social_recent, signals.social_before, signals.supplier_lead_time_index,
       reading.fingerprint AS reading_fingerprint
FROM pos
-- The chunk's ids again: the readings' primary key answers them, whatever the table's statistics say.
LEFT JOIN alerts_indicatorreading reading ON reading.position_id = pos.id AND reading.position_id = ANY(%(ids)s)
LEFT JOIN facts ON facts.position_id = pos.id
LEFT JOIN launched ON launched.position_id = pos.id
LEFT JOIN lots ON lots.position_id = pos.id
LEFT JOIN expiry ON expiry.position_id = pos.id
LEFT JOIN supply ON supply.sku_id = pos.sku_id
LEFT JOIN signals ON signals.sku_id = pos.sku_id
ORDER BY pos.id
"""  # noqa: S608 - constants only


def indicator_rows(cursor, *, tenant_id: object, position_ids: list[int], today: date) -> list[dict]:  # noqa: ANN001
    """The aggregated inputs of every listed position, one row each, in id order."""
    cursor.execute(INDICATOR_SQL, {"tenant": tenant_id, "ids": position_ids, "today": today})
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@lru_cache(maxsize=64)
def _z(service_level: float) -> float:
    """The standard normal quantile of the service level (0.95 -> 1.645)."""
    return NormalDist().inv_cdf(service_level)


def _r(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def _ratio_change(now: float, before: float) -> float | None:
    return (now - before) / before if before > 0 else None


def _clip(value: float) -> float:
    return 0.0 if value < 0 else 1.0 if value > 1 else value


def reading_derive(row: dict, stock_policy: Effective, turnover_standard: float, today: date) -> dict:
    """One position's indicators from its aggregated row (formulas documented in README)."""
    on_hand, reserved = row["on_hand"], row["reserved"]
    weighted_age = row["weighted_age"]
    available = on_hand - reserved
    sold_7, sold_28, sold_90 = row["sold_7"] or 0, row["sold_28"] or 0, row["sold_90"] or 0
    ads_7, ads_28, ads_90 = sold_7 / 7, sold_28 / 28, sold_90 / FACT_DAYS
    days_of_cover = available / ads_28 if ads_28 > 0 else None
    # End-of-day stock over the window, rebuilt backwards from today's on hand by the net changes.
    average_on_hand = max(0.0, on_hand - float(row["net_weighted"] or 0) / FACT_DAYS)
    # Unit cost cancels per position: COGS / average inventory value = units sold / average units.
    turnover_rate = (sold_90 / average_on_hand) * (365 / FACT_DAYS) if average_on_hand > 0 else None
    turnover_days = average_on_hand * FACT_DAYS / sold_90 if sold_90 > 0 else None
    sell_through_28 = sold_28 / (sold_28 + on_hand) if sold_28 + on_hand > 0 else None
    weekly = list(row["weekly_sold"]) if row["weekly_sold"] else [0] * WEEKS
    wow_change = _ratio_change(weekly[0], weekly[1])
    declines = 0
    while declines < WEEKS - 1 and weekly[declines] < weekly[declines + 1]:
        declines += 1
    # Weekly sell-through: week k's sales over (its sales + stock at its end).
    net = list(row["weekly_net"]) if row["weekly_net"] else [0] * NET_WEEKS
    week_end, weekly_st = on_hand, []
    for k in range(NET_WEEKS):
        sold = weekly[k]
        weekly_st.append(sold / (sold + week_end) if sold + week_end > 0 else None)
        week_end -= net[k]
    st_changes = [
        _ratio_change(weekly_st[k], weekly_st[k + 1])
        if weekly_st[k] is not None and weekly_st[k + 1] is not None
        else None
        for k in range(NET_WEEKS - 1)
    ]
    lead_time = row["lead_time"]
    lead_source = "primary supplier"
    if lead_time is None:
        lead_time, lead_source = float(stock_policy.parameters["default_lead_time_days"]), "policy default"
    longest = row["longest_lead_time"] if row["longest_lead_time"] is not None else lead_time
    n, delay_sum, delay_sq = row["receipts_promised"] or 0, row["delay_sum"] or 0, row["delay_sq_sum"] or 0
    lead_volatility = math.sqrt(max(0.0, (delay_sq - delay_sum * delay_sum / n) / (n - 1))) if n >= 2 else None
    variance = (row["sold_sq_28"] - sold_28 * sold_28 / 28) / 27 if row["sold_sq_28"] else 0.0
    sigma = math.sqrt(max(0.0, variance))
    z = _z(float(stock_policy.parameters["service_level"]))
    volatility_days = float(stock_policy.parameters["volatility_coefficient_days"])
    safety_cover = ads_28 * (longest + volatility_days)
    safety_service = z * sigma * math.sqrt(lead_time)
    uses_cover = stock_policy.parameters["safety_stock_method"] == "cover"
    safety_stock = safety_cover if uses_cover else safety_service
    at_risk = round(float(row["at_risk"])) if row["at_risk"] is not None else 0
    at_risk = min(at_risk, on_hand)
    days_to_expiry = (row["earliest_expiry"] - today).days if row["earliest_expiry"] else None
    launch_date = row["launch_date"]
    days_since_launch = (today - launch_date).days if launch_date else None
    since_launch = row["sold_since_launch"] or 0
    launch_st = since_launch / (since_launch + on_hand) if launch_date and since_launch + on_hand > 0 else None
    list_price = float(row["list_price"])
    competitor_gap = (
        float(row["competitor_price"]) / list_price - 1 if row["competitor_price"] is not None and list_price else None
    )
    social_change = (
        _ratio_change(float(row["social_recent"]), float(row["social_before"]))
        if row["social_recent"] is not None and row["social_before"] is not None
        else None
    )
    lead_index = row["supplier_lead_time_index"]
    stockout = ads_28 > 0 and (available < safety_stock or (days_of_cover is not None and days_of_cover < lead_time))
    # Unsold stock counts as overstock once it has sat longer than the standard turnover.
    unsold_too_long = turnover_days is None and (weighted_age or 0) >= turnover_standard
    overstock = on_hand > 0 and (unsold_too_long or (turnover_days or 0) > turnover_standard)
    components = {
        "availability": 1.0
        if ads_28 <= 0
        else min(
            _clip(available / safety_stock) if safety_stock > 0 else 1.0,
            _clip(days_of_cover / lead_time) if lead_time > 0 else 1.0,
        ),
        "turnover": 1.0
        if on_hand <= 0 or (turnover_days is None and not unsold_too_long)
        else 0.0
        if turnover_days is None
        else _clip(turnover_standard / turnover_days)
        if turnover_days > 0
        else 1.0,
        "age": 1.0 if not weighted_age or weighted_age <= 90 else _clip(90 / weighted_age),
        "expiry": 1.0 if on_hand <= 0 else _clip(1 - at_risk / on_hand),
        "trend": 1.0 if wow_change is None else _clip(1 + wow_change),
        "sell_through": 1.0 if sell_through_28 is None else _clip(sell_through_28 / 0.30),
    }
    health = round(sum(HEALTH_WEIGHTS[name] * score for name, score in components.items()))
    return {
        "position_id": row["id"],
        "sku_id": row["sku_id"],
        "warehouse_id": row["warehouse_id"],
        "as_of": today,
        "on_hand": on_hand,
        "available": available,
        "in_transit": row["in_transit"],
        "unit_cost": row["unit_cost"],
        "ads_7": round(ads_7, 4),
        "ads_28": round(ads_28, 4),
        "ads_90": round(ads_90, 4),
        "units_sold_90": sold_90,
        "days_of_cover": _r(days_of_cover, 2),
        "average_on_hand_90": round(average_on_hand, 2),
        "turnover_days": _r(turnover_days, 2),
        "turnover_rate": _r(turnover_rate),
        "sell_through_28": _r(sell_through_28),
        "wow_change": _r(wow_change),
        "weekly_declines": declines,
        "age_0_30": row["age_0_30"] or 0,
        "age_31_60": row["age_31_60"] or 0,
        "age_61_90": row["age_61_90"] or 0,
        "age_91_180": row["age_91_180"] or 0,
        "age_over_180": row["age_over_180"] or 0,
        "weighted_age_days": _r(weighted_age, 2),
        "expiry_at_risk": at_risk,
        "days_to_expiry": days_to_expiry,
        "lead_time_days": int(lead_time),
        "longest_lead_time_days": int(longest),
        "lead_time_volatility_days": _r(lead_volatility, 2),
        "demand_sigma_28": round(sigma, 4),
        "safety_stock_cover": round(safety_cover, 2),
        "safety_stock_service": round(safety_service, 2),
        "reorder_point_cover": round(ads_28 * lead_time + safety_cover, 2),
        "reorder_point_service": round(ads_28 * lead_time + safety_service, 2),
        "stockout_risk": stockout,
        "overstock": overstock,
        "health_index": health,
        "details": {
            "safety_stock": round(safety_stock, 2),
            "safety_stock_method": "cover" if uses_cover else "service_level",
            "service_level_z": round(z, 4),
            "lead_time_source": lead_source,
            "receipts_with_promised_day": n,
            "mean_receipt_delay_days": _r(delay_sum / n, 2) if n else None,
            "turnover_standard_days": turnover_standard,
            "weekly_sales": weekly,
            "weekly_sell_through": [_r(v) for v in weekly_st],
            "sell_through_weekly_changes": [_r(v) for v in st_changes],
            "expiry_at_risk_share": _r(at_risk / on_hand) if on_hand > 0 else None,
            "days_since_launch": days_since_launch,
            "launch_sell_through": _r(launch_st),
            "units_sold_since_launch": since_launch if launch_date else None,
            "competitor_price": float(row["competitor_price"]) if row["competitor_price"] is not None else None,
            "competitor_price_gap": _r(competitor_gap),
            "social_volume_change": _r(social_change),
            "supplier_lead_time_index": float(lead_index) if lead_index is not None else None,
            "min_order_quantity": row["min_order_quantity"],
            "backup_suppliers": row["backups"] or 0,
            "health_components": {name: _r(score, 3) for name, score in components.items()},
        },
    }
