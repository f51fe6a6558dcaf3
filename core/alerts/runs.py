"""Evaluation runs: a full run over every position, or an incremental pass over the dirty ones.

A run goes chunk by chunk in position-id order; each chunk commits its alerts together with the
run's cursor and counts, under a lease. A worker that dies mid-run leaves a stale heartbeat; the
watchdog hands the run out again and it resumes after the last committed chunk. Chunks are
idempotent, so even a chunk done twice opens no second alert.
"""

from __future__ import annotations

import contextlib
import gc
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet
from django.utils import timezone

from core import telemetry
from core.access.views import event_payloads
from core.alerts.engine import ReadAhead, chunk_evaluate, rows_prefetch
from core.alerts.events import EVALUATION_COMPLETED
from core.alerts.models import EvaluationRun, EvaluationStatus, EvaluationTrigger
from core.alerts.triggers import evaluation_request, pending_key
from core.exceptions import Conflict, NotFound
from core.inventory.models import Position
from core.one_at_a_time import run_start
from core.retries import atomic_retried
from core.task_requests import task_request
from core.webhooks.outbox import Event, outbox_emit
from tenants.models import Tenant
from tenants.principals import SYSTEM_ACTOR, Principal, actor_name
from tenants.services import audit_record

RUN_TASK = "tripline.evaluation.run"
# Chunks read and graded ahead, each on its own thread and connection: one's SQL runs while
# another's Python grades, and both while the current chunk is written.
_READ_AHEAD = 2
ACTIVE = (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING)


def run_list(*, tenant: Tenant) -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.filter(tenant=tenant).order_by("created_at", "id")


def run_get(*, tenant: Tenant, run_id: object) -> EvaluationRun:
    run = run_list(tenant=tenant).filter(pk=run_id).first()
    if run is None:
        raise NotFound
    return run


def run_active_full(*, tenant: Tenant) -> EvaluationRun | None:
    """The tenant's queued or running full run, if there is one."""
    active = EvaluationRun.objects.filter(tenant=tenant, status__in=ACTIVE)
    return active.exclude(trigger=EvaluationTrigger.INCREMENTAL).first()


def _enqueue(run_id: object) -> None:
    task_request(RUN_TASK, args=[str(run_id)])  # the watchdog re-sends queued runs nobody took


@transaction.atomic
def evaluation_start(
    *,
    tenant: Tenant,
    actor: Principal | str,
    trigger: str = EvaluationTrigger.MANUAL,
    as_of: date | None = None,
) -> EvaluationRun:
    """Queue a full run of the tenant; refused while one is queued or running."""
    run = run_start(
        create=lambda: EvaluationRun.objects.create(
            tenant=tenant,
            trigger=trigger,
            requested_by=actor_name(actor),
            as_of=as_of or timezone.now().date(),
            positions_total=Position.objects.filter(tenant=tenant).count(),
        ),
        active=lambda: run_active_full(tenant=tenant),
        what="A full evaluation",
        follow="evaluations/{id}/",
    )
    audit_record(tenant=tenant, actor=actor, action="evaluation.started", target=run, data={"trigger": trigger})
    transaction.on_commit(lambda: _enqueue(run.pk), robust=True)
    return run


def _claim(run_id: object) -> tuple[EvaluationRun | None, uuid.UUID]:
    """Take the run if it is queued, or running with a heartbeat older than the stale limit."""
    lease = uuid.uuid4()
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EVALUATION_STALE_SECONDS)
    claimed = EvaluationRun.objects.filter(
        Q(status=EvaluationStatus.QUEUED) | Q(status=EvaluationStatus.RUNNING, heartbeat_at__lt=stale), pk=run_id
    ).update(status=EvaluationStatus.RUNNING, lease=lease, heartbeat_at=now, started_at=now)
    if not claimed:
        return None, lease
    run = EvaluationRun.objects.select_related("tenant").get(pk=run_id)
    EvaluationRun.objects.filter(pk=run_id).update(attempts=run.attempts + 1)
    return run, lease


