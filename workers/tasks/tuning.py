"""Tuner tasks: one tenant's run, and the daily sweep that asks for every tuning tenant's."""

from celery import shared_task

from core.quality import tuner


@shared_task(name="tripline.quality.tuning_run", time_limit=3600, soft_time_limit=3500)
def tuning_run(tenant_id: str) -> int:
    """One tuner pass for the tenant; answers how many proposals it made. Twice the same day is safe:
    the second finds every stepped rule and scope in its cool-down."""
    return tuner.tuner_tenant_run(tenant_id=tenant_id)


@shared_task(name="tripline.quality.tuning_sweep", time_limit=120, soft_time_limit=100)
def tuning_sweep() -> int:
    """Queue the daily run of every tenant whose tuner is on."""
    return tuner.tuners_sweep()
