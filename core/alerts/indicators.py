"""Indicators of many positions at once: one SQL statement over daily facts, lots, offers and signals.

SQL does the reading and aggregating (every window, week and lot bucket in one pass per table);
``readings_derive`` turns the aggregated rows of a chunk into the documented indicators, with the
stock-out policy's parameters (service level, volatility coefficient) of each position's SKU.
The formulas are in ``catalog.INDICATORS`` and docs/engine.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from core.alerts.catalog import HEALTH_WEIGHTS, Effective
from core.alerts.inbound import inbound_sql
from core.alerts.models import IndicatorReading
from core.alerts.projection import projected_stock
from core.bulk_copy import bigint_array
from core.forecasting.engine_reads import fresh_forecasts_sql
from core.inventory.models import Category, DailyFact, Lot, Position, Sku
from core.supply.selectors import sku_supply_terms_sql

FACT_DAYS = 90  # the longest window read from the daily facts
WEEKS = 12  # weekly sales kept for the consecutive-decline count
NET_WEEKS = 9  # weekly net stock change, to rebuild week-end stock for weekly sell-through
_NO_WEEKS = [0] * WEEKS
_NO_NET_WEEKS = [0] * NET_WEEKS
# The figures a reading stores, in the model's order, which is the order a reading lists them in.
_STORED = [
    field.column
    for field in IndicatorReading._meta.concrete_fields
    if field.column not in ("tenant_id", "fingerprint", "changed_at")
]


def _weekly(column: str, weeks: int) -> str:
    parts = [f"COALESCE(sum(f.{column}) FILTER (WHERE f.week = {k}), 0)" for k in range(weeks)]
    return "ARRAY[" + ", ".join(parts) + "]::bigint[]"


# Lead times, minimum order and backups per SKU, as supply reads its offers.
_SUPPLY_TERMS = sku_supply_terms_sql(tenant="%(tenant)s", skus="SELECT sku_id FROM pos")
# Each position's stored forecast while it is fresh (the rule is forecasting's, in engine_reads).
_FORECASTS = fresh_forecasts_sql(tenant="%(tenant)s", positions="%(ids)s::bigint[]", today="%(today)s")

_INDICATOR_SQL = f"""
WITH pos AS (
    SELECT p.id, p.sku_id, p.warehouse_id, p.on_hand, p.reserved, p.in_transit,
           s.category_id, s.velocity_class, s.launch_date, s.unit_cost, s.list_price, c.profile,
           s.end_of_life_on, s.season_ends_on, succ.code AS successor_code
    FROM {Position._meta.db_table} p
    JOIN {Sku._meta.db_table} s ON s.id = p.sku_id
    JOIN {Category._meta.db_table} c ON c.id = s.category_id
    LEFT JOIN {Sku._meta.db_table} succ ON succ.id = s.successor_id
    WHERE p.tenant_id = %(tenant)s AND p.id = ANY(%(ids)s::bigint[])
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
        FROM {DailyFact._meta.db_table} f
        WHERE f.tenant_id = %(tenant)s AND f.position_id = ANY(%(ids)s::bigint[])
          AND f.day > %(today)s - {FACT_DAYS} AND f.day <= %(today)s
        OFFSET 0
    ) f
    GROUP BY f.position_id
), launched AS (
    -- Sales since launch of SKUs launched inside the window (for the rest it is the window's).
    SELECT f.position_id, sum(f.units_sold)::bigint AS sold
    FROM {DailyFact._meta.db_table} f JOIN pos ON pos.id = f.position_id
    WHERE f.tenant_id = %(tenant)s
      AND f.position_id = ANY(ARRAY(SELECT id FROM pos WHERE launch_date > %(today)s - {FACT_DAYS}))
      AND f.day >= pos.launch_date AND f.day <= %(today)s
    GROUP BY f.position_id
), lot AS MATERIALIZED (
    -- The chunk's lots in stock, read once for both the age buckets and the expiry cut.
    SELECT l.position_id, l.quantity, l.received_on, l.expires_on
    FROM {Lot._meta.db_table} l
    WHERE l.tenant_id = %(tenant)s AND l.position_id = ANY(%(ids)s::bigint[]) AND l.quantity > 0
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
    FROM lot l
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
        FROM lot l LEFT JOIN facts ON facts.position_id = l.position_id
        WHERE l.expires_on IS NOT NULL
    ) x
    GROUP BY x.position_id
), supply AS ({_SUPPLY_TERMS}
), forecast AS ({_FORECASTS}
), inbound AS (
    SELECT i.sku_id, i.warehouse_id, sum(i.units)::bigint AS units
    FROM ({{inbound}}) i
    GROUP BY i.sku_id, i.warehouse_id
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
       COALESCE(inbound.units, 0) AS inbound_approved,
       forecast.forecast_shift, forecast.forecast_model, forecast.forecast_demand_class, forecast.forecast_origin,
       forecast.forecast_service_level, forecast.forecast_mean, forecast.forecast_cumulative_quantile,
       reading.fingerprint AS reading_fingerprint
FROM pos
-- The chunk's ids again: the readings' primary key answers them, whatever the table's statistics say.
LEFT JOIN alerts_indicatorreading reading
    ON reading.position_id = pos.id AND reading.position_id = ANY(%(ids)s::bigint[])
LEFT JOIN facts ON facts.position_id = pos.id
LEFT JOIN launched ON launched.position_id = pos.id
LEFT JOIN lots ON lots.position_id = pos.id
LEFT JOIN expiry ON expiry.position_id = pos.id
LEFT JOIN supply ON supply.sku_id = pos.sku_id
LEFT JOIN signals ON signals.sku_id = pos.sku_id
LEFT JOIN forecast ON forecast.position_id = pos.id
LEFT JOIN inbound ON inbound.sku_id = pos.sku_id AND inbound.warehouse_id = pos.warehouse_id
ORDER BY pos.id
"""  # noqa: S608 - constants only


def indicator_sql() -> str:
    """The indicator statement, with the approved inbound stock of the sources registered when Django
    started (``core.alerts.inbound``)."""
    return _statement(inbound_sql(tenant="%(tenant)s", skus="SELECT sku_id FROM pos"))


@lru_cache(maxsize=8)
def _statement(inbound: str) -> str:
    return _INDICATOR_SQL.replace("{inbound}", inbound)


def indicator_rows(cursor, *, tenant_id: object, position_ids: list[int], today: date) -> list[dict]:  # noqa: ANN001
    """The aggregated inputs of every listed position, one row each, in id order."""
    cursor.execute(indicator_sql(), {"tenant": tenant_id, "ids": bigint_array(position_ids), "today": today})
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@lru_cache(maxsize=64)
def _z(service_level: float) -> float:
    """The standard normal quantile of the service level (0.95 -> 1.645)."""
    return NormalDist().inv_cdf(service_level)


def round_column(values: np.ndarray, places: int) -> np.ndarray:
    """``round(value, places)`` of each value, exactly as Python rounds a float (NaN stays NaN).

    Scaling by 10**places can move a value that sits within a rounding error of a half across it,
    so those few (and values too large to scale) are rounded one by one by Python itself.
    """
    scale = 10.0**places
    scaled = values * scale
    result = np.rint(scaled) / scale
    doubtful = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) <= np.abs(scaled) * 2.0**-50 + 1e-9
    doubtful |= np.abs(scaled) > 2.0**50
    doubtful &= ~np.isnan(values)
    for index in np.flatnonzero(doubtful):
        result.flat[index] = round(float(values.flat[index]), places)
    return result


def _listed(values: np.ndarray) -> list:
    """Floats as Python floats, NaN as None."""
    return [None if value != value else value for value in values.tolist()]


def _clipped(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0.0, 1.0)


def _ratio_changes(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """(now - before) / before where before > 0, else NaN (no ratio)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before > 0, (now - before) / before, np.nan)


