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
    deviation = serializers.FloatField(
        allow_null=True, required=False, help_text="The tenant's own and its ERP's endpoints only."
    )
    action = serializers.CharField(allow_null=True, required=False, help_text="The recommended response.")
    reason = serializers.CharField(
        required=False, help_text="alert.dismissed, to the tenant's own and its ERP's endpoints only."
    )
    by = serializers.CharField(
        help_text="`system`, or who acted: `user:...` to the tenant's own endpoints, a role (`staff`) to partners'."
    )


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


class RfqEventData(serializers.Serializer):
    rfq_id = serializers.UUIDField()
    reference = serializers.CharField()
    sku = serializers.CharField()
    warehouse = serializers.CharField()
    quantity = serializers.IntegerField(help_text="rfq.invited: asked of this supplier (its minimum order applied).")
    needed_by = serializers.DateField()
    supplier_id = serializers.UUIDField(help_text="The supplier the event is about; only it and the tenant hear.")


class RfqInvitedData(RfqEventData):
    sku_name = serializers.CharField()
    region = serializers.CharField()
    respond_by = serializers.DateTimeField()
    round = serializers.IntegerField()


class RfqQuotedData(serializers.Serializer):
    rfq_id = serializers.UUIDField()
    reference = serializers.CharField()
    quote_id = serializers.UUIDField()
    supplier_id = serializers.UUIDField()
    revision = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4)
    landed_unit_cost = serializers.DecimalField(max_digits=14, decimal_places=4)
    quantity = serializers.IntegerField()
    lead_time_days = serializers.IntegerField()
    valid_until = serializers.DateField()


class RfqAwardedData(RfqEventData):
    quote_id = serializers.UUIDField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4)
    awarded_quantity = serializers.IntegerField()
    lead_time_days = serializers.IntegerField()
    purchase_order = serializers.CharField(help_text="Send receipts with this as order_ref.")
    expected_on = serializers.DateField()
    how = serializers.ChoiceField(choices=["automatic", "manual"])


class RfqClosedData(RfqEventData):
    reason = serializers.ChoiceField(choices=["awarded_elsewhere", "cancelled", "no_award"])


class RfqUnansweredData(serializers.Serializer):
    rfq_id = serializers.UUIDField()
    reference = serializers.CharField()
    sku = serializers.CharField()
    warehouse = serializers.CharField()
    quantity = serializers.IntegerField()
    needed_by = serializers.DateField()
    rounds = serializers.IntegerField()
    reason = serializers.CharField()


class RecommendationEventData(serializers.Serializer):
    recommendation_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["markdown", "clearance", "transfer"])
    alert_id = serializers.UUIDField()
    sku = serializers.CharField()
    warehouse = serializers.CharField()
    summary = serializers.CharField()


class TransferEventData(serializers.Serializer):
    transfer_id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.CharField()
    sku = serializers.CharField()
    source = serializers.CharField()
    destination = serializers.CharField(allow_null=True)
    destination_location = serializers.CharField(allow_null=True)
    quantity = serializers.IntegerField()
    approval = serializers.CharField(required=False, help_text="transfer.approved: person, policy or plan.")
    note = serializers.CharField(required=False)


class PlanEventData(serializers.Serializer):
    plan_id = serializers.UUIDField()
    moves = serializers.IntegerField()
    units = serializers.IntegerField()
    transport_cost = serializers.DecimalField(max_digits=16, decimal_places=4)
    units_short = serializers.IntegerField()


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
            responses={
                200: OpenApiResponse(description="Any 2xx: received."),
                "default": OpenApiResponse(description="Any other answer, or none in time: retried with backoff."),
            },
        ),
    )


ALERT_OPENED = _webhook("alert.opened", AlertEventData, "An alert opened (or reopened: worse than when dismissed).")
ALERT_ESCALATED = _webhook("alert.escalated", AlertEventData, "An alert's grade got worse.")
ALERT_DEESCALATED = _webhook("alert.deescalated", AlertEventData, "An alert's grade got better, still tripped.")
ALERT_RESOLVED = _webhook("alert.resolved", AlertEventData, "The position recovered, or a person resolved the alert.")
ALERT_DISMISSED = _webhook("alert.dismissed", AlertEventData, "A person dismissed the alert, with a reason.")
EVALUATION_COMPLETED = _webhook(
    "evaluation.completed", EvaluationEventData, "A full evaluation run finished (tenant and ERP only)."
)
STOCK_ANOMALY_FLAGGED = _webhook(
    "stock.anomaly_flagged", AnomalyEventData, "A pushed sale was flagged as suspicious (tenant and ERP only)."
)
RFQ_INVITED = _webhook("rfq.invited", RfqInvitedData, "A supplier is asked to quote (to that supplier only).")
RFQ_QUOTED = _webhook("rfq.quoted", RfqQuotedData, "A supplier quoted or revised its quote (tenant only).")
RFQ_AWARDED = _webhook("rfq.awarded", RfqAwardedData, "The RFQ went to this supplier: a purchase order.")
RFQ_CLOSED = _webhook("rfq.closed", RfqClosedData, "The RFQ closed for this supplier without its award.")
RFQ_UNANSWERED = _webhook("rfq.unanswered", RfqUnansweredData, "No usable quote after the rounds (tenant only).")
RECOMMENDATION_PROPOSED = _webhook(
    "recommendation.proposed", RecommendationEventData, "A markdown, clearance or transfer awaits a planner."
)
TRANSFER_REQUESTED = _webhook("transfer.requested", TransferEventData, "A transfer was requested.")
TRANSFER_APPROVED = _webhook("transfer.approved", TransferEventData, "Approved: reserved at the source.")
TRANSFER_REJECTED = _webhook("transfer.rejected", TransferEventData, "A transfer request was rejected.")
TRANSFER_SHIPPED = _webhook("transfer.shipped", TransferEventData, "The transfer left the source: in transit.")
TRANSFER_RECEIVED = _webhook("transfer.received", TransferEventData, "The transfer landed at its destination.")
TRANSFER_CANCELLED = _webhook("transfer.cancelled", TransferEventData, "Cancelled; a reservation is released.")
TRANSFER_PLAN_COMPLETED = _webhook("transfer_plan.completed", PlanEventData, "A transfer plan is ready (tenant only).")
WEBHOOK_PING = _webhook("webhook.ping", PingEventData, "Sent by webhook-endpoints/{id}/test/.")
