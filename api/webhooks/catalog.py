"""The webhook event catalog as OpenAPI 3.1 ``webhooks``: the envelope and each event's data.

Every delivery is a POST with the Standard Webhooks headers (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``); any 2xx answer counts as received.
"""

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from core.alerts.models import Grade, RuleCode


class AlertEventData(serializers.Serializer):
    alert_id = serializers.UUIDField()
    rule = serializers.ChoiceField(choices=RuleCode.choices)
    grade = serializers.ChoiceField(choices=Grade.choices)
    previous_grade = serializers.ChoiceField(choices=Grade.choices, allow_null=True, required=False)
    position_id = serializers.IntegerField()
    sku = serializers.CharField()
    warehouse = serializers.CharField()
    deviation = serializers.FloatField(allow_null=True, required=False)
    action = serializers.CharField(allow_null=True, required=False, help_text="The recommended response.")
    reason = serializers.CharField(required=False, help_text="alert.dismissed only.")
    by = serializers.CharField(help_text="`system`, or who acted (`user:...`).")


class EvaluationEventData(serializers.Serializer):
    run_id = serializers.UUIDField()
    trigger = serializers.CharField()
    positions = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())


class AnomalyEventData(serializers.Serializer):
    anomaly_id = serializers.UUIDField()
    reason = serializers.CharField()
    external_ref = serializers.CharField()
    order_ref = serializers.CharField()
    quantity = serializers.IntegerField()
    sku = serializers.CharField()
    warehouse = serializers.CharField()


class PingEventData(serializers.Serializer):
    endpoint_id = serializers.UUIDField()


def _webhook(event_type: str, data: type[serializers.Serializer], summary: str) -> OpenApiWebhook:
    envelope = type(
        f"{data.__name__.removesuffix('Data')}{event_type.split('.')[-1].title()}Envelope",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=[event_type]),
            "timestamp": serializers.DateTimeField(help_text="When the event happened."),
            "data": data(),
        },
    )
    return OpenApiWebhook(
        name=event_type,
        decorator=extend_schema(
            summary=summary,
            description="Signed as Standard Webhooks describes; the same event always has the same webhook-id.",
            request=envelope,
            responses={200: OpenApiResponse(description="Any 2xx: received. Anything else is retried.")},
        ),
    )


ALERT_OPENED = _webhook("alert.opened", AlertEventData, "An alert opened (or reopened: worse than when dismissed).")
ALERT_ESCALATED = _webhook("alert.escalated", AlertEventData, "An alert's grade got worse.")
ALERT_DEESCALATED = _webhook("alert.deescalated", AlertEventData, "An alert's grade got better, still tripped.")
ALERT_RESOLVED = _webhook("alert.resolved", AlertEventData, "The position recovered, or a person resolved the alert.")
ALERT_DISMISSED = _webhook("alert.dismissed", AlertEventData, "A person dismissed the alert, with a reason.")
EVALUATION_COMPLETED = _webhook("evaluation.completed", EvaluationEventData, "A full evaluation run finished.")
STOCK_ANOMALY_FLAGGED = _webhook("stock.anomaly_flagged", AnomalyEventData, "A pushed sale was flagged as suspicious.")
WEBHOOK_PING = _webhook("webhook.ping", PingEventData, "Sent by webhook-endpoints/{id}/test/.")
