"""The engine's indicator rows of past days, rebuilt from the ledger for a chunk of positions.

The live engine reads its rows with one SQL statement as of today (``core.alerts.indicators``). The
replay needs them as of every day of a period, so it reads the chunk's daily facts once, over the
whole period and the history before it, into dense arrays (position x day), and answers each day's
windows from cumulative sums: a day's rows cost array slicing, not a query. The rows carry every
column ``indicator_rows`` answers, with the same meaning, so the engine's own assessment grades them.

What the ledger does not keep, and how it is rebuilt (docs/quality.md, assumptions):
- on hand at the end of a day: on hand now minus the net changes after that day;
- lots: stock is consumed first in, first out, so the stock held at the end of a day is made of the
  latest inbound units (receipts, transfers in, returns), expiring ``shelf_life_days`` after they came;
  stock older than the history read is made of what is left now of the lots received before it, the
  latest first (the later sales took the oldest), and any more of the oldest of them;
- reserved, in transit and approved inbound stock have no history: 0;
- supplier terms, SKU master data and categories: as they are now;
- signals: those of days up to the day; forecasts: the stored one (the latest) only on the days it
  was fresh (``FRESH_DAYS`` after its origin), else the moving average.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from core.alerts.indicators import FACT_DAYS, NET_WEEKS, WEEKS
from core.alerts.selectors import signal_rows
from core.forecasting.engine_reads import FRESH_DAYS, stored_forecasts
from core.inventory.selectors import LEDGER_COLUMNS, daily_fact_arrays, lots_received_before, position_list
from core.supply.selectors import sku_supply_terms
from tenants.models import Tenant

# Read before the first replayed day: the 90-day window, and lot ages up to the last bucket (180 days).
HISTORY_DAYS = 183
_LOT_EDGES = (30, 60, 90, 180)  # age buckets 0-30, 31-60, 61-90, 91-180, over 180
_AGE_COLUMNS = ("age_0_30", "age_31_60", "age_61_90", "age_91_180", "age_over_180")
# What the indicator statement's ``pos`` part answers, as ORM value names.
_POSITION_FIELDS = {
    "id": "id",
    "sku_id": "sku_id",
    "warehouse_id": "warehouse_id",
    "on_hand": "on_hand",
    "category_id": "sku__category_id",
    "velocity_class": "sku__velocity_class",
    "launch_date": "sku__launch_date",
    "unit_cost": "sku__unit_cost",
    "list_price": "sku__list_price",
    "profile": "sku__category__profile",
    "end_of_life_on": "sku__end_of_life_on",
    "season_ends_on": "sku__season_ends_on",
    "successor_code": "sku__successor__code",
    "shelf_life_days": "sku__shelf_life_days",
    "category_code": "sku__category__code",
}
_ROW_ONLY = ("shelf_life_days", "category_code")  # read for the replay, not columns of a row
_NO_FORECAST = {
    "forecast_shift": None,
    "forecast_model": None,
    "forecast_demand_class": None,
    "forecast_origin": None,
    "forecast_service_level": None,
    "forecast_mean": None,
    "forecast_cumulative_quantile": None,
}
_NO_SUPPLY = {"lead_time": None, "longest_lead_time": None, "min_order_quantity": None, "backups": None}


def cumulative_sums(values: np.ndarray) -> np.ndarray:
    """Cumulative sums along the days with a leading 0: [:, j] is the sum of days 0..j-1."""
    out = np.zeros((values.shape[0], values.shape[1] + 1), dtype=values.dtype)
    np.cumsum(values, axis=1, out=out[:, 1:])
    return out


@dataclass
class ChunkLedger:
    """A chunk's facts as dense arrays over the days ``start`` .. ``end`` (column j is ``start + j``)."""

    start: date
    end: date
    positions: list[dict]  # the static part of each row, with shelf_life_days and category_code
    sold: np.ndarray  # units sold per day
    received: np.ndarray  # units received (receipts and transfers in)
    on_hand: np.ndarray  # end-of-day on hand
    cumulative: dict[str, np.ndarray]  # by name: cumulative sums (leading 0) of the windows' columns
    old_stock: _OldStock
    signals: _Signals
    forecasts: dict[int, dict]
    supply: dict[object, dict]

    def index(self, day: date) -> int:
        return (day - self.start).days

    def rows_as_of(self, day: date) -> list[dict]:
        """The chunk's rows as ``indicator_rows`` would have answered them at the end of ``day``."""
        i = self.index(day)
        if i < FACT_DAYS - 1:
            raise ValueError(f"{day} has less than {FACT_DAYS} days of history in this chunk")
        c = self.cumulative

        def window(name: str, days: int) -> np.ndarray:
            return c[name][:, i + 1] - c[name][:, i + 1 - days]

        sold_90 = window("sold", FACT_DAYS)
        columns: dict[str, list] = {
            "sold_7": window("sold", 7).tolist(),
            "sold_28": window("sold", 28).tolist(),
            "sold_90": sold_90.tolist(),
            "sold_sq_28": window("sold_sq", 28).tolist(),
            # sum of net x (89 - age) = sum of net x (j - (i - 89)) over the window's columns j
            "net_weighted": (window("net_index", FACT_DAYS) - (i - FACT_DAYS + 1) * window("net", FACT_DAYS)).tolist(),
            "receipts_promised": window("promised", FACT_DAYS).tolist(),
            "delay_sum": window("delay", FACT_DAYS).tolist(),
            "delay_sq_sum": window("delay_sq", FACT_DAYS).tolist(),
            "weekly_sold": self._weeks("sold", i, WEEKS).tolist(),
            "weekly_net": self._weeks("net", i, NET_WEEKS).tolist(),
            "sold_since_launch": self._since_launch(day, i, sold_90),
        }
        on_hand = np.maximum(self.on_hand[:, i], 0)
        columns["on_hand"] = on_hand.tolist()
        columns.update(self._lots(day, i, on_hand, window("sold", 28)))
        columns.update(self.signals.as_of(i))
        columns.update(self._constant)
        columns.update(self._forecasts(day))
        names = list(columns)
        return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]

    @cached_property
    def _constant(self) -> dict[str, list]:
        """The columns that are the same every day: the position's master data, its SKU's supply terms
        and what has no history (reserved, in transit, approved inbound: 0)."""
        count = len(self.positions)
        columns = {
            name: [static[name] for static in self.positions] for name in _POSITION_FIELDS if name not in _ROW_ONLY
        }
        del columns["on_hand"]  # the day's
        for name in _NO_SUPPLY:
            columns[name] = [self.supply.get(static["sku_id"], _NO_SUPPLY)[name] for static in self.positions]
        columns.update({name: [0] * count for name in ("reserved", "in_transit", "inbound_approved")})
        columns["reading_fingerprint"] = [None] * count
        return columns

    def _forecasts(self, day: date) -> dict[str, list]:
        found = [self._forecast(static["id"], day) for static in self.positions]
        return {name: [forecast[name] for forecast in found] for name in _NO_FORECAST}

    def _weeks(self, name: str, i: int, weeks: int) -> np.ndarray:
        ends = i + 1 - 7 * np.arange(weeks)
        cumulative = self.cumulative[name]
        return cumulative[:, ends] - cumulative[:, ends - 7]

    def _since_launch(self, day: date, i: int, sold_90: np.ndarray) -> list[int]:
        cumulative = self.cumulative["sold"]
        out = []
        for n, static in enumerate(self.positions):
            launch = static["launch_date"]
            if launch is None or launch > day:
                out.append(0)
            elif launch > day - timedelta(days=FACT_DAYS):
                out.append(int(cumulative[n, i + 1] - cumulative[n, self.index(launch)]))
            else:
                out.append(int(sold_90[n]))
        return out

    def _lots(self, day: date, i: int, on_hand: np.ndarray, sold_28: np.ndarray) -> dict[str, list]:
        """Age buckets, weighted age, earliest expiry and expiry at risk of the stock held at the end of
        ``day``, made of the latest inbound units (first in, first out)."""
        inbound = self.cumulative["inbound"]
        # [:, a]: units that came in within the last a + 1 days (ages 0..a), for a = 0..i
        came = inbound[:, i + 1][:, None] - inbound[:, i::-1]
        held_by_age = np.minimum(on_hand[:, None], came)
        held = np.diff(held_by_age, axis=1, prepend=0)  # [:, a]: units held of age a
        older = on_hand - held_by_age[:, -1]  # older than the history read
        ages = np.arange(i + 1)
        out: dict[str, list] = {}
        previous = np.zeros_like(on_hand)
        for name, edge in zip(_AGE_COLUMNS, _LOT_EDGES, strict=False):
            upto = held_by_age[:, min(edge, i)]
            out[name] = (upto - previous).tolist()
            previous = upto
        out["age_over_180"] = (on_hand - previous).tolist()
        weighted = (held * ages).sum(axis=1)
        for n in np.flatnonzero(older > 0).tolist():
            weighted[n] += int(older[n]) * day.toordinal() - self.old_stock.ordinal_sum(n, int(older[n]))
        with np.errstate(divide="ignore", invalid="ignore"):
            age = np.where(on_hand > 0, weighted.astype(np.float64) / on_hand, np.nan)
        out["weighted_age"] = [None if value != value else value for value in age.tolist()]
        expiry: list = [None] * len(self.positions)
        at_risk: list = [None] * len(self.positions)
        for n, static in enumerate(self.positions):
            shelf = static["shelf_life_days"]
            if shelf is None or on_hand[n] <= 0:
                continue
            lots = [(int(a), int(q)) for a, q in zip(ages[held[n] > 0], held[n][held[n] > 0], strict=True)]
            # Oldest first: first expired, first out; each lot expires shelf days after it came.
            dated = [(day - timedelta(days=a) + timedelta(days=shelf), q) for a, q in reversed(lots)]
            if older[n] > 0:
                for received_on, expires_on, quantity in self.old_stock.lots(n, int(older[n])):
                    dated.append((expires_on or received_on + timedelta(days=shelf), quantity))
            dated.sort(key=lambda lot: lot[0])
            expiry[n] = dated[0][0]
            # As the indicator statement: the worst of (units expiring by each expiry day) - (what the
            # 28-day rate sells by then), at least 0; in 28ths to stay exact.
            rate_28, cumulative, worst = int(sold_28[n]), 0, None
            for k, (expires_on, quantity) in enumerate(dated):
                cumulative += quantity
                if k + 1 < len(dated) and dated[k + 1][0] == expires_on:
                    continue  # lots expiring the same day count together
                cut = 28 * cumulative - rate_28 * max((expires_on - day).days, 0)
                worst = cut if worst is None else max(worst, cut)
            at_risk[n] = max(worst, 0) / 28
        out["earliest_expiry"] = expiry
        out["at_risk"] = at_risk
        return out

    def _forecast(self, position_id: int, day: date) -> dict:
        stored = self.forecasts.get(position_id)
        if stored is None:
            return _NO_FORECAST
        shift = (day - stored["forecast_origin"]).days
        if not 0 <= shift <= FRESH_DAYS:
            return _NO_FORECAST
        return {**stored, "forecast_shift": shift}


