"""The responses alerts call for, carried out after the engine commits them.

The relay hands alert events (opened, escalated, de-escalated, resolved) to a worker task; the
task opens the RFQ of a stock-out alert at its RFQ grade and keeps the playbook records of the
others in line. A sweep on the beat does the same for anything a lost message missed and settles
RFQs whose deadline passed, so a response is at most one sweep late (README, Procurement).
"""

from __future__ import annotations

import logging

from core.alerts.models import Alert, RuleCode
from core.procurement.awards import rfq_settle, rfqs_overdue
from core.procurement.recommendations import recommendations_due, recommendations_sync
from core.procurement.rfqs import rfq_open_for_alert, rfqs_due_alerts
from core.webhooks.models import OutboxEvent

logger = logging.getLogger("tripline.procurement")


def alerts_of_events(*, event_ids: list[int]) -> list[str]:
    return [
        alert_id
        for alert_id in OutboxEvent.objects.filter(pk__in=event_ids).values_list("data__alert_id", flat=True)
        if alert_id
    ]


def alerts_respond(*, alert_ids: list) -> dict[str, int]:
    """Open the RFQs and sync the playbook records these alerts call for; safe to repeat."""
    stock_out = set(Alert.objects.filter(pk__in=alert_ids, rule=RuleCode.STOCK_OUT_RISK).values_list("pk", flat=True))
    opened = 0
    for alert_id in sorted(stock_out, key=str):
        # One transaction per RFQ: one supplier's bad offer row does not hold up the others.
        if rfq_open_for_alert(alert_id=alert_id) is not None:
            opened += 1
    others = [alert_id for alert_id in alert_ids if alert_id not in stock_out]
    proposed = 0
    for tenant_batch in _by_tenant(others):
        proposed += recommendations_sync(alert_ids=tenant_batch)
    return {"rfqs": opened, "recommendations": proposed}


def _by_tenant(alert_ids: list) -> list[list]:
    batches: dict[object, list] = {}
    for alert_id, tenant_id in Alert.objects.filter(pk__in=alert_ids).values_list("pk", "tenant_id"):
        batches.setdefault(tenant_id, []).append(alert_id)
    return list(batches.values())


def responses_sweep() -> dict[str, int]:
    """What the event path missed: RFQs due, playbook records missing or stale, RFQs overdue."""
    counts = alerts_respond(alert_ids=[*rfqs_due_alerts(), *recommendations_due()])
    settled = 0
    for rfq_id in rfqs_overdue():
        try:
            outcome = rfq_settle(rfq_id=rfq_id)
        except Exception:  # one broken RFQ must not stop the sweep for the others
            logger.exception("Settling RFQ %s failed", rfq_id)
            continue
        settled += outcome not in ("waiting", "nothing to do")
    return {**counts, "settled": settled}
