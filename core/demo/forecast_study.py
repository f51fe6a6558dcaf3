"""A second data set for the forecast backtest, made by another process than the demo's.

``study_plan(seed=, skus=, warehouses=, days=, today=)`` is pure: numpy's PCG64 generator seeded
with the seed (the demo uses Python's ``random`` with hashed string seeds), demand drawn for a whole
position-by-day matrix first and the stock simulated over it after, nothing read from the clock.
What it builds in, and the demo does not in this form:

- demand classes set per SKU: smooth (Poisson around a level), erratic (a gamma-mixed Poisson, its
  daily sizes spread wide), intermittent (a sale on a share of days, of a few units), lumpy (rare
  sales of widely varying size), and recent launches (history of 3 to 8 weeks);
- a weekly pattern of each SKU's own (its peak weekday and amplitude drawn), not one shared profile;
- trend breaks: a quarter of the SKUs change level for good on a day of the last five months (x0.4
  to x2.2), a tenth drift linearly over the whole period;
- promotions with uplift: a third of the SKUs have two to four windows of 4-14 days at a discount of
  10-40 % in every warehouse, sold at the discounted price; demand during a window is multiplied by
  (1 - discount) ** -elasticity (elasticity 1.5-3.5 per SKU: the known uplift, kept in the
  calendar), at least one window in the last ten weeks so the backtest's origins see one;
- lost sales: a weekly review orders up to a level some positions keep too low, and one order in
  ten arrives ten days late, so stock-outs (censored days) happen where a planner would see them.

The ledger lines are what an ERP would push: a receipt when an order lands, sales as tickets of at
most ``TICKET_UNITS`` units (a promotion's extra demand comes as more tickets, as at a till, not
as one line the spike check would hold back), the day's price on each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

KINDS = ("smooth", "erratic", "intermittent", "lumpy", "launch")
KIND_SHARE = (0.30, 0.10, 0.35, 0.17, 0.08)
TICKET_UNITS = 5
REVIEW_DAYS = 7
LATE_SHARE, LATE_DAYS = 0.10, 10
PROMOTED_SHARE = 1 / 3
SOURCE_SUPPLIER = "Study Supplier"


@dataclass(frozen=True)
class Promotion:
    sku: str
    start: date
    end: date  # inclusive
    discount: float  # 0.10 = 10 % off
    uplift: float  # demand multiplier during the window (the generator's truth)


@dataclass
class StudyPlan:
    today: date
    days: int
    categories: list[dict]
    warehouses: list[dict]
    skus: list[dict]
    offers: list[dict]  # sku, lead_time_days
    promotions: list[Promotion]
    kinds: dict[str, str]  # SKU code -> demand kind
    # Position-by-day matrices (positions in (SKU, warehouse) order): demand and what sold.
    demand: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    sold: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    received: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    price: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))  # per SKU and day

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=self.days)

    def position(self, index: int) -> tuple[str, str]:
        count = len(self.warehouses)
        return self.skus[index // count]["code"], self.warehouses[index % count]["code"]

    def movement_days(self) -> Iterator[list[dict]]:
        """The ledger, one list of lines per day, oldest first (receipts before the day's sales)."""
        count = len(self.warehouses)
        for day in range(self.days):
            on = self.first_day + timedelta(days=day)
            rows: list[dict] = []
            for p in np.flatnonzero(self.received[:, day]):
                sku, warehouse = self.position(int(p))
                rows.append(
                    {
                        "kind": "receipt",
                        "sku": sku,
                        "warehouse": warehouse,
                        "quantity": int(self.received[p, day]),
                        "occurred_at": _at(on, 6, 0),
                        "external_ref": f"st-r-{day:04d}-{p}",
                        "order_ref": f"st-po-{day:04d}-{p}",
                    }
                )
            for p in np.flatnonzero(self.sold[:, day]):
                sku, warehouse = self.position(int(p))
                units = int(self.sold[p, day])
                price = f"{self.price[int(p) // count, day]:.2f}"
                for t in range(math.ceil(units / TICKET_UNITS)):
                    rows.append(
                        {
                            "kind": "sale",
                            "sku": sku,
                            "warehouse": warehouse,
                            "quantity": min(TICKET_UNITS, units - t * TICKET_UNITS),
                            "occurred_at": _at(on, 9 + t % 12, t // 12 % 60),
                            "external_ref": f"st-s-{day:04d}-{p}-{t}",
                            "order_ref": f"st-o-{day:04d}-{p}-{t}",
                            "unit_price": price,
                        }
                    )
            yield rows


def _at(on: date, hour: int, minute: int) -> str:
    return datetime.combine(on, time(hour, minute), tzinfo=UTC).isoformat()


def study_plan(*, seed: int, skus: int, warehouses: int, days: int, today: date) -> StudyPlan:
    """The whole data set from its parameters alone (see the module)."""
    rng = np.random.Generator(np.random.PCG64([seed, 170_017]))
    first = today - timedelta(days=days)
    weekday = np.array([(first + timedelta(days=d)).weekday() for d in range(days)])
    profiles = ("fmcg", "electronics", "apparel", "general")
    categories = [{"code": f"ST-{p}", "name": f"Study {p}", "profile": p} for p in profiles]
    warehouse_rows = [
        {
            "code": f"STW{j:02d}",
            "name": f"Study warehouse {j}",
            "region": f"study-{j % 3}",
            "kind": "distribution_centre" if j == 0 else "store",
        }
        for j in range(warehouses)
    ]
    size = np.where(np.arange(warehouses) == 0, 1.8, rng.uniform(0.5, 1.2, warehouses))

    kind_of = rng.choice(len(KINDS), size=skus, p=KIND_SHARE)
    sku_rows, offers, kinds = [], [], {}
    intensity = np.zeros((skus, days))  # expected demand (or chance of a sale) per SKU and day
    list_price = rng.uniform(3, 120, skus).round(2)
    price = np.repeat(list_price[:, None], days, axis=1)
    promotions: list[Promotion] = []
    promoted = np.ones((skus, days))
    t = np.arange(days)
    for s in range(skus):
        kind = KINDS[kind_of[s]]
        code = f"ST{s:05d}"
        kinds[code] = kind
        peak, amplitude = rng.integers(7), rng.uniform(0.15, 0.5)
        week = 1 + amplitude * np.cos(2 * np.pi * (weekday - peak) / 7)
        level = {
            "smooth": rng.uniform(3, 25),
            "erratic": rng.uniform(2, 12),
            "intermittent": rng.uniform(0.04, 0.45),
            "lumpy": rng.uniform(0.02, 0.2),
            "launch": rng.uniform(2, 15),
        }[kind]
        shape = np.full(days, level) * (week if kind != "lumpy" else 1.0)
        u = rng.random()
        if u < 0.25:  # a level break for good
            shape[t >= days - rng.integers(20, min(150, days - 10))] *= rng.choice([0.4, 0.6, 1.6, 2.2])
        elif u < 0.35:  # a drift over the whole period
            shape *= np.linspace(1, rng.choice([0.5, 1.6]), days)
        if kind == "launch":
            shape[: days - rng.integers(21, 57)] = 0
        intensity[s] = shape
        if rng.random() < PROMOTED_SHARE and days >= 60:
            elasticity = rng.uniform(1.5, 3.5)
            starts = sorted(
                {int(rng.integers(days - 70, days - 14))}
                | {int(x) for x in rng.integers(14, days - 20, rng.integers(1, 4))}
            )
            taken = np.zeros(days, dtype=bool)
            for start in starts:
                length = int(rng.integers(4, 15))
                end = min(days - 1, start + length - 1)
                if taken[max(0, start - 7) : end + 8].any():
                    continue  # windows of one SKU never overlap, and a week apart at least
                taken[start : end + 1] = True
                discount = float(rng.choice([0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40]))
                uplift = float((1 - discount) ** -elasticity)
                promoted[s, start : end + 1] = uplift
                price[s, start : end + 1] = (list_price[s] * (1 - discount)).round(2)
                promotions.append(
                    Promotion(
                        sku=code,
                        start=first + timedelta(days=start),
                        end=first + timedelta(days=end),
                        discount=discount,
                        uplift=round(uplift, 3),
                    )
                )
        velocity = (
            "cash_cow"
            if kind == "smooth" and level > 12
            else "long_tail"
            if kind in ("intermittent", "lumpy")
            else "strategic_reserve"
        )
        cost = float(list_price[s]) / 1.6
        sku_rows.append(
            {
                "code": code,
                "name": f"Study item {s}",
                "category": categories[s % len(categories)]["code"],
                "velocity_class": velocity,
                "unit_cost": f"{cost:.2f}",
                "list_price": f"{list_price[s]:.2f}",
            }
        )
        offers.append({"sku": code, "lead_time_days": int(rng.integers(4, 22))})

    # Demand per position and day.
    positions = skus * warehouses
    sku_of = np.repeat(np.arange(skus), warehouses)
    scale = np.tile(size, skus)[:, None]
    base = intensity[sku_of]
    uplift = promoted[sku_of]
    kind_p = kind_of[sku_of][:, None]
    demand = np.zeros((positions, days))
    rate = base * scale * uplift
    continuous = np.isin(kind_p, [KINDS.index("smooth"), KINDS.index("launch")])
    demand = np.where(continuous, rng.poisson(rate), 0)
    erratic = kind_p == KINDS.index("erratic")
    demand = np.where(erratic, rng.poisson(rate * rng.gamma(0.6, 1 / 0.6, rate.shape)), demand)
    chance = np.minimum(0.95, base * np.sqrt(scale) * uplift)
    sizes_i = 1 + rng.poisson(rng.uniform(0.3, 1.5, (positions, 1)), (positions, days))
    sizes_l = np.ceil(rng.lognormal(1.3, 1.0, (positions, days)))
    hit = rng.random((positions, days)) < chance
    demand = np.where((kind_p == KINDS.index("intermittent")) & hit, sizes_i, demand)
    demand = np.where((kind_p == KINDS.index("lumpy")) & hit, sizes_l, demand)
    demand = demand.astype(np.int64)

    # The stock: weekly review up to a level over lead time + review (+ cover some keep too thin);
    # lost sales; one order in ten ten days late.
    lead = np.array([o["lead_time_days"] for o in offers])[sku_of]
    mean = np.maximum(demand[:, : min(days, 56)].mean(axis=1), demand.mean(axis=1)) + 0.05
    extra = np.where(rng.random(positions) < 0.2, 0.0, rng.uniform(3, 12, positions))
    target = np.ceil(mean * (lead + REVIEW_DAYS + extra)) + 2
    review_day = rng.integers(0, REVIEW_DAYS, positions)
    sold = np.zeros_like(demand)
    received = np.zeros_like(demand)
    on_hand = np.zeros(positions, dtype=np.int64)
    on_order = np.zeros(positions, dtype=np.int64)
    arriving = np.zeros((positions, days + 60), dtype=np.int64)
    started = np.argmax((base * scale) > 0, axis=1)  # a launch is stocked on its first day
    for d in range(days):
        first_stock = started == d
        arriving[first_stock, d] += target[first_stock].astype(np.int64)
        landing = arriving[:, d]
        on_hand += landing
        on_order -= np.minimum(on_order, landing)
        received[:, d] = landing
        sold[:, d] = np.minimum(on_hand, demand[:, d])
        on_hand -= sold[:, d]
        review = ((d - review_day) % REVIEW_DAYS == 0) & (d > started)
        short = (target - on_hand - on_order).astype(np.int64)
        order = review & (short > 0)
        late = rng.random(positions) < LATE_SHARE
        due = np.minimum(d + lead + np.where(late, LATE_DAYS, 0), days + 59)
        rows = np.flatnonzero(order)
        arriving[rows, due[rows]] += short[rows]
        on_order[rows] += short[rows]
    return StudyPlan(
        today=today,
        days=days,
        categories=categories,
        warehouses=warehouse_rows,
        skus=sku_rows,
        offers=offers,
        promotions=promotions,
        kinds=kinds,
        demand=demand,
        sold=sold,
        received=received,
        price=price,
    )
