"""``manage.py seed_demo`` builds a realistic tenant through the ingestion services, from a seed."""

import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Q
from guardian.shortcuts import get_objects_for_group

from core.demo.loading import DEMO_SOURCE, demo_dataset_present
from core.demo.synthetic import demo_plan
from core.inventory.models import (
    Anomaly,
    AnomalyReason,
    Category,
    DailyFact,
    IndustryProfile,
    Lot,
    Movement,
    Position,
    Sku,
    VelocityClass,
    Warehouse,
)
from core.supply.models import SupplierOffer
from tenants.models import Partner, PartnerKind, Tenant
from tests.support.deadlock import deadlock_victim

TODAY = date(2026, 11, 20)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_small_seed_builds_a_realistic_tenant(db):
    # When the small scale is seeded into a new tenant
    output = seed("--scale", "small", "--seed", "7", "--tenant", "seedtest", "--today", TODAY.isoformat())
    tenant = Tenant.objects.get(slug="seedtest")
    assert "Seeded tenant 'seedtest'" in output

    # Then there are at least 120 days of daily sales, the last one yesterday
    facts = DailyFact.objects.filter(tenant=tenant, units_sold__gt=0)
    assert facts.values("day").distinct().count() >= 120
    assert facts.aggregate(last=Max("day"))["last"] == TODAY - timedelta(days=1)
    assert not Movement.objects.filter(tenant=tenant, occurred_at__date__gte=TODAY).exists()

    # with every velocity class and industry profile
    skus = Sku.objects.filter(tenant=tenant)
    assert set(skus.values_list("velocity_class", flat=True)) == set(VelocityClass.values)
    assert set(Category.objects.filter(tenant=tenant).values_list("profile", flat=True)) == set(IndustryProfile.values)

    # and positions and daily facts that are exactly what the ledger says
    call_command("inventory_reconcile", "--tenant", "seedtest", stdout=StringIO())

    # The injected brushing was flagged for each of the three reasons
    assert set(Anomaly.objects.filter(tenant=tenant).values_list("reason", flat=True)) == set(AnomalyReason.values)

    # Some lots expire within 10 days, and recent launches exist
    assert Lot.objects.filter(
        tenant=tenant, quantity__gt=0, expires_on__gte=TODAY, expires_on__lte=TODAY + timedelta(days=10)
    ).exists()
    assert skus.filter(
        launch_date__gte=TODAY - timedelta(days=30), launch_date__lte=TODAY - timedelta(days=15)
    ).exists()

    # Every SKU has one primary supplier offer and at least one backup, all from suppliers
    offers = SupplierOffer.objects.filter(tenant=tenant)
    per_sku = offers.values("sku").annotate(
        primary=Count("id", filter=Q(rank=1)), backups=Count("id", filter=Q(rank__gt=1))
    )
    assert len(per_sku) == skus.count()
    assert all(row["primary"] == 1 and row["backups"] >= 1 for row in per_sku)
    assert set(offers.values_list("supplier__kind", flat=True)) == {PartnerKind.SUPPLIER}

    # Each distributor's group sees exactly the warehouses of its region
    regions = {item["name"]: item["region"] for item in demo_plan(scale="small", seed=7, today=TODAY).distributors}
    distributors = Partner.objects.filter(tenant=tenant, kind=PartnerKind.DISTRIBUTOR)
    assert {partner.name for partner in distributors} == set(regions)
    for partner in distributors:
        granted = get_objects_for_group(partner.group, "inventory.view_warehouse", klass=Warehouse)
        expected = Warehouse.objects.filter(tenant=tenant, region=regions[partner.name])
        assert expected.exists()
        assert set(granted.values_list("code", flat=True)) == set(expected.values_list("code", flat=True))

    # A second seed into the same tenant is refused, saying what to do, and writes nothing
    lines = Movement.objects.filter(tenant=tenant).count()
    with pytest.raises(CommandError, match=r"already holds demo data.*--tenant <new-slug>"):
        seed("--tenant", "seedtest", "--today", TODAY.isoformat())
    assert Movement.objects.filter(tenant=tenant, source=DEMO_SOURCE).count() == lines