@dataclass
class _Signals:
    """Each position's SKU's market signals as dense day arrays (NaN: none that day)."""

    competitor: np.ndarray  # value of the last day with a price, per position and day
    competitor_day: np.ndarray  # that day's column (-1: none yet)
    index: np.ndarray
    index_day: np.ndarray
    social_sum: np.ndarray  # cumulative sums (leading 0) of social volume and of days with one
    social_days: np.ndarray

    def as_of(self, i: int) -> dict[str, list]:
        def latest(values: np.ndarray, days: np.ndarray) -> list:
            fresh = days[:, i] > i - 14
            return [float(v) if ok else None for v, ok in zip(values[:, i].tolist(), fresh.tolist(), strict=True)]

        def mean(low: int, high: int) -> list:  # days low+1 .. high (columns), where any
            low = max(low, -1)
            total = self.social_sum[:, high + 1] - self.social_sum[:, low + 1]
            days = self.social_days[:, high + 1] - self.social_days[:, low + 1]
            return [t / d if d else None for t, d in zip(total.tolist(), days.tolist(), strict=True)]

        return {
            "competitor_price": latest(self.competitor, self.competitor_day),
            "supplier_lead_time_index": latest(self.index, self.index_day),
            "social_recent": mean(i - 7, i),
            "social_before": mean(i - 35, i - 7),
        }


