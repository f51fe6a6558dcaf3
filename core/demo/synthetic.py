"""Synthetic demo data for one tenant, from a seed and a date alone.

``demo_plan(scale=, seed=, today=)`` answers master rows, partners, supplier offers and a day by
day stream of ledger lines, all as the bulk endpoints take them. It is pure: every draw comes from
a ``random.Random`` seeded with the seed and a purpose (string seeds are hashed with SHA-512, so
PYTHONHASHSEED changes nothing) and nothing reads the clock, so the same seed and ``today`` give
the same rows.

The ledger is simulated rather than sampled: each position's stock is kept while its lines are
written, replenishment arrives a lead time after stock runs low, and a sale takes at most what is
on hand, so every batch passes ingestion's stock check. Built in for the warning engine to find:
trend and weekly seasonality, promotions (more units at a lower price), slow movers fading out
over the last four weeks, recent launches that flop on short-dated stock, returns and stock
adjustments, and brushing (repeated order lines, zero-price sales, a 30x spike on a recent day).
For the industry profiles: apparel SKUs whose season ends and electronics SKUs whose life ends (each
naming a successor) within the coming weeks. The apparel categories carry no monthly coefficients:
the simulated demand has a weekly season and a trend, no monthly one.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Scale:
    regions: int
    warehouses: int
    categories_per_profile: int
    skus: int
    days: int


SCALES = {
    "small": Scale(regions=4, warehouses=8, categories_per_profile=1, skus=120, days=120),
    "medium": Scale(regions=6, warehouses=20, categories_per_profile=3, skus=1_000, days=180),
    "large": Scale(regions=8, warehouses=50, categories_per_profile=6, skus=5_000, days=365),
}
# Each SKU is stocked in this share of the warehouses, picked at random.
STOCKED_SHARE = 0.6

PROFILES = ("fmcg", "electronics", "apparel", "general")
REGIONS = [
    ("northeast", 42.36, -71.06),
    ("southeast", 33.75, -84.39),
    ("midwest", 41.88, -87.63),
    ("west", 37.77, -122.42),
    ("southwest", 33.45, -112.07),
    ("northwest", 47.61, -122.33),
    ("mountain", 39.74, -104.99),
    ("south-central", 29.76, -95.37),
]
CATEGORY_NAMES = {
    "fmcg": ["Trail Snacks", "Drinks", "Camp Meals", "Sun and Skin Care", "Hygiene", "Coffee and Tea"],
    "electronics": ["Lighting", "Power", "Navigation", "Audio", "Cameras", "Radios"],
    "apparel": ["Outerwear", "Footwear", "Base Layers", "Headwear", "Gloves", "Kids"],
    "general": ["Tents", "Sleeping", "Cooking", "Hydration", "Tools", "Camp Furniture"],
}
PRODUCTS = {
    "fmcg": ["Trail Mix", "Energy Bar", "Electrolyte Drink", "Freeze-Dried Chili", "Sunscreen", "Lip Balm", "Jerky"],
    "electronics": ["Headlamp", "Power Bank", "Solar Panel", "GPS Watch", "Speaker", "Action Camera", "Radio"],
    "apparel": ["Rain Jacket", "Fleece", "Hiking Boots", "Wool Socks", "Beanie", "Softshell Pants", "Merino Tee"],
    "general": ["Tent", "Sleeping Bag", "Camp Stove", "Water Filter", "Trekking Poles", "Cooler", "Camp Chair"],
}
PRODUCT_LINES = ["Alpine", "Summit", "Ridge", "Canyon", "Glacier", "Timber", "Coastal", "Mesa", "Tundra", "Cascade"]
VARIANTS = {"apparel": ["XS", "S", "M", "L", "XL"]}
DEFAULT_VARIANTS = ["Classic", "Lite", "Pro", "Max", "Mini"]
UNIT_COST = {"fmcg": (0.6, 6.0), "electronics": (9.0, 160.0), "apparel": (8.0, 90.0), "general": (6.0, 140.0)}
SHELF_LIFE_DAYS = (30, 45, 60, 90, 120, 180, 270, 365)

VELOCITY_SHARE = {"cash_cow": 0.15, "strategic_reserve": 0.25, "long_tail": 0.60}
# Units a day in an average store; a distribution centre sells more.
BASE_RATE = {"cash_cow": (6.0, 18.0), "strategic_reserve": (1.2, 4.0), "long_tail": (0.08, 0.8)}
# Days of demand the first receipt covers; strategic reserve is held deep on purpose.
COVER_DAYS = {"cash_cow": (14, 28), "strategic_reserve": (45, 90), "long_tail": (30, 60)}
WAREHOUSE_SIZE = {"distribution_centre": 1.8, "third_party": 1.0}  # a store draws 0.6 to 1.2
WEEKDAY_FACTOR = (0.85, 0.87, 0.90, 0.95, 1.08, 1.25, 1.10)  # Monday to Sunday, mean 1: weekend peak

LAUNCH_SHARE = 0.04  # SKUs launched 15 to 30 days before today; three in four flop
FLOP_FACTOR = 0.03
SLOW_SHARE = 0.08  # established SKUs whose sales fade to nearly nothing over the last weeks
SLOW_WINDOW_DAYS = 28
PROMO_SKU_SHARE = 0.15
RETURN_RATE = 0.02  # of position-days with sales
ADJUSTMENT_RATE = 0.004  # of position-days
SPIKE_FACTOR = 30
# A sale line is at most this share of a normal day: the spike rule holds each line against the
# median (+5 MADs) of the daily totals before its batch, which chance can put well below the mean.
LINE_SHARE = 0.6
# Apparel SKUs whose season ends, electronics SKUs whose life ends (with a successor), this many
# days ahead: inside the shortest forecast horizon (56 days).
SEASON_END_SHARE = 0.3
END_OF_LIFE_SHARE = 0.2
PROFILE_DAYS_AHEAD = (10, 45)
REVIEW_DAYS = 7  # stock is reordered when it would not last the lead time and this much more
ORDER_DAYS = 21  # a replenishment order covers this many days of the expected demand

SUPPLIERS = [
    ("Northwind Components", "supply@northwind.example"),
    ("Blue Ridge Supply", "orders@blueridge.example"),
    ("Harbor Provisions", "sales@harbor-provisions.example"),
    ("Summit Electronics Trading", "b2b@summit-electronics.example"),
    ("Pioneer Textiles", "export@pioneer-textiles.example"),
    ("Crescent Outdoor Goods", "trade@crescent-outdoor.example"),
]


def _decimal(value: float, places: int = 2) -> str:
    return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # the normal approximation is close enough there, and Knuth's loop gets slow
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


@dataclass(frozen=True)
class DayBatch:
    day: date
    rows: list[dict]


@dataclass(frozen=True)
class _Promo:
    start: int  # day index, inclusive
    end: int  # exclusive
    lift: float
    price: str


@dataclass
class _SkuPlan:
    code: str
    profile: str
    velocity: str
    base: float
    slope: float
    list_price: str
    shelf_life: int | None
    start: int  # day index of the first stock: 0, or the launch day of a recent launch
    lead_time: int  # the primary supplier's
    slow: bool = False
    flop: bool = False
    short_expiry: date | None = None  # the launch lot of a flop in FMCG, close to expiry by today
    promos: list[_Promo] = field(default_factory=list)


@dataclass(frozen=True)
class _PositionSpec:
    sku: _SkuPlan
    warehouse: str
    rate: float  # planned units a day before trend, season and the rest
    cover: int
    injection: tuple[int, str] | None  # (day index, kind) of brushing to inject


@dataclass
class _Stock:
    on_hand: int = 0
    pending: list[tuple[int, int]] = field(default_factory=list)  # (arrival day index, quantity)


class DemoPlan:
    """Everything a seed makes; ``movement_days()`` replays the same ledger on every call."""

    def __init__(self, *, scale: Scale, seed: int, today: date) -> None:
        self.scale, self.seed, self.today = scale, seed, today
        self.days = scale.days
        self.first_day = today - timedelta(days=scale.days)  # the last day with lines is yesterday
        rng = random.Random(f"tripline-demo:{seed}:master")  # noqa: S311 - reproducible, not secret
        self.regions = [name for name, _, _ in REGIONS[: scale.regions]]
        self.warehouses, sizes = self._warehouses(rng)
        self.categories = self._categories()
        self.skus, plans = self._skus(rng)
        self._profile_days(plans)
        self.suppliers = [{"name": name, "contact_email": email} for name, email in SUPPLIERS]
        self.distributors = [
            {
                "name": f"{region.replace('-', ' ').title()} Distribution",
                "contact_email": f"ops@{region}-distribution.example",
                "region": region,
            }
            for region in self.regions
        ]
        self.offers = self._offers(rng, plans)
        self._promotions(rng, plans)
        self._positions = self._place(rng, plans, sizes)
        self.position_count = len(self._positions)

    # --- master data ---------------------------------------------------------------------------

    def _warehouses(self, rng: random.Random) -> tuple[list[dict], list[float]]:
        rows, sizes, per_region = [], [], dict.fromkeys(self.regions, 0)
        for index in range(self.scale.warehouses):
            region, latitude, longitude = REGIONS[index % self.scale.regions]
            per_region[region] += 1
            number = per_region[region]
            if number == 1:
                kind = "distribution_centre"
            elif index % 7 == 6:
                kind = "third_party"
            else:
                kind = "store"
            label = {"distribution_centre": "DC", "third_party": "3PL", "store": "Store"}[kind]
            rows.append(
                {
                    "code": f"WH-{index + 1:03d}",
                    "name": f"{region.replace('-', ' ').title()} {label} {number}",
                    "region": region,
                    "kind": kind,
                    "latitude": f"{latitude + rng.uniform(-1.5, 1.5):.6f}",
                    "longitude": f"{longitude + rng.uniform(-1.5, 1.5):.6f}",
                }
            )
            sizes.append(WAREHOUSE_SIZE.get(kind) or rng.uniform(0.6, 1.2))
        return rows, sizes

    def _categories(self) -> list[dict]:
        # Ordered by profile, FMCG first: launches are dealt out over categories in this order.
        return [
            {
                "code": f"{profile[:3].upper()}-{number + 1:02d}",
                "name": CATEGORY_NAMES[profile][number],
                "profile": profile,
            }
            for profile in PROFILES
            for number in range(self.scale.categories_per_profile)
        ]

    def _skus(self, rng: random.Random) -> tuple[list[dict], list[_SkuPlan]]:
        count, days = self.scale.skus, self.days
        launches = max(len(self.categories), round(count * LAUNCH_SHARE))
        established = count - launches
        velocities: list[str] = []
        for velocity in ("cash_cow", "strategic_reserve"):
            velocities += [velocity] * max(1, round(count * VELOCITY_SHARE[velocity]))
        velocities += ["long_tail"] * (count - len(velocities))  # the rest: every class is present
        rng.shuffle(velocities)
        slow = set(rng.sample(range(established), max(1, round(established * SLOW_SHARE))))
        rows, plans = [], []
        for index in range(count):
            launch = index - established if index >= established else None
            category = (
                self.categories[launch % len(self.categories)]
                if launch is not None
                else self.categories[rng.randrange(len(self.categories))]
            )
            profile, velocity = category["profile"], velocities[index]
            cost = rng.uniform(*UNIT_COST[profile])
            plan = _SkuPlan(
                code=f"SKU-{index + 1:05d}",
                profile=profile,
                velocity=velocity,
                base=rng.uniform(*BASE_RATE[velocity]),
                slope=rng.uniform(-0.4, 0.6),
                list_price=_decimal(cost * rng.uniform(1.5, 2.6)),
                shelf_life=rng.choice(SHELF_LIFE_DAYS) if profile == "fmcg" else None,
                start=0,
                lead_time=rng.randint(3, 10),
                slow=index in slow,
            )
            if launch is None:
                launch_date = self.first_day - timedelta(days=rng.randint(30, 1500))
            else:
                age = rng.randint(15, 30)
                launch_date = self.today - timedelta(days=age)
                plan.start = days - age
                plan.flop = launch % 4 != 3
                if plan.flop and profile == "fmcg":
                    # Stocked deep on short-dated lots and hardly sold: lots close to expiry by today.
                    plan.short_expiry = self.today + timedelta(days=rng.randint(3, 9))
                    plan.shelf_life = (plan.short_expiry - launch_date).days
            row = {
                "code": plan.code,
                "name": f"{rng.choice(PRODUCT_LINES)} {rng.choice(PRODUCTS[profile])} "
                f"{rng.choice(VARIANTS.get(profile, DEFAULT_VARIANTS))}",
                "category": category["code"],
                "velocity_class": velocity,
                "launch_date": launch_date.isoformat(),
                "unit_cost": _decimal(cost),
                "list_price": plan.list_price,
            }
            if plan.shelf_life is not None:
                row["shelf_life_days"] = plan.shelf_life
            rows.append(row)
            plans.append(plan)
        return rows, plans

    def _profile_days(self, plans: list[_SkuPlan]) -> None:
        """Season ends for some apparel SKUs and ends of life, each with a successor, for some
        electronics ones, all within the forecast horizon: what the profile rules look for. Drawn
        from a generator of their own, so the rest of the plan is what it was without them."""
        rng = random.Random(f"tripline-demo:{self.seed}:profiles")  # noqa: S311 - reproducible, not secret
        by_profile: dict[str, list[dict]] = {}
        for plan, row in zip(plans, self.skus, strict=True):
            if plan.start == 0:  # established SKUs: a launch is not at its end
                by_profile.setdefault(plan.profile, []).append(row)
        apparel = by_profile.get("apparel", [])
        for row in rng.sample(apparel, round(len(apparel) * SEASON_END_SHARE)):
            row["season_ends_on"] = (self.today + timedelta(days=rng.randint(*PROFILE_DAYS_AHEAD))).isoformat()
        electronics = by_profile.get("electronics", [])
        ending = rng.sample(electronics, round(len(electronics) * END_OF_LIFE_SHARE))
        lasting = [row for row in electronics if row not in ending]
        for row in ending:
            row["end_of_life_on"] = (self.today + timedelta(days=rng.randint(*PROFILE_DAYS_AHEAD))).isoformat()
            same_category = [other for other in lasting if other["category"] == row["category"]]
            if same_category or lasting:
                row["successor"] = rng.choice(same_category or lasting)["code"]

    def _offers(self, rng: random.Random, plans: list[_SkuPlan]) -> list[dict]:
        """A primary supplier and one to three backups per SKU, dearer and less reliable: the first
        backup an express source (a quarter of the lead time, air freight on top), the others slower."""
        offers = []
        for plan, row in zip(plans, self.skus, strict=True):
            cost = float(row["unit_cost"])
            weekly = plan.base * 7 * self.scale.warehouses * STOCKED_SHARE
            names = rng.sample([name for name, _ in SUPPLIERS], 1 + rng.randint(1, 3))
            for rank, name in enumerate(names, start=1):
                primary, express = rank == 1, rank == 2
                price = cost * (rng.uniform(0.97, 1.03) if primary else rng.uniform(1.04, 1.3))
                capacity = None if rng.random() < 0.3 else round(weekly * rng.uniform(1.5, 4.0 if primary else 2.0))
                if primary:
                    lead_time = plan.lead_time
                elif express:
                    lead_time = max(1, plan.lead_time // 4) + rng.randint(0, 2)
                else:
                    lead_time = plan.lead_time + rng.randint(2, 18)
                offers.append(
                    {
                        "sku": plan.code,
                        "supplier": name,
                        "rank": rank,
                        "lead_time_days": lead_time,
                        "unit_price": _decimal(price, 4),
                        "min_order_quantity": rng.choice((1, 10, 25, 50, 100)),
                        "capacity_per_week": None if capacity is None else max(10, capacity),
                        "reliability": _decimal(rng.uniform(0.9, 0.99) if primary else rng.uniform(0.7, 0.95), 3),
                        "freight_per_unit": _decimal(cost * 0.08 if express else 0, 4),
                    }
                )
        return offers

    def _promotions(self, rng: random.Random, plans: list[_SkuPlan]) -> None:
        """A few multi-day windows, each lifting a share of the established SKUs at a discount."""
        eligible = [plan for plan in plans if plan.start == 0 and not plan.slow]
        for _ in range(max(3, self.days // 40)):
            start = rng.randint(10, self.days - 12)
            end = start + rng.randint(3, 7)
            lift = rng.uniform(1.6, 2.4)
            discount = rng.uniform(0.15, 0.35)
            for plan in rng.sample(eligible, max(1, round(len(eligible) * PROMO_SKU_SHARE))):
                price = _decimal(float(plan.list_price) * (1 - discount))
                plan.promos.append(_Promo(start=start, end=end, lift=lift, price=price))

    def _place(self, rng: random.Random, plans: list[_SkuPlan], sizes: list[float]) -> list[_PositionSpec]:
        stocked = max(1, round(len(self.warehouses) * STOCKED_SHARE))
        placed = []
        for plan in plans:
            for index in sorted(rng.sample(range(len(self.warehouses)), stocked)):
                placed.append(
                    (
                        plan,
                        self.warehouses[index]["code"],
                        plan.base * sizes[index] * rng.uniform(0.8, 1.2),
                        rng.randint(*COVER_DAYS[plan.velocity]),
                    )
                )
        # Brushing on steady sellers with weeks of history, so the spike rule has a baseline.
        steady = [
            number
            for number, (plan, *_) in enumerate(placed)
            if plan.velocity == "cash_cow" and plan.start == 0 and not plan.slow
        ]
        counts = {
            "spike": max(2, len(placed) // 500),
            "zero_price": max(3, len(placed) // 300),
            "repeat": max(3, len(placed) // 300),
        }
        chosen = rng.sample(steady, min(len(steady), sum(counts.values())))
        kinds = [kind for kind, count in counts.items() for _ in range(count)]
        # One injection per chosen position, on one of the last six days.
        injections = {
            number: (self.days - rng.randint(1, 6), kind) for number, kind in zip(chosen, kinds, strict=False)
        }
        return [
            _PositionSpec(sku=plan, warehouse=code, rate=rate, cover=cover, injection=injections.get(number))
            for number, (plan, code, rate, cover) in enumerate(placed)
        ]

    # --- the ledger ----------------------------------------------------------------------------

    def movement_days(self) -> Iterator[DayBatch]:
        """Each day's lines, oldest day first; a new simulation from the start on every call."""
        rng = random.Random(f"tripline-demo:{self.seed}:ledger")  # noqa: S311 - reproducible, not secret
        refs, orders = itertools.count(1), itertools.count(1)
        stocks = [_Stock() for _ in self._positions]
        for index in range(self.days):
            day = self.first_day + timedelta(days=index)
            writer = _DayWriter(day=day, refs=refs, orders=orders)
            weekday = WEEKDAY_FACTOR[day.weekday()]
            for spec, stock in zip(self._positions, stocks, strict=True):
                if index >= spec.sku.start:
                    self._position_day(rng, writer, spec, stock, index, weekday)
            yield DayBatch(day=day, rows=writer.rows)

    def _level(self, sku: _SkuPlan, index: int) -> float:
        """Demand before the weekday and promotions: trend, the slow movers' fade, the flops."""
        level = 1 + sku.slope * (index / self.days - 0.5)
        fade_from = self.days - SLOW_WINDOW_DAYS
        if sku.slow and index >= fade_from:
            level *= max(0.01, (1 - (index - fade_from) / SLOW_WINDOW_DAYS) ** 2)
        if sku.flop:
            level *= FLOP_FACTOR
        return level

    @staticmethod
    def _promo(sku: _SkuPlan, index: int) -> _Promo | None:
        return next((promo for promo in sku.promos if promo.start <= index < promo.end), None)

    def _position_day(
        self, rng: random.Random, writer: _DayWriter, spec: _PositionSpec, stock: _Stock, index: int, weekday: float
    ) -> None:
        # Lines are written in time order and the stock follows them, so the ledger's running
        # stock (by occurred_at) never dips below zero.
        sku = spec.sku
        if index == sku.start:
            quantity = max(5, math.ceil(spec.rate * spec.cover))
            writer.receipt(spec, quantity, minute=5 * 60, expires=sku.short_expiry)
            stock.on_hand += quantity
        arrived = sum(quantity for arrival, quantity in stock.pending if arrival == index)
        if arrived:
            stock.pending = [(arrival, quantity) for arrival, quantity in stock.pending if arrival != index]
            writer.receipt(spec, arrived, minute=6 * 60)
            stock.on_hand += arrived
        if spec.injection is not None and spec.injection[0] == index:
            self._inject(rng, writer, spec, stock, index, spec.injection[1])

        level = spec.rate * self._level(sku, index)
        promo = self._promo(sku, index)
        wanted = _poisson(rng, level * weekday * (promo.lift if promo else 1))
        sold = min(wanted, stock.on_hand)
        if sold:
            # Split into order lines of at most about a normal day's volume: the spike rule holds
            # each line against the daily totals of the weeks before, and a busy promotion day is
            # many orders, not one huge line.
            cap = max(5, round(level * LINE_SHARE))
            lines = math.ceil(sold / cap)
            size, rest = divmod(sold, lines)
            price = promo.price if promo else sku.list_price
            for line in range(lines):
                quantity = size + (1 if line < rest else 0)
                writer.sale(spec, quantity, minute=9 * 60 + line * 600 // lines, price=price)
            stock.on_hand -= sold
            if rng.random() < RETURN_RATE:
                returned = 1 if sold < 4 else rng.randint(1, 2)
                writer.line("return", spec, returned, minute=19 * 60 + 30)
                stock.on_hand += returned
        if rng.random() < ADJUSTMENT_RATE:
            delta = rng.choice((-3, -2, -1, -1, 1, 2))
            if stock.on_hand + delta >= 0:  # a count correction never finds less than nothing
                writer.line("adjustment", spec, delta, minute=21 * 60)
                stock.on_hand += delta

        lead = sku.lead_time
        coming = self._promo(sku, index + lead)
        outlook = level * (coming.lift if coming else 1)
        if stock.on_hand + sum(quantity for _, quantity in stock.pending) < outlook * (lead + REVIEW_DAYS):
            stock.pending.append(self._replenishment(spec, index, outlook))

    def _replenishment(self, spec: _PositionSpec, index: int, outlook: float) -> tuple[int, int]:
        """(arrival day index, quantity) of the order placed on day ``index``: ORDER_DAYS of the outlook,
        a lead time out. Another data set (core/demo/quality_study.py) orders deeper or lands late here."""
        return index + spec.sku.lead_time, max(5, math.ceil(outlook * ORDER_DAYS))

    def _inject(
        self, rng: random.Random, writer: _DayWriter, spec: _PositionSpec, stock: _Stock, index: int, kind: str
    ) -> None:
        """Brushing for the anomaly rules to flag, early in the day, with stock brought in for it."""
        if kind == "spike":
            quantity = SPIKE_FACTOR * max(2, round(spec.rate * self._level(spec.sku, index)))
            lines = [(quantity, spec.sku.list_price, writer.order())]
        elif kind == "zero_price":
            lines = [(rng.randint(1, 3), "0.00", writer.order()) for _ in range(rng.randint(1, 2))]
        else:  # the same order line sent again and again under new line references
            quantity, order = rng.randint(1, 3), writer.order()
            lines = [(quantity, spec.sku.list_price, order)] * rng.randint(2, 4)
        needed = sum(quantity for quantity, _, _ in lines)
        if stock.on_hand < needed:
            writer.receipt(spec, needed, minute=7 * 60)
            stock.on_hand += needed
        for number, (quantity, price, order) in enumerate(lines):
            writer.sale(spec, quantity, minute=8 * 60 + number, price=price, order=order)
        stock.on_hand -= needed


class _DayWriter:
    """Ledger lines of one day, with references unique over the whole run."""

    def __init__(self, *, day: date, refs: Iterator[int], orders: Iterator[int]) -> None:
        self.day, self.rows = day, []
        self._iso, self._refs, self._orders = day.isoformat(), refs, orders

    def order(self) -> str:
        return f"ORD-{next(self._orders):09d}"

    def line(self, kind: str, spec: _PositionSpec, quantity: int, *, minute: int, **extra: object) -> None:
        self.rows.append(
            {
                "kind": kind,
                "sku": spec.sku.code,
                "warehouse": spec.warehouse,
                "quantity": quantity,
                "occurred_at": f"{self._iso}T{minute // 60:02d}:{minute % 60:02d}:00Z",
                "external_ref": f"demo-{next(self._refs):010d}",
                **extra,
            }
        )

    def sale(self, spec: _PositionSpec, quantity: int, *, minute: int, price: str, order: str | None = None) -> None:
        self.line("sale", spec, quantity, minute=minute, order_ref=order or self.order(), unit_price=price)

    def receipt(self, spec: _PositionSpec, quantity: int, *, minute: int, expires: date | None = None) -> None:
        extra: dict[str, object] = {"lot_code": f"LOT-{self.day:%y%m%d}-{len(self.rows) + 1:05d}"}
        shelf_life = spec.sku.shelf_life
        if expires is None and shelf_life:
            expires = self.day + timedelta(days=shelf_life)
        if expires is not None:
            extra["expires_on"] = expires.isoformat()
        self.line("receipt", spec, quantity, minute=minute, **extra)


def demo_plan(*, scale: str, seed: int, today: date) -> DemoPlan:
    """The data a seed makes at a scale, with yesterday as the last day of the ledger."""
    if scale not in SCALES:
        raise ValueError(f"Unknown scale {scale!r}; choose one of {', '.join(SCALES)}.")
    return DemoPlan(scale=SCALES[scale], seed=seed, today=today)
