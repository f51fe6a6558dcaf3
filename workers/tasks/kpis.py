"""The monthly KPI close: last month's report for every tenant, on the 1st (and any later day missing it)."""

from celery import shared_task

from core.quality.kpi_reports import kpi_last_month_close_all


@shared_task(name="tripline.kpis.month_close", acks_late=True, time_limit=1800, soft_time_limit=1700)
def kpis_month_close() -> int:
    """Close last month for every tenant not closed yet; twice is safe (a closed month is left alone)."""
    return kpi_last_month_close_all()