def _column(rows: list[dict], name: str, default: float = np.nan) -> np.ndarray:
    return np.array([default if (value := row[name]) is None else value for row in rows], dtype=np.float64)


@dataclass(frozen=True)
class DerivePolicy:
    """What a reading takes from its SKU's policies: the stock-out rule's parameters and the
    overstock rule's turnover standard."""

    default_lead_time: float
    z: float
    volatility_days: float
    turnover_standard: float
    method: str  # the stock-out rule's safety_stock_method: service_level | cover | forecast
    review_period: float

    @property
    def uses_cover(self) -> bool:
        return self.method == "cover"

    @classmethod
    def of(cls, stock_policy: Effective, turnover_standard: float) -> DerivePolicy:
        parameters = stock_policy.parameters
        return cls(
            default_lead_time=float(parameters["default_lead_time_days"]),
            z=_z(float(parameters["service_level"])),
            volatility_days=float(parameters["volatility_coefficient_days"]),
            turnover_standard=turnover_standard,
            method=str(parameters["safety_stock_method"]),
            review_period=float(parameters["review_period_days"]),
        )


TAIL_DAYS = 7  # past its horizon, a forecast goes on at the mean of its last week


@dataclass
class Projection:
    """The figures of the positions with a fresh forecast, one entry per row (NaN without one).

    Day 0 is the day evaluated: the series' index ``shift`` (days since the origin). Past the
    horizon, demand goes on at the mean of the series' last ``TAIL_DAYS`` days.
    """

    has: np.ndarray  # bool: a fresh forecast was read
    cover: np.ndarray  # days until the projected stock reaches zero (NaN: not within any horizon)
    lead_time_demand: np.ndarray  # mean demand over days 0..L-1
    cycle_demand: np.ndarray  # mean demand over days 0..L+R-1
    safety: np.ndarray  # quantile spread of lead-time demand at the policy's service level
    daily: list  # per row: the daily mean from today to the horizon, rounded, or None
    tail: np.ndarray


