"""Quality tasks: a stored warning backtest, replayed on the worker."""

from celery import shared_task

from core.quality import backtests


# The app's time limits (CELERY_LONGEST_TASK_SECONDS): a replay of a long period is the longest task.
@shared_task(name=backtests.BACKTEST_TASK, acks_late=True)
def warning_backtest_run(backtest_id: str) -> str | None:
    """Replay a queued backtest and store its report; one taken or finished is left alone, so twice is safe."""
    backtest = backtests.warning_backtest_run(backtest_id=backtest_id)
    return backtest.status if backtest else None


@shared_task(name="tripline.quality.warning_backtests_recover", time_limit=60, soft_time_limit=50)
def warning_backtests_recover() -> dict:
    """Re-send backtests whose task was lost or whose worker went silent."""
    return backtests.warning_backtests_recover()
