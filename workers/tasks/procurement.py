"""Procurement tasks: respond to alert events, settle one RFQ, and the sweep behind both."""

from celery import shared_task

from core.playbooks import consumer
from core.procurement import awards


@shared_task(name="tripline.procurement.respond", acks_late=True, time_limit=300, soft_time_limit=270)
def procurement_respond(event_ids: list[int]) -> dict:
    """RFQs and playbook records for the alerts of these outbox events; idempotent."""
    return consumer.alerts_respond(alert_ids=consumer.alerts_of_events(event_ids=event_ids))


@shared_task(name="tripline.procurement.settle", acks_late=True, time_limit=120, soft_time_limit=100)
def procurement_settle(rfq_id: str) -> str:
    return awards.rfq_settle(rfq_id=rfq_id)


@shared_task(name="tripline.procurement.sweep", time_limit=300, soft_time_limit=270)
def procurement_sweep() -> dict:
    return consumer.responses_sweep()
