"""``manage.py seed_forecast_study``: the backtest's second data set, deterministic from its seed, with
the patterns it promises (intermittent demand, weekly seasonality, promotions with uplift), loaded
through the ingestion services."""

import itertools
from datetime import date, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from core.demo.forecast_study import KINDS, study_plan
from core.demo.synthetic import demo_plan
from core.forecasting.demand_class import DemandClass, classify
from core.forecasting.models import Promotion
from core.inventory.models import Anomaly, DailyFact, Position
from core.supply.models import SupplierOffer

TODAY = date(2026, 11, 20)


def _plan(seed: int = 5):
    return study_plan(seed=seed, skus=120, warehouses=3, days=150, today=TODAY)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first, again, other = _plan(), _plan(), _plan(seed=6)
    assert np.array_equal(first.sold, again.sold)
    assert np.array_equal(first.received, again.received)
    assert first.promotions == again.promotions
    assert first.skus == again.skus
    assert not np.array_equal(first.sold, other.sold)
    assert next(first.movement_days()) == next(again.movement_days())


def test_the_study_has_the_patterns_it_promises() -> None:
    plan = _plan()
    # Intermittent demand: a good share of the positions classify as intermittent or lumpy.
    classes = [classify(row).demand_class for row in plan.sold]
    sparse = sum(c in (DemandClass.INTERMITTENT, DemandClass.LUMPY) for c in classes) / len(classes)
    assert 0.3 <= sparse <= 0.8
    assert {KINDS[i] for i in range(len(KINDS))} == set(plan.kinds.values())
    # Weekly seasonality: the smooth SKUs' demand differs by weekday, well beyond noise.
    smooth = [i for i, sku in enumerate(plan.skus) for _ in range(3) if plan.kinds[sku["code"]] == "smooth"]
    rows = np.array([plan.demand[p] for p in sorted(set(smooth))])
    weekday = np.array([(plan.first_day + timedelta(days=d)).weekday() for d in range(plan.days)])
    by_day = [rows[:, weekday == w].mean() for w in range(7)]
    assert max(by_day) / min(by_day) > 1.05
    # Promotions: windows at a discount, demand multiplied inside them, never two at once for a SKU.
    assert len(plan.promotions) >= 10
    codes = [row["code"] for row in plan.skus]
    lifted = []
    for promo in plan.promotions:
        assert 0.1 <= promo.discount <= 0.4
        assert promo.uplift > 1
        assert promo.start <= promo.end
        s = codes.index(promo.sku)
        inside = slice((promo.start - plan.first_day).days, (promo.end - plan.first_day).days + 1)
        assert np.allclose(plan.price[s, inside], float(plan.price[s, 0]) * (1 - promo.discount), atol=0.011)
        before = slice(max(0, inside.start - 28), inside.start)
        demand = plan.demand[s * 3 : s * 3 + 3]
        if demand[:, before].sum() > 0:
            lifted.append(demand[:, inside].mean() / max(demand[:, before].mean(), 1e-9))
    assert np.median(lifted) > 1.3
    by_sku: dict[str, list] = {}
    for promo in plan.promotions:
        by_sku.setdefault(promo.sku, []).append(promo)
    for windows in by_sku.values():
        windows.sort(key=lambda w: w.start)
        assert all(a.end < b.start for a, b in itertools.pairwise(windows))
    # Lost sales: some days sold less than the demand (stock-outs), never more.
    assert (plan.sold <= plan.demand).all()
    assert (plan.sold < plan.demand).any()


def test_it_is_another_generator_than_the_demo() -> None:
    demo = demo_plan(scale="small", seed=5, today=TODAY)
    assert {row["code"] for row in demo.skus}.isdisjoint(row["code"] for row in _plan().skus)


@pytest.mark.django_db(transaction=True)
def test_the_command_loads_the_study_through_ingestion() -> None:
    out = StringIO()
    args = [
        "--seed",
        "3",
        "--skus",
        "12",
        "--warehouses",
        "2",
        "--days",
        "70",
        "--tenant",
        "study",
        "--today",
        "2026-11-20",
    ]
    call_command("seed_forecast_study", *args, stdout=out)
    plan = study_plan(seed=3, skus=12, warehouses=2, days=70, today=TODAY)
    assert Position.objects.filter(tenant__slug="study").count() == 24
    assert SupplierOffer.objects.filter(tenant__slug="study").count() == 12
    facts = DailyFact.objects.filter(tenant__slug="study")
    assert facts.aggregate(units=Sum("units_sold"))["units"] == plan.sold.sum()
    assert not Anomaly.objects.filter(tenant__slug="study").exists()  # tickets never trip the spike check
    assert "24 positions" in out.getvalue()
    stored = Promotion.objects.filter(tenant__slug="study").order_by("sku__code", "starts_on")
    assert [(p.sku.code, p.starts_on, p.ends_on) for p in stored] == sorted(
        (p.sku, p.start, p.end) for p in plan.promotions
    )
    with pytest.raises(CommandError, match="exists"):
        call_command("seed_forecast_study", *args, stdout=StringIO())
