"""What ``/metrics`` reads of alerts at scrape time: the live alerts, counted by grade, rule and status.

Across tenants on purpose (an operator's view): one GROUP BY over the active alerts, which the
partial unique index of active alerts keeps to a small set.
"""

from __future__ import annotations

from django.db.models import Count

from core.alerts.models import LIVE, Alert


def alerts_live_counts(*, by_tenant: bool = False) -> list[dict]:
    """Rows of ``grade``, ``rule``, ``status`` (and ``tenant``: its slug, with ``by_tenant``) and ``alerts``."""
    columns = ["grade", "rule", "status", *(["tenant__slug"] if by_tenant else [])]
    rows = Alert.objects.filter(LIVE).order_by().values(*columns).annotate(alerts=Count("id"))
    return [{"tenant": row.pop("tenant__slug", None), **row} for row in rows.order_by(*columns)]
