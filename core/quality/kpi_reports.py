"""Closing a month: its KPIs stored once, compared with the month before, and told to the tenant's
endpoints (``kpi.monthly_report``) in the same transaction, through the outbox.

Closing a month that is closed already changes nothing and tells nobody, so the beat task that closes
last month for every tenant may run any number of times.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.exceptions import NotFound
from core.quality.events import COMPARED, KPI_MONTHLY_REPORT
from core.quality.kpis import kpis_for_month
from core.quality.models import KpiMonthlyReport
from core.webhooks.outbox import Event, outbox_emit
from tenants.models import Tenant


def month_before(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def kpi_report_list(*, tenant: Tenant) -> QuerySet[KpiMonthlyReport]:
    return KpiMonthlyReport.objects.filter(tenant=tenant).order_by("-month")


def kpi_report_get(*, tenant: Tenant, month: date) -> KpiMonthlyReport:
    report = kpi_report_list(tenant=tenant).filter(month=month.replace(day=1)).first()
    if report is None:
        raise NotFound
    return report


def kpi_changes(figures: dict, previous: dict | None) -> dict[str, float | None]:
    """This month's headline figures less the month before's (``COMPARED``), null where either is unknown."""

    def read(source: dict | None, path: str) -> float | None:
        value: object = source
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str):
            value = Decimal(value)
        return None if value is None else float(value)

    changes = {}
    for path in COMPARED:
        now, before = read(figures, path), read(previous, path)
        changes[path] = None if now is None or before is None else round(now - before, 4)
    return changes


def kpi_month_close(*, tenant: Tenant, month: date) -> tuple[KpiMonthlyReport, bool]:
    """Store the month's KPI report and emit ``kpi.monthly_report``; answer the report and whether
    this call closed it (False: it was closed already, and nothing was written or sent).

    ``previous`` is the month before as it was reported, or, if that month was never closed, as
    it reads now. Only a month that has ended can be closed.
    """
    month = month.replace(day=1)
    now = timezone.now()
    if (month + timedelta(days=32)).replace(day=1) > now.date():
        raise ValidationError({"month": f"{month:%Y-%m} has not ended yet; close a month from its following day on."})
    existing = KpiMonthlyReport.objects.filter(tenant=tenant, month=month).first()
    if existing is not None:
        return existing, False
    figures = kpis_for_month(tenant=tenant, month=month)["overall"]
    before = month_before(month)
    reported = KpiMonthlyReport.objects.filter(tenant=tenant, month=before).first()
    previous = reported.figures if reported is not None else kpis_for_month(tenant=tenant, month=before)["overall"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                report = KpiMonthlyReport.objects.create(
                    tenant=tenant, month=month, figures=figures, previous=previous, closed_at=now
                )
        except IntegrityError:  # closed meanwhile by another run: that one told the endpoints
            return KpiMonthlyReport.objects.get(tenant=tenant, month=month), False
        data = {
            "report_id": str(report.pk),
            "month": f"{month:%Y-%m}",
            "closed_at": now.isoformat(),
            "figures": figures,
            "previous_month": f"{before:%Y-%m}",
            "previous": previous,
            "changes": kpi_changes(figures, previous),
        }
        # Staff only, as kpis/ is: no partner kind is given a payload, not even the ERP.
        outbox_emit(
            [Event(tenant_id=tenant.pk, type=KPI_MONTHLY_REPORT.name, data=data, staff_only=True, partner_payloads={})]
        )
    return report, True


def kpi_last_month_close_all(*, today: date | None = None) -> int:
    """Close last month for every tenant that has no report of it yet; answer how many were closed."""
    today = today or timezone.now().date()
    month = month_before(today)
    closed = 0
    for tenant in Tenant.objects.exclude(pk__in=KpiMonthlyReport.objects.filter(month=month).values("tenant_id")):
        _, created = kpi_month_close(tenant=tenant, month=month)
        closed += created
    return closed