def _next_ids(run: EvaluationRun, after: int) -> list[int]:
    positions = Position.objects.filter(tenant_id=run.tenant_id, id__gt=after)
    if run.trigger == EvaluationTrigger.INCREMENTAL:
        positions = positions.filter(dirty_since__isnull=False)
    return list(positions.order_by("id").values_list("id", flat=True)[: settings.EVALUATION_CHUNK_POSITIONS])


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a run works.

    A run allocates millions of short-lived objects (rows, readings, trips) while the chunks read
    ahead keep tens of thousands alive, and every automatic collection walked them all: 15-20 %
    of a full run on the benchmark. Reference counting still frees everything as it goes; only
    cycles, rare here, wait for the collector's next turn once it is back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@atomic_retried
def _chunk_commit(
    run: EvaluationRun, lease: uuid.UUID, ids: list[int], actor: str, prefetched: ReadAhead | None
) -> Counter | None:
    """Evaluate one chunk and move the run's cursor past it, in one transaction; None (and nothing
    written) when the run's lease is no longer this worker's. Run again as a whole if PostgreSQL
    aborts it for contention."""
    # Each chunk is graded as of its own day: a run that crosses midnight, or is resumed the next
    # day, does not write yesterday's figures over today's.
    counts = chunk_evaluate(
        tenant=run.tenant, position_ids=ids, today=timezone.now().date(), actor=actor, prefetched=prefetched
    )
    total = Counter(run.counts) + counts
    updated = EvaluationRun.objects.filter(pk=run.pk, lease=lease).update(
        cursor=ids[-1],
        positions_done=run.positions_done + len(ids),
        counts=dict(total),
        heartbeat_at=timezone.now(),
    )
    if not updated:
        transaction.set_rollback(True)
        return None
    return total


