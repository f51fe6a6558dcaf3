"""A transaction PostgreSQL aborts for a deadlock runs again, and only its last attempt counts.

The deadlocks here are real: two connections lock two rows in opposite order, or a transaction
locks a position a push holds while the push waits for one it holds. PostgreSQL aborts the one
whose deadlock check runs first (the one that waited first).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, transaction

from core.exceptions import Contended
from core.inventory import master_services
from core.inventory.ingestion import positions_lock
from core.inventory.models import IdempotencyRecord, Movement, Position, Warehouse
from core.retries import atomic_retried
from tenants.models import AuditEvent
from tests.support.deadlock import deadlock_victim
from tests.support.ingest import push_rows, ts

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def retries_logged(caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("tripline.db"), "propagate", True)  # into caplog's handler
    caplog.set_level(logging.WARNING, logger="tripline.db")
    return caplog


def _two_warehouses(world) -> list[Warehouse]:
    second = master_services.warehouse_create(
        tenant=world.tenant, code="WH-2", name="Second", region="north", kind="store"
    )
    return [world.warehouse, second]


def _opposite_orders(world, warehouses: list[Warehouse]) -> tuple[Counter, list, list]:
    """Two threads, each one retried transaction: lock one warehouse, meet, lock the other, then
    write an audit row and ask for a callback after commit. Answers (attempts by thread, the
    callbacks run, what each thread ended with)."""
    attempts: Counter = Counter()
    callbacks: list[str] = []
    outcomes: list = []
    meet = threading.Barrier(2, timeout=10)

    def worker(name: str, order: list[Warehouse]) -> None:
        @atomic_retried
        def lock_both() -> None:
            attempts[name] += 1
            Warehouse.objects.select_for_update().get(pk=order[0].pk)
            if attempts[name] == 1:
                meet.wait()  # both hold their first row: each second lock closes the cycle
            Warehouse.objects.select_for_update().get(pk=order[1].pk)
            AuditEvent.objects.create(
                tenant=world.tenant, actor=name, action="test.locked", target_type="warehouse", target_id="-"
            )
            transaction.on_commit(lambda: callbacks.append(name))

        try:
            lock_both()
            outcomes.append((name, "done"))
        except Exception as exc:
            outcomes.append((name, exc))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=("forward", warehouses)),
        threading.Thread(target=worker, args=("backward", warehouses[::-1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return attempts, callbacks, outcomes


def test_a_deadlock_victim_runs_again_and_both_transactions_commit_once(world, retries_logged):
    attempts, callbacks, outcomes = _opposite_orders(world, _two_warehouses(world))

    assert sorted(outcomes) == [("backward", "done"), ("forward", "done")]
    assert sorted(attempts.values()) == [1, 2]  # the victim ran a second time
    victim = next(name for name, count in attempts.items() if count == 2)
    # Its first attempt's audit row and after-commit callback went with the rollback.
    assert sorted(callbacks) == ["backward", "forward"]
    assert Counter(AuditEvent.objects.filter(action="test.locked").values_list("actor", flat=True)) == {
        "forward": 1,
        "backward": 1,
    }
    retried = [r.getMessage() for r in retries_logged.records if r.name == "tripline.db"]
    assert len(retried) == 1
    assert "lock_both: deadlock on attempt 1 of 5; running it again in" in retried[0], (victim, retried)


def test_when_every_attempt_deadlocks_the_caller_gets_contended_and_nothing_is_written(world, settings, retries_logged):
    settings.DB_RETRY_ATTEMPTS = 1
    _, callbacks, outcomes = _opposite_orders(world, _two_warehouses(world))

    results = dict(outcomes)
    victim = next(name for name, result in results.items() if result != "done")
    assert isinstance(results[victim], Contended)
    assert str(results[victim]) == "deadlock on each of 1 attempts"
    assert callbacks == [name for name in results if name != victim]
    assert not AuditEvent.objects.filter(action="test.locked", actor=victim).exists()
    assert "giving up" in retries_logged.records[-1].getMessage()


def test_inside_an_open_transaction_the_outermost_one_is_left_to_retry(world):
    calls = []

    @atomic_retried
    def inner() -> None:
        calls.append(connection.in_atomic_block)
        raise_deadlock()

    with pytest.raises(Exception, match="deadlock detected"), transaction.atomic():
        inner()
    assert calls == [True]  # not run again inside the transaction: its caller's retry would


def raise_deadlock() -> None:
    """A real 40P01 from the server, without a second connection."""
    with connection.cursor() as cursor:
        cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$")


# --- a push picked as the deadlock's victim, over HTTP ----------------------------------------------


def _stocked(world) -> list[Position]:
    warehouses = _two_warehouses(world)
    rows = [
        {
            "kind": "receipt",
            "sku": world.sku.code,
            "warehouse": warehouse.code,
            "quantity": 50,
            "occurred_at": ts(2),
            "external_ref": f"stock-{warehouse.code}",
        }
        for warehouse in warehouses
    ]
    assert push_rows(world.admin, world.tenant.slug, "movements", rows).status_code == 201
    return list(Position.objects.filter(tenant=world.tenant).order_by("id"))


def _sale_of_each(world, positions: list[Position]) -> list[dict]:
    return [
        {
            "kind": "sale",
            "sku": world.sku.code,
            "warehouse": position.warehouse.code,
            "quantity": 1,
            "occurred_at": ts(0),
            "external_ref": f"sale-{position.warehouse.code}",
        }
        for position in positions
    ]


def _push_into_a_deadlock(world, positions: list[Position], key: str):
    """Push a sale of both positions while another writer holds the second and, once the push waits
    for it, takes the first (which the push holds): PostgreSQL aborts the push's transaction."""
    first, second = positions[0], positions[-1]
    with deadlock_victim(
        hold=lambda cursor: positions_lock(cursor, world.tenant, [second.sku_id], [second.warehouse_id]),
        close=lambda cursor: positions_lock(cursor, world.tenant, [first.sku_id], [first.warehouse_id]),
    ) as held:
        assert held.wait(timeout=10)
        return push_rows(world.erp, world.tenant.slug, "movements", _sale_of_each(world, positions), key=key)


