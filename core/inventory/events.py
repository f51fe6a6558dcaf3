"""The event types the inventory app emits."""

from core.webhooks.events import INTEGER, STRING, UUID, Audience, event_type_declare, payload

STOCK_ANOMALY_FLAGGED = event_type_declare(
    "stock.anomaly_flagged",
    description="A pushed sale was flagged as suspicious (tenant and ERP only).",
    audience=Audience.TENANT,
    schema=payload(
        {
            "anomaly_id": UUID,
            "reason": STRING,
            "external_ref": STRING,
            "order_ref": STRING,
            "quantity": INTEGER,
            "sku": STRING,
            "warehouse": STRING,
        }
    ),
    schema_name="AnomalyEventData",
    example={
        "anomaly_id": "c8b1d5b4-1f7e-4d1c-9f5e-0e2b8f3a4d55",
        "reason": "far above the usual daily sales",
        "external_ref": "pos-2026-0001",
        "order_ref": "",
        "quantity": 400,
        "sku": "TEA",
        "warehouse": "W1",
    },
)
