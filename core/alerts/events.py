"""The event types the alerts app emits: an alert's lifecycle and a finished evaluation run."""

from core.alerts.models import DismissReason, Grade, RuleCode
from core.webhooks.events import (
    INTEGER,
    NUMBER,
    STRING,
    UUID,
    Audience,
    EventType,
    choice,
    described,
    event_type_declare,
    nullable,
    payload,
)

# One payload for every alert event: the engine writes them all in one statement.
ALERT_PAYLOAD = payload(
    {
        "alert_id": UUID,
        "rule": choice(RuleCode.choices),
        "grade": choice(Grade.choices),
        "previous_grade": nullable(choice(Grade.choices)),
        "position_id": INTEGER,
        "sku": STRING,
        "warehouse": STRING,
        "deviation": described(nullable(NUMBER), "The tenant's own and its ERP's endpoints only."),
        "action": described(nullable(STRING), "The recommended response."),
        "reason": described(
            choice(DismissReason.choices), "alert.dismissed, to the tenant's own and its ERP's endpoints only."
        ),
        "note": described(STRING, "alert.dismissed: the dismissal's note, to the same endpoints as reason."),
        "by": described(
            STRING, "`system`, or who acted: `user:...` to the tenant's own endpoints, a role (`staff`) to partners'."
        ),
    },
    optional=("previous_grade", "deviation", "action", "reason", "note"),
)
_ALERT_EXAMPLE = {
    "alert_id": "0b6f4a52-3a55-4f0e-8f59-1f0c0f3b8a10",
    "rule": "stock_out_risk",
    "grade": "orange",
    "previous_grade": "yellow",
    "position_id": 42,
    "sku": "TEA",
    "warehouse": "W1",
    "deviation": 0.35,
    "action": "replenishment_order",
    "by": "system",
}


def _alert(name: str, description: str) -> EventType:
    return event_type_declare(
        name,
        description=description,
        audience=Audience.GRANTED,
        schema=ALERT_PAYLOAD,
        schema_name="AlertEventData",
        example=_ALERT_EXAMPLE,
    )


ALERT_OPENED = _alert("alert.opened", "An alert opened (or reopened: worse than when dismissed).")
ALERT_ESCALATED = _alert("alert.escalated", "An alert's grade got worse.")
ALERT_DEESCALATED = _alert("alert.deescalated", "An alert's grade got better, still tripped.")
ALERT_RESOLVED = _alert("alert.resolved", "The position recovered, or a person resolved the alert.")
ALERT_DISMISSED = _alert("alert.dismissed", "A person dismissed the alert, with a reason.")

EVALUATION_COMPLETED = event_type_declare(
    "evaluation.completed",
    description="A full evaluation run finished (tenant and ERP only).",
    audience=Audience.TENANT,
    schema=payload(
        {
            "run_id": UUID,
            "trigger": STRING,
            "positions": INTEGER,
            "counts": {"type": "object", "additionalProperties": INTEGER},
        }
    ),
    schema_name="EvaluationEventData",
    example={
        "run_id": "5e0c4c0e-96a7-4b8e-a0a6-2b3e5b1f9c21",
        "trigger": "scheduled",
        "positions": 5000,
        "counts": {"opened": 12, "escalated": 3, "resolved": 7},
    },
)
