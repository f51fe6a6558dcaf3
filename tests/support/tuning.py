"""A hand-made ledger the threshold tuner's tests replay, and evidence built on its positions.

Every SKU is received 700 units 100 days ago and sells 10 a day from the next day. The tenant's
stock-out policy gives SKUs without a supplier a 6-day lead time and bands yellow 0.15, orange 0.30,
red 0.45: a position that ends a day with 50 units (5 days of cover, 1/6 = 0.167 short of the lead
time) trips yellow; one step of the tuner (yellow x 1.2 = 0.18) no longer trips there, only the day
after (40 units, 0.333). Days are counted back from today.

- category ``ok``: ``OK-A`` sells on to 0 (warned 5 days ahead; after the step 4: within the 1-day
  tolerance); ``OK-D1`` .. ``OK-D8`` stop selling with 50 on hand (alerts that nothing follows).
- category ``bad``: ``BAD-G`` sells its last 50 at once the day after it reaches 50: warned one day
  ahead, and missed after the step (recall falls); ``BAD-D1`` .. ``BAD-D8`` as the ``ok`` ones.
"""

from __future__ import annotations

from core.inventory.models import Position
from core.quality.tuner_evidence import FALSE, TRUE, Verdict
from tests.support.ingest import ledger_line, push_accepted
from tests.support.world import TenantWorld

STOCK, START, PER_DAY = 700, 100, 10
STOCK_OUT_BANDS = {"yellow": "0.15", "orange": "0.3", "red": "0.45"}
STALLED = 8  # per category: positions whose stock-out alerts nothing follows
FALSE_ALARMS = STALLED  # one verdict on each (no SKU has enough on its own; four in all would not do either)


def sells_down(sku: str, *, stops_at: int = 0, dumps_at: int | None = None) -> list[dict]:
    """The receipt, then 10 a day; selling stops with ``stops_at`` units on hand, or, with
    ``dumps_at``, the last ``dumps_at`` units go in one sale the day after the stock reaches them."""
    rows, stock, days_ago = [ledger_line("receipt", sku, STOCK, START)], STOCK, START - 1
    while stock > stops_at and days_ago > 0:
        sold = stock if dumps_at is not None and stock == dumps_at else min(PER_DAY, stock)
        rows.append(ledger_line("sale", sku, sold, days_ago))
        stock, days_ago = stock - sold, days_ago - 1
    return rows


def tuning_shop(world: TenantWorld) -> TenantWorld:
    slug = world.tenant.slug
    push_accepted(world.admin, slug, "categories", [{"code": code, "name": code} for code in ("ok", "bad")])
    stalled = range(1, STALLED + 1)
    skus = ["OK-A", *(f"OK-D{n}" for n in stalled), "BAD-G", *(f"BAD-D{n}" for n in stalled)]
    push_accepted(
        world.admin,
        slug,
        "skus",
        [
            {"code": code, "name": code, "category": code.split("-")[0].lower(), "unit_cost": "1", "list_price": "2"}
            for code in skus
        ],
    )
    policy = {"rule": "stock_out_risk", "bands": STOCK_OUT_BANDS, "parameters": {"default_lead_time_days": 6}}
    response = world.admin.client.post(f"/api/v1/tenants/{slug}/alert-policies/", policy, format="json")
    assert response.status_code == 201, response.content
    rows = sells_down("OK-A") + sells_down("BAD-G", dumps_at=50)
    for code in skus:
        if "-D" in code:
            rows += sells_down(code, stops_at=50)
    push_accepted(world.admin, slug, "movements", rows)
    return world


def positions_of(world: TenantWorld, category: str) -> dict[str, Position]:
    positions = Position.objects.filter(tenant=world.tenant, sku__category__code=category).select_related("sku")
    return {position.sku.code: position for position in positions}


def planner_verdicts(world: TenantWorld, category: str, *, false_alarms: int = FALSE_ALARMS) -> list[Verdict]:
    """A planner's word on a category's stock-out alerts: the sold-out SKU's alert right, and
    ``false_alarms`` of the stalled SKUs' alerts false (one verdict each)."""
    verdicts = []
    for code, position in sorted(positions_of(world, category).items()):
        stalled = "-D" in code
        if stalled and int(code[-1]) > false_alarms:
            continue
        verdicts.append(
            Verdict(
                rule="stock_out_risk",
                verdict=FALSE if stalled else TRUE,
                position_id=position.pk,
                sku_id=position.sku_id,
                category_id=position.sku.category_id,
                velocity_class=position.sku.velocity_class,
            )
        )
    return verdicts
