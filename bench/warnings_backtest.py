"""Warnings backtest benchmark: replaying the last 90 days of every position against one full
evaluation of the same positions, in one process on the same data.

Setup (not measured): the evaluation case's tenant (bench/evaluation.py: N positions, SKUs x
warehouses, with lots, supplier offers, signals and stories built to trip rules), with HISTORY_DAYS
days of daily facts instead of its 120, so the first replayed day has its 90 days of history too.

Measured, in one process on the same data:
- the engine's full run (``evaluation_start`` + ``run_execute``), first (alerts created) and again
  over unchanged data (the steady state the goal compares with);
- the stored backtest of the last REPLAY_DAYS days (``warning_backtest_run_inline``: the replay of
  every position and day, its labels and report, the row written), as ``manage.py
  warnings_backtest`` runs it.

The issue's goal: the replay within GOAL_RATIO x one full evaluation (the replay shares the work of
a chunk across its days, rather than running 90 independent evaluations).
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import timedelta

from django.utils import timezone
from tqdm import tqdm

from bench.evaluation import _load
from bench.harness import Case
from core.alerts import runs
from core.alerts.models import Alert
from core.inventory.models import Position
from core.quality.backtests import warning_backtest_run_inline
from tenants import services
from tenants.principals import SYSTEM_ACTOR

REPLAY_DAYS = 90
HISTORY_DAYS = 180  # 90 replayed days and the 90 days of history the first of them reads
GOAL_RATIO = 10


def _evaluation(tenant, today, label: str) -> float:  # noqa: ANN001
    print(f"warnings_backtest: full evaluation ({label})", file=sys.stderr, flush=True)
    started = time.perf_counter()
    run = runs.evaluation_start(tenant=tenant, actor=SYSTEM_ACTOR, as_of=today)
    done = runs.run_execute(run_id=run.pk)
    seconds = time.perf_counter() - started
    if done is None or done.status != "succeeded":
        raise RuntimeError(f"the {label} evaluation did not succeed: {done and done.error}")
    return seconds


def run(case: Case) -> dict:
    today = timezone.now().date()
    tenant = services.tenant_create(slug=f"bench-replay-{uuid.uuid4().hex[:8]}", name="Bench warnings backtest")
    started = time.perf_counter()
    data = _load(tenant, case, today, days=HISTORY_DAYS)
    load_seconds = time.perf_counter() - started
    positions = Position.objects.filter(tenant=tenant).count()
    print(
        f"warnings_backtest: {positions:,} positions, {data['daily_facts']:,} daily facts over {HISTORY_DAYS} days, "
        f"loaded in {load_seconds:.1f}s",
        file=sys.stderr,
        flush=True,
    )

    first_seconds = _evaluation(tenant, today, "first: alerts created")
    live_alerts = Alert.objects.filter(tenant=tenant).count()
    rerun_seconds = _evaluation(tenant, today, "again, unchanged data")

    day_from, day_to = today - timedelta(days=REPLAY_DAYS - 1), today
    with tqdm(desc="warnings_backtest: replay", unit="day", file=sys.stderr, dynamic_ncols=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        started = time.perf_counter()
        backtest = warning_backtest_run_inline(
            tenant=tenant, actor=SYSTEM_ACTOR, day_from=day_from, day_to=day_to, label="bench", progress=progress
        )
        replay_seconds = time.perf_counter() - started
    if Alert.objects.filter(tenant=tenant).count() != live_alerts:
        raise RuntimeError("the replay changed the live tenant's alerts")
    overall = backtest.report["overall"]
    ratio = replay_seconds / rerun_seconds
    return {
        "positions": positions,
        "history_days": HISTORY_DAYS,
        "daily_facts": data["daily_facts"],
        "load_seconds_setup": round(load_seconds, 1),
        "replay_days": REPLAY_DAYS,
        "replay_seconds": round(replay_seconds, 2),
        "replay_position_days_per_second": round(positions * REPLAY_DAYS / replay_seconds),
        "evaluation_first_seconds": round(first_seconds, 2),
        "evaluation_seconds": round(rerun_seconds, 2),
        "ratio_replay_to_evaluation": round(ratio, 2),
        "ratio_replay_to_evaluation_first": round(replay_seconds / first_seconds, 2),
        "goal_ratio": GOAL_RATIO,
        "goal_met": "yes" if ratio <= GOAL_RATIO else "no",
        "replayed_alerts": overall["alerts"],
        "replayed_episodes": overall["episodes"],
        "replayed_precision": overall["precision"],
        "replayed_recall": overall["recall"],
        "live_alerts": live_alerts,
    }