def _forecast_projection(
    rows: list[dict], stock: np.ndarray, lead_time: np.ndarray, review: np.ndarray, z: np.ndarray
) -> Projection:
    n = len(rows)
    empty = np.full(n, np.nan)
    projection = Projection(
        has=np.zeros(n, dtype=bool),
        cover=empty.copy(),
        lead_time_demand=empty.copy(),
        cycle_demand=empty.copy(),
        safety=empty.copy(),
        daily=[None] * n,
        tail=empty.copy(),
    )
    at = [i for i, row in enumerate(rows) if row["forecast_mean"]]
    if not at:
        return projection
    series = [rows[i]["forecast_mean"] for i in at]
    quantiles = [rows[i]["forecast_cumulative_quantile"] for i in at]
    lengths = np.array([len(values) for values in series])
    width = int(lengths.max())
    if (lengths == width).all():
        mean, cumulative_quantile = np.array(series, dtype=np.float64), np.array(quantiles, dtype=np.float64)
    else:  # horizons differ (the tenant's longest lead time changed): pad each with its own last value
        mean = np.array([values + [np.nan] * (width - len(values)) for values in series], dtype=np.float64)
        cumulative_quantile = np.array([q + [np.nan] * (width - len(q)) for q in quantiles], dtype=np.float64)
    k = len(at)
    rows_k = np.arange(k)
    last_week = np.minimum(lengths, TAIL_DAYS)
    cumulative = np.concatenate([np.zeros((k, 1)), np.nancumsum(mean, axis=1)], axis=1)  # [j] = days 0..j-1
    tail = (cumulative[rows_k, lengths] - cumulative[rows_k, lengths - last_week]) / last_week
    if not (lengths == width).all():
        beyond = np.arange(width)[None, :] >= lengths[:, None]
        mean = np.where(beyond, tail[:, None], mean)
        cumulative = np.concatenate([np.zeros((k, 1)), np.cumsum(mean, axis=1)], axis=1)
    shift = np.array([rows[i]["forecast_shift"] for i in at], dtype=np.int64)
    start = cumulative[rows_k, shift]

    def demand(days: np.ndarray) -> np.ndarray:
        """Mean demand over ``days`` days from today (extended past the horizon at the tail rate)."""
        end = shift + np.maximum(days, 0).astype(np.int64)
        inside = np.minimum(end, width)
        return cumulative[rows_k, inside] + tail * (end - inside) - start

    idx = np.asarray(at)
    lead = lead_time[idx]
    # Days of cover: the first day the cumulative demand from today reaches the stock, interpolated
    # within that day, so a constant forecast of r a day gives stock / r as the moving average does.
    held = stock[idx]
    steps = shift[:, None] + np.arange(1, width + 1)[None, :]
    valid = steps <= width
    from_today = cumulative[rows_k[:, None], np.minimum(steps, width)] - start[:, None]
    reached = valid & (from_today >= held[:, None])
    found = reached.any(axis=1)
    first = np.argmax(reached, axis=1)  # 0-based: the day the stock runs out on
    before = np.where(first > 0, from_today[rows_k, np.maximum(first - 1, 0)], 0.0)
    on_day = from_today[rows_k, first] - before
    within = first + (held - before) / np.where(on_day > 0, on_day, 1.0)
    remaining_days = width - shift
    after = remaining_days + (held - (cumulative[rows_k, width] - start)) / np.where(tail > 0, tail, 1.0)
    cover = np.where(found, within, np.where(tail > 0, after, np.nan))
    cover = np.where(held <= 0, 0.0, cover)
    # Safety stock from the forecast's own error: the stored quantile of cumulative demand over L days
    # from the origin minus its mean, at the forecast's service level, rescaled to the policy's by
    # z(policy) / z(forecast); past the horizon the spread grows with the square root of the days.
    span = np.clip(lead, 1, lengths).astype(np.int64)
    spread = cumulative_quantile[rows_k, span - 1] - cumulative[rows_k, span]
    spread = np.maximum(spread, 0.0) * np.sqrt(np.maximum(lead, 1) / span)
    stored_z = np.array([_z(float(rows[i]["forecast_service_level"])) for i in at])
    safety = np.where(lead > 0, spread * z[idx] / stored_z, 0.0)

    projection.has[idx] = True
    projection.cover[idx] = cover
    projection.lead_time_demand[idx] = demand(lead)
    projection.cycle_demand[idx] = demand(lead + review[idx])
    projection.safety[idx] = safety
    projection.tail[idx] = tail
    rounded = np.round(mean, 4)  # shown, not compared: no need to round as Python does
    for position, row_index, offset, length in zip(at, rows_k.tolist(), shift.tolist(), lengths.tolist(), strict=True):
        projection.daily[position] = rounded[row_index, offset:length].tolist()
    return projection


