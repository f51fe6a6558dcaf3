"""The event types the playbooks app emits."""

from core.webhooks.events import STRING, UUID, Audience, choice, event_type_declare, payload

RECOMMENDATION_PROPOSED = event_type_declare(
    "recommendation.proposed",
    description="A markdown, clearance or transfer awaits a planner.",
    audience=Audience.TENANT,
    schema=payload(
        {
            "recommendation_id": UUID,
            "kind": choice(["markdown", "clearance", "transfer"]),
            "alert_id": UUID,
            "sku": STRING,
            "warehouse": STRING,
            "summary": STRING,
        }
    ),
    schema_name="RecommendationEventData",
    example={
        "recommendation_id": "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70",
        "kind": "markdown",
        "alert_id": "0b6f4a52-3a55-4f0e-8f59-1f0c0f3b8a10",
        "sku": "TEA",
        "warehouse": "W1",
        "summary": "Mark down 20 % for 14 days.",
    },
)