def _a_later_batch_deadlocked(slug: str):
    """Once the seed's first batch has committed, hold the tenant's last position and, when a later
    batch waits for it, take a position that batch holds: PostgreSQL aborts the batch.

    A batch locks its positions in id order, so the one waiting holds some of those below the held
    one; which, depends on the batch, so they are found rather than guessed: every lower position
    not locked already is taken at once (SKIP LOCKED), and one of those left is then waited for."""
    held: list[int] = []

    def hold_the_last(cursor) -> None:
        deadline = time.monotonic() + 30
        while not held:
            assert time.monotonic() < deadline, "the seed's first batch never committed"
            time.sleep(0.02)
            last = Position.objects.filter(tenant__slug=slug).aggregate(last=Max("id"))["last"]
            held.extend([last] if last is not None else [])
        cursor.execute("SELECT id FROM inventory_position WHERE id = %s FOR NO KEY UPDATE", held)

    def take_one_it_holds(cursor) -> None:
        lower = "FROM inventory_position p JOIN tenants_tenant t ON t.id = p.tenant_id WHERE t.slug = %s AND p.id < %s"
        cursor.execute(f"SELECT p.id {lower} ORDER BY p.id FOR NO KEY UPDATE OF p SKIP LOCKED", [slug, *held])
        free = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"SELECT p.id {lower}", [slug, *held])
        locked = sorted({row[0] for row in cursor.fetchall()} - free)
        assert locked, "the batch waiting for the last position held none below it"
        cursor.execute("SELECT id FROM inventory_position WHERE id = %s FOR NO KEY UPDATE", [locked[-1]])

    return deadlock_victim(hold=hold_the_last, close=take_one_it_holds)


def test_a_seed_cut_short_is_resumed_by_the_same_command(transactional_db, settings):
    # Given a seed whose batch PostgreSQL aborted for a deadlock, with no attempt left
    settings.DB_RETRY_ATTEMPTS = 1
    with (
        _a_later_batch_deadlocked("cut"),
        pytest.raises(CommandError, match="What was loaded stays; run the same command again"),
    ):
        seed("--tenant", "cut", "--seed", "7", "--today", TODAY.isoformat())
    tenant = Tenant.objects.get(slug="cut")
    loaded = Movement.objects.filter(tenant=tenant, source=DEMO_SOURCE)
    plan = demo_plan(scale="small", seed=7, today=TODAY)
    expected = [row["external_ref"] for day in plan.movement_days() for row in day.rows]
    assert 0 < loaded.count() < len(expected)
    assert not demo_dataset_present(tenant=tenant)

    # Then a seed with other arguments is refused, naming those the seed began with
    with pytest.raises(CommandError, match="begun with --scale small --seed 7 --today 2026-11-20; this run asks for"):
        seed("--tenant", "cut", "--seed", "8")

    # When the same command runs again (without --today: the seed keeps its own)
    output = seed("--tenant", "cut")

    # Then it goes on after the last batch, and the ledger is the plan's, each line once
    assert "Resuming the demo seed of 'cut' begun with --scale small --seed 7 --today 2026-11-20" in output
    assert "Seeded tenant 'cut'" in output
    assert sorted(loaded.values_list("external_ref", flat=True)) == sorted(expected)
    call_command("inventory_reconcile", "--tenant", "cut", stdout=StringIO())
    # and the tenant holds demo data like any seeded one: another seed is refused
    assert demo_dataset_present(tenant=tenant)
    with pytest.raises(CommandError, match="already holds demo data"):
        seed("--tenant", "cut")


def test_a_today_in_the_future_is_refused(db):
    with pytest.raises(CommandError, match="in the future"):
        seed("--tenant", "later", "--today", (datetime.now(UTC).date() + timedelta(days=5)).isoformat())
    assert not Movement.objects.exists()


# The generator alone: fast, so determinism is checked without seeding twice.


def everything(seed_value: int) -> tuple:
    plan = demo_plan(scale="small", seed=seed_value, today=TODAY)
    days = [(batch.day, batch.rows) for batch in plan.movement_days()]
    return plan.categories, plan.warehouses, plan.skus, plan.suppliers, plan.distributors, plan.offers, days


def test_same_seed_and_today_give_the_same_rows():
    assert everything(7) == everything(7)


def test_another_seed_gives_other_rows():
    first, second = everything(7), everything(8)
    assert first[2] != second[2]  # SKUs
    assert first[-1] != second[-1]  # ledger


def test_the_ledger_is_in_the_past_unique_and_never_below_zero():
    plan = demo_plan(scale="small", seed=3, today=TODAY)
    refs, lines = set(), defaultdict(list)
    for batch in plan.movement_days():
        for row in batch.rows:
            refs.add(row["external_ref"])
            lines[row["sku"], row["warehouse"]].append(row)
    assert len(refs) == sum(len(rows) for rows in lines.values())
    signs = {"receipt": 1, "return": 1, "sale": -1, "adjustment": 1}
    for rows in lines.values():
        on_hand = 0
        for row in sorted(rows, key=lambda row: row["occurred_at"]):  # stable: ties keep ledger order
            assert datetime.fromisoformat(row["occurred_at"]).date() < TODAY
            on_hand += signs[row["kind"]] * row["quantity"]
            assert on_hand >= 0, row
