"""Fitting many histories in several processes: the fits are pure CPU (numpy in, numpy out), so a
refresh of many positions spreads them over the cores while its own process reads and writes.

A fit touches no database: the caller reads the histories, promotions and elasticities. The
processes are forked (they start at once, with statsforecast already imported) and only compute:
they never use the database connection they inherit, and leave with ``os._exit``
(multiprocessing's way), which closes nothing of it.
Spawned processes would inherit nothing, but cannot be started from a Celery pool process
(multiprocessing's spawn pickles the process's authentication key, which billiard's process
refuses). Each lives as long as the ``fitting_pool`` that started it, which shuts them down
(cancelling what is left on an error, a time limit included) before it returns.

A Celery prefork child is a daemonic process, and multiprocessing refuses children to those
because a daemon's children could outlive it. These do not: the pool ends with the refresh, and
each fitting process asks the kernel to end it when its parent dies (``_die_with_parent``, Linux's
parent-death signal), a parent killed at its hard time limit included. So the flag is lifted while
the pool runs (``_children_allowed``) and put back after.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import math
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from core.forecasting.fitting import Forecast, forecast_with_promotions
from core.forecasting.history import DailyHistory
from core.forecasting.uplift import PromotionWindow

# A history to fit, with the promotions touching it and the position's price elasticity (or None).
FitJob = tuple[DailyHistory, tuple[PromotionWindow, ...], float | None]
# A fit's forecast, the promotions applied to it, and the seconds it took.
Fitted = tuple[Forecast, list[dict], float]
# Starts fitting a chunk's jobs for a horizon; answers a function that waits for the results.
Fitter = Callable[[list[FitJob], int], Callable[[], list[Fitted]]]
PR_SET_PDEATHSIG = 1  # prctl(2)
BATCHES_PER_PROCESS = 4  # several batches a process, so one slow batch leaves no process idle


def fit_batch(jobs: list[FitJob], horizon: int, service_level: float) -> list[Fitted]:
    """Fit each history with its class's model and its promotions' uplift, timing each."""
    out = []
    for history, windows, elasticity in jobs:
        started = time.perf_counter()
        forecast, applied = forecast_with_promotions(
            history, horizon=horizon, service_level=service_level, windows=windows, elasticity=elasticity
        )
        out.append((forecast, applied, time.perf_counter() - started))
    return out


@contextlib.contextmanager
def fitting_pool(*, processes: int, service_level: float) -> Iterator[Fitter]:
    """A ``Fitter``: in this process for ``processes`` ≤ 1 (the fit happens at once), else in that
    many forked processes (the fit runs while the caller goes on; results come back in order)."""
    if processes <= 1:

        def now(jobs: list[FitJob], horizon: int) -> Callable[[], list[Fitted]]:
            done = fit_batch(jobs, horizon, service_level)
            return lambda: done

        yield now
        return
    with _children_allowed():
        pool = ProcessPoolExecutor(
            max_workers=processes, mp_context=multiprocessing.get_context("fork"), initializer=_die_with_parent
        )
        finished = False
        try:

            def later(jobs: list[FitJob], horizon: int) -> Callable[[], list[Fitted]]:
                size = max(1, math.ceil(len(jobs) / (processes * BATCHES_PER_PROCESS)))
                futures = [
                    pool.submit(fit_batch, jobs[i : i + size], horizon, service_level)
                    for i in range(0, len(jobs), size)
                ]
                return lambda: [fitted for future in futures for fitted in future.result()]

            yield later
            finished = True
        finally:
            pool.shutdown(wait=True, cancel_futures=not finished)


@contextlib.contextmanager
def _children_allowed() -> Iterator[None]:
    """Lift this process's daemon flag while the pool starts and runs its processes (see the module)."""
    config = multiprocessing.current_process()._config  # the flag the check reads
    daemon = config.pop("daemon", None)
    try:
        yield
    finally:
        if daemon is not None:
            config["daemon"] = daemon


def _die_with_parent() -> None:
    """In a fitting process: be killed when the parent dies (Linux); elsewhere, nothing to arrange."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
