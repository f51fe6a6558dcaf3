"""The event types the transfers app emits: a transfer request's steps, and a finished plan."""

from core.webhooks.events import (
    INTEGER,
    STRING,
    UUID,
    Audience,
    EventType,
    decimal,
    described,
    event_type_declare,
    nullable,
    payload,
)

TRANSFER_PAYLOAD = payload(
    {
        "transfer_id": UUID,
        "reference": STRING,
        "status": STRING,
        "sku": STRING,
        "source": STRING,
        "destination": nullable(STRING),
        "destination_location": nullable(STRING),
        "quantity": INTEGER,
        "approval": described(STRING, "transfer.approved: person, policy or plan."),
        "note": STRING,
    },
    optional=("approval", "note"),
)
_TRANSFER_EXAMPLE = {
    "transfer_id": "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b",
    "reference": "TR-E1F2A3B4",
    "status": "approved",
    "sku": "TEA",
    "source": "W1",
    "destination": "W2",
    "destination_location": None,
    "quantity": 40,
    "approval": "person",
}


def _transfer(name: str, description: str) -> EventType:
    return event_type_declare(
        name,
        description=description,
        audience=Audience.ADDRESSED,
        schema=TRANSFER_PAYLOAD,
        schema_name="TransferEventData",
        example=_TRANSFER_EXAMPLE,
    )


TRANSFER_REQUESTED = _transfer("transfer.requested", "A transfer was requested.")
TRANSFER_APPROVED = _transfer("transfer.approved", "Approved: reserved at the source.")
TRANSFER_REJECTED = _transfer("transfer.rejected", "A transfer request was rejected.")
TRANSFER_SHIPPED = _transfer("transfer.shipped", "The transfer left the source: in transit.")
TRANSFER_RECEIVED = _transfer("transfer.received", "The transfer landed at its destination.")
TRANSFER_CANCELLED = _transfer("transfer.cancelled", "Cancelled; a reservation is released.")

TRANSFER_PLAN_COMPLETED = event_type_declare(
    "transfer_plan.completed",
    description="A transfer plan is ready (tenant only).",
    audience=Audience.TENANT,
    schema=payload(
        {
            "plan_id": UUID,
            "moves": INTEGER,
            "units": INTEGER,
            "transport_cost": decimal(16, 4),
            "units_short": INTEGER,
        }
    ),
    schema_name="PlanEventData",
    example={
        "plan_id": "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f",
        "moves": 3,
        "units": 120,
        "transport_cost": "84.5000",
        "units_short": 0,
    },
)
