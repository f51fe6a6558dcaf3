"""The event registry's payload contract: what it accepts, what it refuses, and that the suite-wide
check (tests/support/event_contract.py) catches a drifted event however it was written."""

from __future__ import annotations

import pytest
from django.core import checks
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from core.alerts.events import ALERT_OPENED, EVALUATION_COMPLETED
from core.procurement.events import RFQ_QUOTED
from core.webhooks.events import EVENT_TYPES, events_reference_markdown, payload_violations
from core.webhooks.outbox import Event, outbox_emit, outbox_insert_select
from tenants.models import PartnerKind

GOOD_RUN = {"run_id": "5e0c4c0e-96a7-4b8e-a0a6-2b3e5b1f9c21", "trigger": "manual", "positions": 3, "counts": {}}


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_declared_example_matches_its_schema(name: str) -> None:
    event_type = EVENT_TYPES[name]
    assert event_type.example is not None, "an event type documents its payload with an example"
    assert payload_violations(name, event_type.example, {}) == []


def test_a_good_payload_passes() -> None:
    assert payload_violations(EVALUATION_COMPLETED.name, GOOD_RUN, {PartnerKind.ERP: GOOD_RUN}) == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({**GOOD_RUN, "positions": "3"}, "data $.positions: '3' is not of type 'integer'"),
        ({**GOOD_RUN, "run_id": "run-1"}, "data $.run_id: 'run-1' is not a 'uuid'"),
        ({**GOOD_RUN, "counts": {"opened": 1.5}}, "data $.counts.opened: 1.5 is not of type 'integer'"),
        ({k: v for k, v in GOOD_RUN.items() if k != "trigger"}, "data $: 'trigger' is a required property"),
        ({**GOOD_RUN, "extra": 1}, "data $: Additional properties are not allowed ('extra' was unexpected)"),
    ],
)
def test_a_drifted_payload_is_named_by_its_path(data: dict, problem: str) -> None:
    assert payload_violations(EVALUATION_COMPLETED.name, data, {}) == [problem]


def test_a_partner_payload_may_leave_keys_out_but_not_change_them() -> None:
    narrowed = {"alert_id": ALERT_OPENED.example["alert_id"], "grade": "red", "by": "staff"}
    assert payload_violations(ALERT_OPENED.name, ALERT_OPENED.example, {PartnerKind.SUPPLIER: narrowed}) == []
    drifted = {**narrowed, "grade": "purple"}
    assert payload_violations(ALERT_OPENED.name, ALERT_OPENED.example, {PartnerKind.SUPPLIER: drifted}) == [
        f"partner_payloads[{PartnerKind.SUPPLIER}] $.grade: 'purple' is not one of ['yellow', 'orange', 'red']"
    ]


def test_an_undeclared_type_is_a_violation() -> None:
    assert payload_violations("alert.exploded", {}, {}) == ["type 'alert.exploded' is not in the event registry"]


def test_a_consumer_of_an_undeclared_type_fails_the_system_check() -> None:
    with override_settings(OUTBOX_CONSUMERS={"tripline.x": [ALERT_OPENED.name, "alert.exploded"]}):
        assert [error.id for error in checks.run_checks()] == ["webhooks.E001"]
    assert checks.run_checks() == []


def test_the_reference_lists_every_type_and_its_fields() -> None:
    reference = events_reference_markdown()
    for name, event_type in EVENT_TYPES.items():
        assert f"### `{name}`" in reference
        assert all(f"| `{key}` |" in reference for key in event_type.schema["properties"])


@pytest.mark.django_db
def test_the_outbox_refuses_an_undeclared_type_or_a_wider_audience(world) -> None:
    with pytest.raises(ValueError, match="Not in the event registry"):
        outbox_emit([Event(tenant_id=world.tenant.pk, type="alert.exploded", data={})])
    with pytest.raises(ValueError, match="tenant and its ERP only"):
        outbox_emit(
            [
                Event(
                    tenant_id=world.tenant.pk,
                    type=RFQ_QUOTED.name,
                    data=RFQ_QUOTED.example,
                    partner_payloads={PartnerKind.SUPPLIER: RFQ_QUOTED.example},
                )
            ]
        )


@pytest.mark.django_db
def test_the_set_based_insert_refuses_a_type_it_was_not_given(world) -> None:
    select = """
        SELECT %(tenant)s::uuid, 'alert.exploded', '{}'::jsonb, '{}'::jsonb, NULL::uuid, NULL::uuid, NULL::uuid,
               false, now()
    """
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        outbox_insert_select(cursor, select=select, params={"tenant": world.tenant.pk}, types=[ALERT_OPENED])


@pytest.mark.django_db
@pytest.mark.outbox_drift_expected
def test_the_contract_catches_a_drifted_payload_written_by_the_outbox(world) -> None:
    outbox_emit([Event(tenant_id=world.tenant.pk, type=EVALUATION_COMPLETED.name, data={**GOOD_RUN, "positions": "3"})])


@pytest.mark.django_db
@pytest.mark.outbox_drift_expected
def test_the_contract_catches_a_drifted_payload_written_set_based(world) -> None:
    select = """
        SELECT %(tenant)s::uuid, 'evaluation.completed', jsonb_build_object('run_id', 'run-1'), '{}'::jsonb,
               NULL::uuid, NULL::uuid, NULL::uuid, false, now()
    """
    with connection.cursor() as cursor:
        written = outbox_insert_select(
            cursor, select=select, params={"tenant": world.tenant.pk}, types=[EVALUATION_COMPLETED]
        )
    assert written == 1
