"""The warning engine's tasks: full runs, debounced incremental passes, the sweep and the watchdog."""

from celery import shared_task

from core.alerts import runs


@shared_task(name="tripline.evaluation.run", acks_late=True)
def evaluation_run(run_id: str) -> None:
    """Carry out or resume a queued full run; a duplicate delivery finds it taken and returns."""
    runs.run_execute(run_id=run_id)


@shared_task(name="tripline.evaluation.incremental", acks_late=True, time_limit=600, soft_time_limit=540)
def evaluation_incremental(tenant_id: str) -> None:
    """Evaluate the tenant's dirty positions; safe to run twice (the second finds nothing dirty)."""
    runs.evaluation_incremental(tenant_id=tenant_id)


@shared_task(name="tripline.evaluation.sweep", time_limit=120, soft_time_limit=100)
def evaluation_sweep() -> int:
    """Queue the scheduled full run of every tenant."""
    return runs.evaluation_sweep()


@shared_task(name="tripline.evaluation.recover", time_limit=60, soft_time_limit=50)
def evaluation_recover() -> dict:
    """Re-send runs whose worker went silent and passes for positions left dirty."""
    return runs.evaluation_recover()
