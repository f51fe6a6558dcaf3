"""ERP clients pushing overlapping sales over HTTP while full evaluations run, all at once.

Each push locks its positions in id order; each evaluation chunk locks the positions it found
dirty, and writes alerts and readings whose foreign keys to positions PostgreSQL checks at commit;
the real worker runs the incremental passes the pushes ask for and the responses to the alerts.
However they interleave, no push answers 5xx, no run fails, every accepted push's lines are in the
ledger exactly once, and the ledger still adds up to the positions and daily facts. A demo seed of
another tenant in the middle of it all finishes.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core.alerts.models import EvaluationRun, EvaluationStatus
from core.alerts.runs import evaluation_start, run_execute
from core.exceptions import Conflict
from core.inventory.models import Movement
from core.inventory.reconciliation import ledger_reconcile
from tenants import services
from tenants.models import PartnerKind, Tenant
from tenants.principals import SYSTEM_ACTOR
from tests.support.celery_worker import worker_idle_wait
from tests.support.ingest import push_rows
from tests.support.world import Caller, key_client

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db", "celery_worker_process")]

WAREHOUSES, SKUS = 8, 30  # 240 positions
CLIENTS, PUSHES, LINES = 4, 60, 12  # 240 pushes of 12 lines
RESENT_EVERY = 10  # an ERP that timed out sends the same push again, with the same key
HISTORY_DAYS = 28


def _catalogue(world) -> list[tuple[str, str]]:
    slug = world.tenant.slug
    warehouses = [{"code": f"W{w}", "name": f"W{w}", "region": "r", "kind": "store"} for w in range(WAREHOUSES)]
    skus = [
        {"code": f"S{s}", "name": f"S{s}", "category": world.category.code, "unit_cost": "1", "list_price": "2"}
        for s in range(SKUS)
    ]
    for what, rows in (("warehouses", warehouses), ("skus", skus)):
        assert push_rows(world.admin, slug, what, rows).status_code == 201
    return [(f"S{s}", f"W{w}") for s in range(SKUS) for w in range(WAREHOUSES)]


def _history(world, pairs: list[tuple[str, str]]) -> None:
    """Four weeks of 5 sales a day on every position; two in three left with 6 to 14 days of cover,
    near their stock-out threshold, where a few pushes open or resolve alerts, the others
    overstocked with months of it."""
    today = timezone.now().date()
    rows = []
    for index, (sku, warehouse) in enumerate(pairs):
        left = 30 + (index * 7) % 41 if index % 3 else 600 + (index * 13) % 300
        rows.append(
            {
                "kind": "receipt",
                "sku": sku,
                "warehouse": warehouse,
                "quantity": left + 5 * HISTORY_DAYS,
                "occurred_at": f"{today - timedelta(days=HISTORY_DAYS + 1)}T08:00:00Z",
                "external_ref": f"history-{sku}-{warehouse}-in",
            }
        )
        rows += [
            {
                "kind": "sale",
                "sku": sku,
                "warehouse": warehouse,
                "quantity": 5,
                "occurred_at": f"{today - timedelta(days=day)}T12:00:00Z",
                "external_ref": f"history-{sku}-{warehouse}-{day}",
            }
            for day in range(1, HISTORY_DAYS + 1)
        ]
    response = push_rows(world.admin, world.tenant.slug, "movements", rows)
    assert response.status_code == 201, response.json()


def _erp_callers(world) -> list[Caller]:
    callers = []
    for number in range(CLIENTS):
        partner = services.partner_create(tenant=world.tenant, kind=PartnerKind.ERP, name=f"ERP {number}")
        _, raw = services.api_key_create(tenant=world.tenant, partner=partner, name="push")
        callers.append(Caller(client=key_client(raw), partner=partner))
    return callers


def _batch(rng: random.Random, client: int, push: int, pairs: list[tuple[str, str]]) -> list[dict]:
    """Sales of one or two units and, one line in six, a receipt of 10, on positions every client shares."""
    now = timezone.now()
    rows = []
    for line, (sku, warehouse) in enumerate(rng.sample(pairs, LINES)):
        receipt = rng.random() < 1 / 6
        rows.append(
            {
                "kind": "receipt" if receipt else "sale",
                "sku": sku,
                "warehouse": warehouse,
                "quantity": 10 if receipt else rng.choice((1, 2)),
                "occurred_at": (now - timedelta(minutes=rng.randrange(1, 600))).isoformat(),
                "external_ref": f"erp{client}-{push}-{line}",
            }
        )
    return rows


@dataclass
class Traffic:
    statuses: Counter = field(default_factory=Counter)
    accepted: list[list[str]] = field(default_factory=list)  # the lines of each push answered 201
    failures: list[str] = field(default_factory=list)
    runs: list = field(default_factory=list)
    seconds: float = 0.0


@contextlib.contextmanager
def _traffic(
    world, pairs: list[tuple[str, str]], pushes: int, evaluated: Callable[[], list[Tenant]]
) -> Iterator[Traffic]:
    """ERP clients pushing ``pushes`` batches each, and full runs of the ``evaluated`` tenants one
    after another (as the beat's sweep starts them) until the clients and the ``with`` body are done."""
    traffic = Traffic()
    callers = _erp_callers(world)
    slug = world.tenant.slug
    done = threading.Event()

    def client(number: int) -> None:
        rng = random.Random(number)
        try:
            for push in range(pushes):
                rows, key = _batch(rng, number, push, pairs), str(uuid.uuid4())
                for _ in range(2 if push % RESENT_EVERY == 0 else 1):
                    response = push_rows(callers[number], slug, "movements", rows, key=key)
                    traffic.statuses[response.status_code] += 1
                    if response.status_code >= 500:
                        traffic.failures.append(f"{response.status_code} {response.content[:300]!r}")
                if response.status_code == 201:
                    traffic.accepted.append([row["external_ref"] for row in rows])
        finally:
            connection.close()

    def evaluate() -> None:
        try:
            while not done.is_set():
                for tenant in evaluated():
                    try:
                        run = evaluation_start(tenant=tenant, actor=SYSTEM_ACTOR)
                    except Conflict:
                        continue
                    traffic.runs.append(run.pk)
                    run_execute(run_id=run.pk)
        except Exception as exc:
            traffic.failures.append(f"evaluation: {exc!r}")
        finally:
            connection.close()

    started = time.monotonic()
    evaluator = threading.Thread(target=evaluate)
    clients = [threading.Thread(target=client, args=(number,)) for number in range(CLIENTS)]
    for thread in [evaluator, *clients]:
        thread.start()
    try:
        yield traffic
    finally:
        for thread in clients:
            thread.join(timeout=120)
        done.set()
        evaluator.join(timeout=60)
        traffic.seconds = time.monotonic() - started
    assert not any(thread.is_alive() for thread in [evaluator, *clients])
    worker_idle_wait(timeout=60)  # the incremental passes and responses the pushes caused


def _assert_whole(world, traffic: Traffic, pushes: int) -> None:
    assert not traffic.failures, traffic.failures
    assert set(traffic.statuses) == {201}, traffic.statuses
    assert len(traffic.accepted) == CLIENTS * pushes
    assert traffic.runs
    statuses = EvaluationRun.objects.filter(tenant=world.tenant).values_list("status", flat=True)
    assert set(statuses) == {EvaluationStatus.SUCCEEDED}  # the worker's incremental passes too
    # Every accepted push's lines, each exactly once (a resent push wrote nothing again).
    stored = Movement.objects.filter(tenant=world.tenant, external_ref__startswith="erp")
    assert Counter(stored.values_list("external_ref", flat=True)) == Counter(
        ref for batch in traffic.accepted for ref in batch
    )
    report = ledger_reconcile(tenant=world.tenant)
    assert report.clean, (report.position_differences[:5], report.fact_differences[:5])


def test_pushes_while_full_evaluations_run_never_answer_5xx_and_keep_the_ledger_whole(world, settings):
    settings.EVALUATION_CHUNK_POSITIONS = 80  # four chunks a run: four commits for a push to meet
    pairs = _catalogue(world)
    _history(world, pairs)

    with _traffic(world, pairs, PUSHES, lambda: [world.tenant]) as traffic:
        pass

    print(
        f"\n{sum(traffic.statuses.values())} pushes in {traffic.seconds:.1f} s ({dict(traffic.statuses)}), "
        f"{len(traffic.runs)} full runs, {len(traffic.failures)} failures"
    )
    _assert_whole(world, traffic, PUSHES)
    assert len(traffic.runs) >= 2


def test_a_demo_seed_of_another_tenant_finishes_while_pushes_and_evaluations_run(world):
    pairs = _catalogue(world)
    _history(world, pairs)
    pushes = PUSHES // 3

    def tenants() -> list[Tenant]:
        return list(Tenant.objects.filter(slug__in=[world.tenant.slug, "other"]).order_by("slug"))

    with _traffic(world, pairs, pushes, tenants) as traffic:
        output = StringIO()
        call_command("seed_demo", "--tenant", "other", stdout=output, verbosity=0)

    assert "Seeded tenant 'other'" in output.getvalue()
    other = Tenant.objects.get(slug="other")
    assert ledger_reconcile(tenant=other).clean
    assert EvaluationRun.objects.filter(tenant=other, status=EvaluationStatus.SUCCEEDED).exists()
    assert not EvaluationRun.objects.filter(tenant=other).exclude(status=EvaluationStatus.SUCCEEDED).exists()
    _assert_whole(world, traffic, pushes)
