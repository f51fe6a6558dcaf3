"""The responses alerts call for, carried out after the engine commits them.

The relay hands alert events (opened, escalated, de-escalated, resolved) to a worker task; the
task opens the RFQ of an alert of the stock-out direction (stock-out risk, promotion shortfall) at
its RFQ grade and keeps the playbook records of the others in line. A sweep on the beat does the
same for anything a lost message missed and settles RFQs whose deadline passed, so a response is
at most one sweep late (docs/procurement.md).
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from core.alerts.catalog import STOCK_OUT
from core.alerts.models import Alert
from core.playbooks.records import recommendations_due, recommendations_sync
from core.procurement.awards import rfq_settle, rfqs_close_for_quiet_alerts, rfqs_overdue
from core.procurement.rfqs import invitation_emails_retry, rfq_open_for_alert, rfqs_due_alerts
from core.webhooks.models import OutboxEvent

logger = logging.getLogger("tripline.procurement")
SWEEP_LOCK, SWEEP_LOCK_SECONDS = "procurement:sweep", 270  # the sweep task's soft time limit


def alerts_of_events(*, event_ids: list[int]) -> list[str]:
    return [
        alert_id
        for alert_id in OutboxEvent.objects.filter(pk__in=event_ids).values_list("data__alert_id", flat=True)
        if alert_id
    ]


def alerts_respond(*, alert_ids: list) -> dict[str, int]:
    """Open the RFQs and sync the playbook records these alerts call for; close the open RFQs of
    stock-out alerts gone quiet. Safe to repeat; one alert's failure does not stop the others."""
    stock_out = dict(Alert.objects.filter(pk__in=alert_ids, direction=STOCK_OUT).values_list("pk", "active"))
    opened, books = 0, {}
    for alert_id in sorted(stock_out, key=str):
        try:
            if stock_out[alert_id] and rfq_open_for_alert(alert_id=alert_id, books=books) is not None:
                opened += 1
        except Exception:
            logger.exception("Opening the RFQ of alert %s failed", alert_id)
    try:
        rfqs_close_for_quiet_alerts(alert_ids=list(stock_out))
    except Exception:
        logger.exception("Closing the RFQs of quiet alerts failed")
    others = [alert_id for alert_id in alert_ids if alert_id not in stock_out]
    proposed = 0
    for tenant_batch in _by_tenant(others):
        try:
            proposed += recommendations_sync(alert_ids=tenant_batch)
        except Exception:
            logger.exception("Syncing the playbook records of %d alerts failed", len(tenant_batch))
    return {"rfqs": opened, "recommendations": proposed}


def _by_tenant(alert_ids: list) -> list[list]:
    batches: dict[object, list] = {}
    for alert_id, tenant_id in Alert.objects.filter(pk__in=alert_ids).values_list("pk", "tenant_id"):
        batches.setdefault(tenant_id, []).append(alert_id)
    return list(batches.values())


def responses_sweep() -> dict[str, int]:
    """What the event path missed: RFQs overdue, RFQs due, playbook records missing or stale,
    invitation mail that failed. One sweep at a time: a slow one is not overtaken by the next."""
    if not cache.add(SWEEP_LOCK, "1", timeout=SWEEP_LOCK_SECONDS):
        return {"rfqs": 0, "recommendations": 0, "settled": 0, "skipped": 1}
    try:
        settled = 0
        for rfq_id in rfqs_overdue():
            try:
                outcome = rfq_settle(rfq_id=rfq_id)
            except Exception:  # one broken RFQ must not stop the sweep for the others
                logger.exception("Settling RFQ %s failed", rfq_id)
                continue
            settled += outcome not in ("waiting", "nothing to do")
        counts = alerts_respond(alert_ids=[*rfqs_due_alerts(), *recommendations_due()])
        invitation_emails_retry()
        return {**counts, "settled": settled}
    finally:
        cache.delete(SWEEP_LOCK)
