"""Forecast tasks: a tenant's full refresh, the debounced refit of changed positions, the daily sweep."""

from celery import shared_task

from core.forecasting import services


@shared_task(name="tripline.forecasting.refresh", acks_late=True, time_limit=1800, soft_time_limit=1700)
def forecasting_refresh(tenant_id: str) -> dict | None:
    """Refit every position of the tenant whose history changed; twice is safe (the second skips all)."""
    return services.forecasts_tenant_refresh(tenant_id=tenant_id)


@shared_task(name="tripline.forecasting.changed", acks_late=True, time_limit=600, soft_time_limit=540)
def forecasting_changed(tenant_id: str) -> dict | None:
    """Refit the tenant's positions touched since their last fit; twice is safe."""
    return services.forecasts_changed_pass(tenant_id=tenant_id)


@shared_task(name="tripline.forecasting.sweep", time_limit=120, soft_time_limit=100)
def forecasting_sweep() -> int:
    """Queue the daily full refresh of every tenant."""
    return services.forecasts_sweep()