def readings_derive(rows: list[dict], policies: list[DerivePolicy], today: date) -> list[dict]:
    """Each position's indicators from its aggregated row (formulas documented in docs/engine.md).

    The arithmetic runs on whole columns at once (NumPy), in the order of operations of the
    documented formulas, and rounds as Python's round() does, so every figure is what the formula
    worked out for that one position in plain Python gives. NaN stands for an empty value until the end.
    Counts are exact as floats up to 2**53.
    """
    if not rows:
        return []
    with np.errstate(divide="ignore", invalid="ignore"):
        return _derive(rows, policies, today)


def _derive(rows: list[dict], policies: list[DerivePolicy], today: date) -> list[dict]:
    on_hand = _column(rows, "on_hand")
    reserved = _column(rows, "reserved")
    available = on_hand - reserved
    sold_7, sold_28, sold_90 = (_column(rows, name, 0) for name in ("sold_7", "sold_28", "sold_90"))
    ads_7, ads_28, ads_90 = sold_7 / 7, sold_28 / 28, sold_90 / FACT_DAYS
    moving_cover = np.where(ads_28 > 0, available / ads_28, np.nan)
    # End-of-day stock over the window, rebuilt backwards from today's on hand by the net changes.
    average_on_hand = np.maximum(0.0, on_hand - _column(rows, "net_weighted", 0) / FACT_DAYS)
    # Unit cost cancels per position: COGS / average inventory value = units sold / average units.
    turnover_rate = np.where(average_on_hand > 0, (sold_90 / average_on_hand) * (365 / FACT_DAYS), np.nan)
    turnover_days = np.where(sold_90 > 0, average_on_hand * FACT_DAYS / sold_90, np.nan)
    sell_through_28 = np.where(sold_28 + on_hand > 0, sold_28 / (sold_28 + on_hand), np.nan)
    weekly_lists = [row["weekly_sold"] or _NO_WEEKS for row in rows]
    weekly = np.array(weekly_lists, dtype=np.float64)
    wow_change = _ratio_changes(weekly[:, 0], weekly[:, 1])
    # Consecutive weeks, back from this one, each selling less than the week before it.
    declines = np.cumprod(weekly[:, :-1] < weekly[:, 1:], axis=1).sum(axis=1)
    # Weekly sell-through: week k's sales over (its sales + stock at its end).
    net = np.array([row["weekly_net"] or _NO_NET_WEEKS for row in rows], dtype=np.float64)
    week_end = on_hand[:, None] - np.concatenate([np.zeros((len(rows), 1)), np.cumsum(net, axis=1)[:, :-1]], axis=1)
    sold_weeks = weekly[:, :NET_WEEKS]
    weekly_st = np.where(sold_weeks + week_end > 0, sold_weeks / (sold_weeks + week_end), np.nan)
    st_changes = _ratio_changes(weekly_st[:, :-1], weekly_st[:, 1:])
    default_lead = np.array([policy.default_lead_time for policy in policies])
    supplier_lead = _column(rows, "lead_time")
    has_supplier = ~np.isnan(supplier_lead)
    lead_time = np.where(has_supplier, supplier_lead, default_lead)
    longest = _column(rows, "longest_lead_time")
    longest = np.where(np.isnan(longest), lead_time, longest)
    n = _column(rows, "receipts_promised", 0)
    delay_sum, delay_sq = _column(rows, "delay_sum", 0), _column(rows, "delay_sq_sum", 0)
    lead_volatility = np.where(
        n >= 2, np.sqrt(np.maximum(0.0, (delay_sq - delay_sum * delay_sum / n) / (n - 1))), np.nan
    )
    sold_sq = _column(rows, "sold_sq_28", 0)
    variance = np.where(sold_sq != 0, (sold_sq - sold_28 * sold_28 / 28) / 27, 0.0)
    sigma = np.sqrt(np.maximum(0.0, variance))
    z = np.array([policy.z for policy in policies])
    volatility_days = np.array([policy.volatility_days for policy in policies])
    standard = np.array([policy.turnover_standard for policy in policies])
    uses_cover = np.array([policy.uses_cover for policy in policies], dtype=bool)
    safety_cover = ads_28 * (longest + volatility_days)
    safety_service = z * sigma * np.sqrt(lead_time)
    # Forward-looking figures from the position's fresh forecast, where it has one (docs/engine.md).
    inbound = _column(rows, "inbound_approved", 0)
    review = np.array([policy.review_period for policy in policies])
    projected_stock = available + _column(rows, "in_transit", 0) + inbound
    projection = _forecast_projection(rows, projected_stock, lead_time, review, z)
    has_forecast = projection.has
    days_of_cover = np.where(has_forecast, projection.cover, moving_cover)
    safety_forecast = projection.safety
    asks_forecast = np.array([policy.method == "forecast" for policy in policies], dtype=bool)
    uses_forecast = asks_forecast & has_forecast & ~np.isnan(safety_forecast)
    safety_stock = np.where(uses_cover, safety_cover, np.where(uses_forecast, safety_forecast, safety_service))
    lead_time_demand = np.where(has_forecast, projection.lead_time_demand, ads_28 * lead_time)
    # The order-up-to the stock-out response orders to: the forecast's only under the forecast method.
    cycle_demand = np.where(uses_forecast, projection.cycle_demand, ads_28 * (lead_time + review))
    at_risk = np.minimum(np.rint(_column(rows, "at_risk", 0)), on_hand)
    since_launch = _column(rows, "sold_since_launch", 0)
    launched = np.array([row["launch_date"] is not None for row in rows], dtype=bool)
    launch_st = np.where(launched & (since_launch + on_hand > 0), since_launch / (since_launch + on_hand), np.nan)
    list_price = _column(rows, "list_price", 0)
    competitor_price = _column(rows, "competitor_price")
    competitor_gap = np.where(list_price != 0, competitor_price / list_price - 1, np.nan)
    social_change = _ratio_changes(_column(rows, "social_recent"), _column(rows, "social_before"))
    stockout = (ads_28 > 0) & ((available < safety_stock) | (days_of_cover < lead_time))
    weighted_age = _column(rows, "weighted_age")
    # Unsold stock counts as overstock once it has sat longer than the standard turnover.
    unsold_too_long = np.isnan(turnover_days) & (np.nan_to_num(weighted_age) >= standard)
    overstock = (on_hand > 0) & (unsold_too_long | (np.nan_to_num(turnover_days) > standard))
    availability = np.where(
        ads_28 <= 0,
        1.0,
        np.minimum(
            np.where(safety_stock > 0, _clipped(available / safety_stock), 1.0),
            np.where(lead_time > 0, _clipped(days_of_cover / lead_time), 1.0),
        ),
    )
    turnover = np.where(
        (on_hand <= 0) | (np.isnan(turnover_days) & ~unsold_too_long),
        1.0,
        np.where(np.isnan(turnover_days), 0.0, np.where(turnover_days > 0, _clipped(standard / turnover_days), 1.0)),
    )
    age = np.where(np.isnan(weighted_age) | (weighted_age <= 90), 1.0, _clipped(90 / weighted_age))
    expiry = np.where(on_hand <= 0, 1.0, _clipped(1 - at_risk / on_hand))
    trend = np.where(np.isnan(wow_change), 1.0, _clipped(1 + wow_change))
    sell_through = np.where(np.isnan(sell_through_28), 1.0, _clipped(sell_through_28 / 0.30))
    components = {
        "availability": availability,
        "turnover": turnover,
        "age": age,
        "expiry": expiry,
        "trend": trend,
        "sell_through": sell_through,
    }
    health = np.zeros(len(rows))
    for name, score in components.items():
        health = health + HEALTH_WEIGHTS[name] * score
    health = np.rint(health)

    def figures(values: np.ndarray, places: int) -> list:
        return _listed(round_column(values, places))

    def passed(name: str, empty: object = None) -> list:
        return [empty if (value := row[name]) is None else value for row in rows]

    cover_days = figures(days_of_cover, 2)
    stock_out_on = [None if days is None else today + timedelta(days=math.floor(days)) for days in cover_days]
    methods = [
        "cover" if policy.uses_cover else ("forecast" if used else "service_level")
        for policy, used in zip(policies, uses_forecast.tolist(), strict=True)
    ]

    launch_dates, on_hands = passed("launch_date"), passed("on_hand")
    stored = {
        "position_id": passed("id"),
        "sku_id": passed("sku_id"),
        "warehouse_id": passed("warehouse_id"),
        "as_of": [today] * len(rows),
        "on_hand": on_hands,
        "available": [on_hand - row["reserved"] for on_hand, row in zip(on_hands, rows, strict=True)],
        "in_transit": passed("in_transit"),
        "unit_cost": passed("unit_cost"),
        "ads_7": figures(ads_7, 4),
        "ads_28": figures(ads_28, 4),
        "ads_90": figures(ads_90, 4),
        "units_sold_90": passed("sold_90", 0),
        "days_of_cover": cover_days,
        "average_on_hand_90": figures(average_on_hand, 2),
        "turnover_days": figures(turnover_days, 2),
        "turnover_rate": figures(turnover_rate, 4),
        "sell_through_28": figures(sell_through_28, 4),
        "wow_change": figures(wow_change, 4),
        "weekly_declines": declines.tolist(),
        **{name: passed(name, 0) for name in ("age_0_30", "age_31_60", "age_61_90", "age_91_180", "age_over_180")},
        "weighted_age_days": figures(weighted_age, 2),
        "expiry_at_risk": at_risk.astype(np.int64).tolist(),
        "days_to_expiry": [(day - today).days if day else None for day in passed("earliest_expiry")],
        "lead_time_days": lead_time.astype(np.int64).tolist(),
        "longest_lead_time_days": longest.astype(np.int64).tolist(),
        "lead_time_volatility_days": figures(lead_volatility, 2),
        "demand_sigma_28": figures(sigma, 4),
        "safety_stock_cover": figures(safety_cover, 2),
        "safety_stock_service": figures(safety_service, 2),
        "reorder_point_cover": figures(ads_28 * lead_time + safety_cover, 2),
        "reorder_point_service": figures(ads_28 * lead_time + safety_service, 2),
        "inbound_approved": inbound.astype(np.int64).tolist(),
        "days_of_cover_source": ["forecast" if has else "moving_average" for has in has_forecast.tolist()],
        "projected_stock_out_on": stock_out_on,
        "safety_stock_forecast": figures(safety_forecast, 2),
        "reorder_point_forecast": figures(projection.lead_time_demand + safety_forecast, 2),
        "stockout_risk": stockout.tolist(),
        "overstock": overstock.tolist(),
        "health_index": health.astype(np.int64).tolist(),
    }
    detail_columns = {
        "safety_stock": figures(safety_stock, 2),
        "safety_stock_method": methods,
        "safety_stock_method_asked": [policy.method for policy in policies],
        "lead_time_demand": figures(lead_time_demand, 2),
        "review_period_days": review.tolist(),
        "order_up_to": figures(cycle_demand + safety_stock, 2),
        "forecast": [
            None
            if daily is None
            else {
                "model": row["forecast_model"],
                "demand_class": row["forecast_demand_class"],
                "origin": row["forecast_origin"].isoformat(),
                "days_since_origin": row["forecast_shift"],
                "service_level": row["forecast_service_level"],
                "daily_mean": daily,
                "tail_daily_mean": tail,
            }
            for row, daily, tail in zip(rows, projection.daily, figures(projection.tail, 4), strict=True)
        ],
        "service_level_z": figures(z, 4),
        "lead_time_source": ["primary supplier" if known else "policy default" for known in has_supplier.tolist()],
        "receipts_with_promised_day": passed("receipts_promised", 0),
        "mean_receipt_delay_days": figures(np.where(n > 0, delay_sum / n, np.nan), 2),
        "turnover_standard_days": [policy.turnover_standard for policy in policies],
        "weekly_sales": [list(weeks) for weeks in weekly_lists],
        "weekly_sell_through": [_listed(week) for week in round_column(weekly_st, 4)],
        "sell_through_weekly_changes": [_listed(week) for week in round_column(st_changes, 4)],
        "expiry_at_risk_share": figures(np.where(on_hand > 0, at_risk / on_hand, np.nan), 4),
        "days_since_launch": [(today - day).days if day else None for day in launch_dates],
        "launch_sell_through": figures(launch_st, 4),
        "units_sold_since_launch": [
            (sold or 0) if day else None for sold, day in zip(passed("sold_since_launch"), launch_dates, strict=True)
        ],
        "competitor_price": [None if price is None else float(price) for price in passed("competitor_price")],
        "competitor_price_gap": figures(competitor_gap, 4),
        "social_volume_change": figures(social_change, 4),
        "supplier_lead_time_index": [
            None if index is None else float(index) for index in passed("supplier_lead_time_index")
        ],
        "min_order_quantity": passed("min_order_quantity"),
        "backup_suppliers": passed("backups", 0),
        "health_components": [
            dict(zip(components, values, strict=True))
            for values in zip(*(figures(score, 3) for score in components.values()), strict=True)
        ],
    }
    by_position = zip(*(stored[name] for name in _STORED), strict=True)
    readings = [dict(zip(_STORED, values, strict=True)) for values in by_position]
    for reading, values, row in zip(readings, zip(*detail_columns.values(), strict=True), rows, strict=True):
        reading["details"] = details = dict(zip(detail_columns, values, strict=True))
        details.update(_profile_figures(reading, row, today))
    return readings


