"""Transfer tasks: computing a system transfer plan."""

from celery import shared_task

from core.transfers import plans


@shared_task(name="tripline.transfers.plan", acks_late=True, time_limit=600, soft_time_limit=540)
def transfers_plan(plan_id: str) -> str | None:
    """Compute a queued plan; a plan already taken or finished is left alone, so twice is safe."""
    plan = plans.plan_run(plan_id=plan_id)
    return plan.status if plan else None