def _signals_read(tenant: Tenant, positions: list[dict], start: date, width: int) -> _Signals:
    sku_row = {}
    for n, static in enumerate(positions):
        sku_row.setdefault(static["sku_id"], []).append(n)
    shape = (len(positions), width)
    competitor, index, social = (np.full(shape, np.nan) for _ in range(3))
    end = start + timedelta(days=width - 1)
    for sku_id, day, price, volume, lead_index in signal_rows(
        tenant=tenant, sku_ids=list(sku_row), day_from=start, day_to=end
    ):
        rows, j = sku_row[sku_id], (day - start).days
        if price is not None:
            competitor[rows, j] = float(price)
        if volume is not None:
            social[rows, j] = volume
        if lead_index is not None:
            index[rows, j] = float(lead_index)

    def carried(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        columns = np.where(~np.isnan(values), np.arange(width)[None, :], -1)
        last = np.maximum.accumulate(columns, axis=1)
        return np.take_along_axis(values, np.maximum(last, 0), axis=1), last

    competitor_values, competitor_day = carried(competitor)
    index_values, index_day = carried(index)
    has_social = ~np.isnan(social)
    return _Signals(
        competitor=competitor_values,
        competitor_day=competitor_day,
        index=index_values,
        index_day=index_day,
        social_sum=cumulative_sums(np.where(has_social, social, 0.0)),
        social_days=cumulative_sums(has_social.astype(np.int64)),
    )


def ledger_read(*, tenant: Tenant, position_ids: list[int], day_from: date, end: date) -> ChunkLedger:
    """The chunk's facts from ``HISTORY_DAYS`` before ``day_from`` through ``end`` (the last day of data),
    with what each day's rows need besides: one query per source, whatever the number of days."""
    start = day_from - timedelta(days=HISTORY_DAYS)
    width = (end - start).days + 1
    positions = [
        dict(zip(_POSITION_FIELDS, values, strict=True))
        for values in position_list(tenant=tenant)
        .filter(id__in=position_ids)
        .order_by("id")
        .values_list(*_POSITION_FIELDS.values())
    ]
    row_of = {static["id"]: n for n, static in enumerate(positions)}
    shape = (len(positions), width)
    read = daily_fact_arrays(
        tenant=tenant, position_ids=list(row_of), day_from=start, day_to=end + timedelta(days=3650)
    )
    ids = np.array(list(row_of), dtype=np.int64)
    n = np.searchsorted(ids, read[:, 0])  # the chunk's ids are in order
    j = read[:, 1]
    inside = j < width
    facts = {}
    for k, name in enumerate(LEDGER_COLUMNS, start=2):
        facts[name] = np.zeros(shape, dtype=np.int64)
        facts[name][n[inside], j[inside]] = read[inside, k]
    # Net changes dated after ``end`` (none in a ledger that takes no future lines) still count.
    later_net = np.bincount(
        n[~inside], weights=read[~inside, 2 + LEDGER_COLUMNS.index("net_change")], minlength=len(ids)
    )
    later_net = later_net.astype(np.int64)
    sold, net = facts["units_sold"], facts["net_change"]
    inbound = facts["units_received"] + facts["units_returned"]
    now = np.array([static["on_hand"] for static in positions], dtype=np.int64)
    net_cumulative = cumulative_sums(net)
    # End of day j: on hand now less every net change after it.
    on_hand = now[:, None] - later_net[:, None] - (net_cumulative[:, -1:] - net_cumulative[:, 1:])
    cumulative = {
        "sold": cumulative_sums(sold),
        "sold_sq": cumulative_sums(sold * sold),
        "net": net_cumulative,
        "net_index": cumulative_sums(net * np.arange(width)[None, :]),
        "promised": cumulative_sums(facts["receipts_promised"]),
        "delay": cumulative_sums(facts["receipt_delay_days"]),
        "delay_sq": cumulative_sums(facts["receipt_delay_days_sq"]),
        "inbound": cumulative_sums(inbound),
    }
    return ChunkLedger(
        start=start,
        end=end,
        positions=positions,
        sold=sold,
        received=facts["units_received"],
        on_hand=on_hand,
        cumulative=cumulative,
        old_stock=_OldStock(tenant, row_of, start),
        signals=_signals_read(tenant, positions, start, width),
        forecasts={row["position_id"]: row for row in stored_forecasts(tenant_id=tenant.pk, position_ids=list(row_of))},
        supply=sku_supply_terms(
            tenant_id=tenant.pk, sku_ids=sorted({static["sku_id"] for static in positions}, key=str)
        ),
    )


class _OldStock:
    """What is left now of each position's lots received before the history read, latest first: the
    stock older than the history at the end of a past day is made of them (first in, first out, the
    sales since took the oldest), and, past what is left, of more units dated as the oldest of them
    (the day before the history where none is left)."""

    def __init__(self, tenant: Tenant, row_of: dict[int, int], start: date) -> None:
        self._before = start - timedelta(days=1)
        self._lots: dict[int, list[tuple[date, date | None, int]]] = {}
        for position_id, quantity, received_on, expires_on in lots_received_before(
            tenant=tenant, position_ids=list(row_of), day=start
        ):
            self._lots.setdefault(row_of[position_id], []).append((received_on, expires_on, quantity))
        for lots in self._lots.values():
            lots.sort(key=lambda lot: lot[0], reverse=True)

    def lots(self, n: int, quantity: int) -> list[tuple[date, date | None, int]]:
        """(received on, expires on or None, quantity) making up ``quantity`` old units of position ``n``."""
        taken, left = [], quantity
        lots = self._lots.get(n, [])
        for received_on, expires_on, held in lots:
            if left <= 0:
                break
            taken.append((received_on, expires_on, min(held, left)))
            left -= held
        if left > 0:
            received_on, expires_on = (lots[-1][0], lots[-1][1]) if lots else (self._before, None)
            taken.append((received_on, expires_on, left))
        return taken

    def ordinal_sum(self, n: int, quantity: int) -> int:
        """The sum of quantity x receipt day (as an ordinal) of those units."""
        return sum(q * received_on.toordinal() for received_on, _, q in self.lots(n, quantity))
