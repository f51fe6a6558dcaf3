"""50 approvals and sales at once against one position, each on its own PostgreSQL connection.

W-N holds 100. 25 requests of 10 wait for approval and 25 POS pushes of 10 arrive at the same
moment: 500 units asked of 100. Whatever the interleaving, available never goes below zero, no
unit is reserved twice, and the ledger and the transfer lines account for every unit.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.db.models import Sum

from core.exceptions import Conflict
from core.inventory.ingestion import BatchRejected, movement_rows_parse, movements_ingest
from core.inventory.models import Movement, Position, signed_quantity_sql
from core.transfers.models import TransferLine, TransferRequest
from core.transfers.services import transfer_approve, transfer_request_create
from tenants.principals import Principal
from tests.support.ingest import ts

pytestmark = pytest.mark.usefixtures("transactional_db")
WORKERS = 50


def test_concurrent_approvals_and_sales_never_take_available_below_zero(network):
    world = network
    planner = Principal(tenant=world.tenant, user=world.planner.user, role="planner")
    requests = [
        transfer_request_create(
            principal=planner, tenant=world.tenant, sku="S", source="W-N", destination="W-S", quantity=10
        )
        for _ in range(WORKERS // 2)
    ]
    north = Position.objects.get(tenant=world.tenant, sku__code="S", warehouse__code="W-N")
    start = threading.Barrier(WORKERS + 1)
    outcomes: list[str] = []

    def approve(transfer: TransferRequest) -> None:
        start.wait()
        try:
            transfer_approve(transfer=transfer, actor=planner)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("approval refused")
        except Exception as exc:  # a lock gone wrong shows here (reserved above on hand: IntegrityError)
            outcomes.append(repr(exc))
        finally:
            connection.close()

    def sell(number: int) -> None:
        columns, errors = movement_rows_parse(
            [
                {
                    "kind": "sale",
                    "sku": "S",
                    "warehouse": "W-N",
                    "quantity": 10,
                    "occurred_at": ts(0, hour=0),
                    "external_ref": f"pos-{number}",
                }
            ]
        )
        assert not errors
        start.wait()
        try:
            movements_ingest(tenant=world.tenant, source="pos", columns=columns)
            outcomes.append("sold")
        except BatchRejected:
            outcomes.append("sale refused")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(t,)) for t in requests]
    threads += [threading.Thread(target=sell, args=(n,)) for n in range(WORKERS // 2)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    connections.close_all()

    approved, sold = outcomes.count("approved"), outcomes.count("sold")
    # Each one sold, was approved or was refused cleanly: none hit the database's own guard
    # (reserved <= on hand, on hand >= 0), which is what a missing lock would run into.
    assert len(outcomes) == WORKERS
    assert set(outcomes) <= {"approved", "approval refused", "sold", "sale refused"}, outcomes
    assert 10 * (approved + sold) == 100  # every unit went to exactly one of them, and all were taken
    north.refresh_from_db()
    assert (north.on_hand, north.reserved) == (100 - 10 * sold, 10 * approved)
    # The ledger adds up to on hand; the transfer lines to what is reserved.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sum({signed_quantity_sql()}) FROM inventory_movement WHERE position_id = %s",
            [north.pk],
        )
        assert cursor.fetchone()[0] == north.on_hand
    reserved_lines = TransferLine.objects.filter(position=north, kind__in=("reserved", "released"))
    assert reserved_lines.aggregate(total=Sum("quantity"))["total"] == north.reserved
    assert Movement.objects.filter(position=north, kind="sale").count() == sold
    assert TransferRequest.objects.filter(tenant=world.tenant, status="approved").count() == approved
