"""The event types the procurement app emits: an RFQ's course."""

from core.webhooks.events import (
    DATE,
    DATETIME,
    INTEGER,
    STRING,
    UUID,
    Audience,
    choice,
    decimal,
    described,
    event_type_declare,
    payload,
)

_RFQ = {
    "rfq_id": UUID,
    "reference": STRING,
    "sku": STRING,
    "warehouse": STRING,
    "quantity": described(INTEGER, "rfq.invited: asked of this supplier (its minimum order applied)."),
    "needed_by": DATE,
    "supplier_id": described(UUID, "The supplier the event is about; only it and the tenant hear."),
}
_RFQ_EXAMPLE = {
    "rfq_id": "3f9a0e5c-6a1b-4c7d-8e2f-9a0b1c2d3e4f",
    "reference": "RFQ-3F9A0E5C",
    "sku": "TEA",
    "warehouse": "W1",
    "quantity": 500,
    "needed_by": "2026-12-20",
    "supplier_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
}

RFQ_INVITED = event_type_declare(
    "rfq.invited",
    description="A supplier is asked to quote (to that supplier only).",
    audience=Audience.ADDRESSED,
    schema=payload(
        {**_RFQ, "sku_name": STRING, "region": STRING, "respond_by": DATETIME, "round": INTEGER},
    ),
    schema_name="RfqInvitedData",
    example={
        **_RFQ_EXAMPLE,
        "sku_name": "Green tea",
        "region": "north",
        "respond_by": "2026-12-08T12:00:00Z",
        "round": 1,
    },
)
RFQ_QUOTED = event_type_declare(
    "rfq.quoted",
    description="A supplier quoted or revised its quote (tenant only).",
    audience=Audience.TENANT,
    schema=payload(
        {
            "rfq_id": UUID,
            "reference": STRING,
            "quote_id": UUID,
            "supplier_id": UUID,
            "revision": INTEGER,
            "unit_price": decimal(12, 4),
            "landed_unit_cost": decimal(14, 4),
            "quantity": INTEGER,
            "lead_time_days": INTEGER,
            "valid_until": DATE,
        }
    ),
    schema_name="RfqQuotedData",
    example={
        "rfq_id": _RFQ_EXAMPLE["rfq_id"],
        "reference": _RFQ_EXAMPLE["reference"],
        "quote_id": "b7c8d9e0-f1a2-4b3c-9d4e-5f6a7b8c9d0e",
        "supplier_id": _RFQ_EXAMPLE["supplier_id"],
        "revision": 1,
        "unit_price": "2.5000",
        "landed_unit_cost": "2.7500",
        "quantity": 500,
        "lead_time_days": 5,
        "valid_until": "2026-12-15",
    },
)
RFQ_AWARDED = event_type_declare(
    "rfq.awarded",
    description="The RFQ went to this supplier: a purchase order.",
    audience=Audience.ADDRESSED,
    schema=payload(
        {
            **_RFQ,
            "quote_id": UUID,
            "unit_price": decimal(12, 4),
            "awarded_quantity": INTEGER,
            "lead_time_days": INTEGER,
            "purchase_order": described(STRING, "Send receipts with this as order_ref."),
            "expected_on": DATE,
            "how": choice(["automatic", "manual"]),
        }
    ),
    schema_name="RfqAwardedData",
    example={
        **_RFQ_EXAMPLE,
        "quote_id": "b7c8d9e0-f1a2-4b3c-9d4e-5f6a7b8c9d0e",
        "unit_price": "2.5000",
        "awarded_quantity": 500,
        "lead_time_days": 5,
        "purchase_order": "PO-3F9A0E5C",
        "expected_on": "2026-12-13",
        "how": "automatic",
    },
)
RFQ_CLOSED = event_type_declare(
    "rfq.closed",
    description="The RFQ closed for this supplier without its award.",
    audience=Audience.ADDRESSED,
    schema=payload({**_RFQ, "reason": choice(["awarded_elsewhere", "cancelled", "no_award"])}),
    schema_name="RfqClosedData",
    example={**_RFQ_EXAMPLE, "reason": "awarded_elsewhere"},
)
RFQ_UNANSWERED = event_type_declare(
    "rfq.unanswered",
    description="No usable quote after the rounds (tenant only).",
    audience=Audience.TENANT,
    schema=payload(
        {
            "rfq_id": UUID,
            "reference": STRING,
            "sku": STRING,
            "warehouse": STRING,
            "quantity": INTEGER,
            "needed_by": DATE,
            "rounds": INTEGER,
            "reason": STRING,
        }
    ),
    schema_name="RfqUnansweredData",
    example={
        **{key: value for key, value in _RFQ_EXAMPLE.items() if key != "supplier_id"},
        "rounds": 2,
        "reason": "None of the 3 invited supplier(s) quoted in 2 round(s).",
    },
)