def test_a_push_picked_as_a_deadlock_victim_is_run_again_and_answers_201(world, retries_logged):
    positions = _stocked(world)

    response = _push_into_a_deadlock(world, positions, key=str(uuid.uuid4()))

    assert response.status_code == 201, response.json()
    assert response.json()["rows"] == 2
    assert Movement.objects.filter(tenant=world.tenant, external_ref__startswith="sale-").count() == 2
    after = Position.objects.filter(pk__in=[p.pk for p in positions]).order_by("id")
    assert [p.on_hand for p in after] == [p.on_hand - 1 for p in positions]
    assert any("movements_ingest: deadlock on attempt 1" in r.getMessage() for r in retries_logged.records)


def test_a_push_whose_every_attempt_deadlocks_answers_503_with_retry_after_and_can_be_sent_again(world, settings):
    settings.DB_RETRY_ATTEMPTS = 1
    positions = _stocked(world)
    key = str(uuid.uuid4())

    response = _push_into_a_deadlock(world, positions, key=key)

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    body = response.json()
    assert set(body) == {"error"}
    assert (body["error"]["code"], body["error"]["fields"]) == ("contended", {})
    assert "nothing was written" in body["error"]["message"]
    assert not Movement.objects.filter(tenant=world.tenant, external_ref__startswith="sale-").exists()
    assert not IdempotencyRecord.objects.filter(key=key).exists()  # released: the same push may come again
    again = push_rows(world.erp, world.tenant.slug, "movements", _sale_of_each(world, positions), key=key)
    assert again.status_code == 201