def _last_day_figures(reading: dict, day: date | None, today: date) -> tuple[int | None, float | None]:
    """(days from today to ``day``, stock projected unsold at its end), or (None, None) without a day.
    Unsold: stock held minus the projected demand from today through ``day``, floored at 0; once the
    day has passed, the whole stock held."""
    if day is None:
        return None, None
    days = (day - today).days
    held = reading["available"] + reading["in_transit"] + reading["inbound_approved"]
    left = projected_stock(reading, days) if days >= 0 else held
    return days, round(max(float(left), 0.0), 2)


def _profile_figures(reading: dict, row: dict, today: date) -> dict:
    """What the profile rules read: the category's profile, the SKU's end of life, successor and season
    end, and the stock projected unsold on each last selling day (by ``core.alerts.projection``, which
    reads the forecast's daily mean: zero after the day where the profile stops demand)."""
    end_of_life, season_end = row["end_of_life_on"], row["season_ends_on"]
    days_to_eol, unsold_eol = _last_day_figures(reading, end_of_life, today)
    days_to_season, unsold_season = _last_day_figures(reading, season_end, today)
    return {
        "profile": row["profile"],
        "end_of_life_on": end_of_life.isoformat() if end_of_life else None,
        "successor": row["successor_code"],
        "days_to_end_of_life": days_to_eol,
        "unsold_at_end_of_life": unsold_eol,
        "season_ends_on": season_end.isoformat() if season_end else None,
        "days_to_season_end": days_to_season,
        "unsold_at_season_end": unsold_season,
    }