def run_execute(*, run_id: object, progress: Callable[[int], None] | None = None) -> EvaluationRun | None:
    """Carry out (or resume) a run; None when another worker holds it or it is finished.

    A full run reads and grades the next chunks on other threads and connections while it writes
    the current one, so the database and Python work at the same time.
    ``progress`` hears the number of positions of each committed chunk (a command's progress bar).
    """
    run, lease = _claim(run_id)
    if run is None:
        return None
    started = time.monotonic()
    actor = f"system:evaluation {run.pk}"
    read_ahead = run.trigger != EvaluationTrigger.INCREMENTAL  # an incremental pass re-reads all anyway
    # Each read-ahead thread keeps its connection from chunk to chunk (a new backend per chunk cost
    # its start-up and cold caches); they are closed once the threads are done.
    thread_connections: list[BaseDatabaseWrapper] = []
    try:
        with (
            _collector_paused(),
            ThreadPoolExecutor(
                max_workers=_READ_AHEAD,
                thread_name_prefix="evaluation-read-ahead",
                initializer=lambda: thread_connections.append(connections[DEFAULT_DB_ALIAS]),
            ) as pool,
        ):

            def ahead(ids: list[int]) -> Future | None:
                if not read_ahead:
                    return None
                today = timezone.now().date()
                return pool.submit(rows_prefetch, tenant=run.tenant, position_ids=ids, today=today)

            pending: deque[tuple[list[int], Future | None]] = deque()
            after = run.cursor

            def queue_up() -> None:
                nonlocal after
                while len(pending) < _READ_AHEAD and (ids := _next_ids(run, after)):
                    after = ids[-1]
                    pending.append((ids, ahead(ids)))

            queue_up()
            while pending:
                ids, future = pending.popleft()
                prefetched = future.result() if future is not None else None
                queue_up()
                total = _chunk_commit(run, lease, ids, actor, prefetched)
                if total is None:
                    _run_counted(run, "taken_over", started)
                    return None  # another worker took the run over (this one looked dead): let it finish
                run.cursor, run.positions_done, run.counts = ids[-1], run.positions_done + len(ids), dict(total)
                telemetry.EVALUATION_POSITIONS.labels(trigger=run.trigger).inc(len(ids))
                if progress is not None:
                    progress(len(ids))
    except Exception as exc:
        EvaluationRun.objects.filter(pk=run.pk, lease=lease).update(
            status=EvaluationStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        _run_counted(run, "failed", started)
        raise
    finally:
        for thread_connection in thread_connections:
            thread_connection.inc_thread_sharing()  # closed from this thread, its own has ended
            thread_connection.close()
    with transaction.atomic():
        finished = EvaluationRun.objects.filter(pk=run.pk, lease=lease).update(
            status=EvaluationStatus.SUCCEEDED,
            finished_at=timezone.now(),
            positions_total=max(run.positions_total, run.positions_done),
        )
        if finished and run.trigger != EvaluationTrigger.INCREMENTAL:
            data = {
                "run_id": str(run.pk),
                "trigger": run.trigger,
                "positions": run.positions_done,
                "counts": run.counts,
            }
            payloads = event_payloads(EVALUATION_COMPLETED.name, data)
            outbox_emit(
                [Event(tenant_id=run.tenant_id, type=EVALUATION_COMPLETED.name, data=data, partner_payloads=payloads)]
            )
    _run_counted(run, "succeeded" if finished else "taken_over", started)
    run.refresh_from_db()
    return run


def _run_counted(run: EvaluationRun, status: str, started: float) -> None:
    """This worker's part of the run in the engine's series (docs/operations.md, Metrics)."""
    telemetry.EVALUATION_RUNS.labels(trigger=run.trigger, status=status).inc()
    telemetry.EVALUATION_DURATION.labels(trigger=run.trigger).observe(time.monotonic() - started)


def evaluation_incremental(*, tenant_id: object) -> EvaluationRun | None:
    """Evaluate the tenant's dirty positions now, as one recorded run; None when none is dirty."""
    cache.delete(pending_key(tenant_id))  # a push from now on schedules the next pass
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    dirty = Position.objects.filter(tenant=tenant, dirty_since__isnull=False).count()
    if not dirty:
        return None
    run = EvaluationRun.objects.create(
        tenant=tenant,
        trigger=EvaluationTrigger.INCREMENTAL,
        requested_by=SYSTEM_ACTOR,
        as_of=timezone.now().date(),
        positions_total=dirty,
    )
    return run_execute(run_id=run.pk)


def evaluation_sweep() -> int:
    """Queue a scheduled full run for every tenant that has none going; answer how many."""
    started = 0
    for tenant in Tenant.objects.all().order_by("created_at"):
        try:
            evaluation_start(tenant=tenant, actor=SYSTEM_ACTOR, trigger=EvaluationTrigger.SCHEDULED)
        except Conflict:
            continue
        started += 1
    return started


def evaluation_recover() -> dict:
    """The watchdog: re-send runs whose worker went silent, and passes for positions left dirty."""
    stale = timezone.now() - timedelta(seconds=settings.EVALUATION_STALE_SECONDS)
    resent = 0
    for run in EvaluationRun.objects.filter(
        Q(status=EvaluationStatus.QUEUED, created_at__lt=stale)
        | Q(status=EvaluationStatus.RUNNING, heartbeat_at__lt=stale)
    ):
        if run.attempts >= 3:
            EvaluationRun.objects.filter(pk=run.pk, status=run.status).update(
                status=EvaluationStatus.FAILED,
                error="Gave up after 3 attempts whose worker went silent.",
                finished_at=timezone.now(),
            )
            continue
        _enqueue(run.pk)
        resent += 1
    tenants = Position.objects.filter(dirty_since__lt=stale).values_list("tenant_id", flat=True).distinct().order_by()
    requested = 0
    for tenant_id in tenants:
        evaluation_request(tenant_id=tenant_id)
        requested += 1
    return {"runs_resent": resent, "incremental_requested": requested}
