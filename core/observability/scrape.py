"""The gauges ``/metrics`` reads when it is scraped: the engine's lag, live alerts, pending deliveries
from PostgreSQL, the depth of each Celery queue from Redis.

Read at scrape time rather than kept by the processes that change them: only the database knows how
old the oldest dirty position is, and only Redis how many messages wait. Each source is read in one
round (three aggregates in one transaction with a statement timeout, one pipeline of LLENs); a source
that does not answer leaves its series out and sets ``tripline_scrape_errors{source}`` to 1, so a
scrape during a Redis outage still answers with everything else.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from redis import Redis, RedisError

from core import telemetry
from core.alerts.gauges import alerts_live_counts
from core.alerts.models import LIVE_STATUSES, Grade, rule_choices
from core.inventory.gauges import positions_dirty_backlog
from core.redis_clients import redis_client
from core.webhooks.gauges import deliveries_pending_summary
from workers.app import QUEUES

logger = logging.getLogger("tripline.metrics")

# A scrape is refused a source that takes longer than this: it must not hold up the scrape.
SOURCE_TIMEOUT_SECONDS = 2.0
# Kombu's Redis transport keeps a message sent with a priority in a list of its own per step.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


@functools.cache
def _redis(url: str) -> Redis:
    return redis_client(url, socket_connect_timeout=SOURCE_TIMEOUT_SECONDS, socket_timeout=SOURCE_TIMEOUT_SECONDS)


def _age_seconds(since: object) -> float:
    return max(0.0, (timezone.now() - since).total_seconds()) if since is not None else 0.0


def database_families() -> list[Metric]:
    """The engine's backlog, the live alerts and the pending deliveries, from one transaction."""
    by_tenant = telemetry.tenant_labels_on()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [int(SOURCE_TIMEOUT_SECONDS * 1000)])
        backlog = positions_dirty_backlog()
        alerts = alerts_live_counts(by_tenant=by_tenant)
        pending = deliveries_pending_summary()

    dirty = GaugeMetricFamily("tripline_evaluation_dirty_positions", "Positions waiting for the engine.")
    dirty.add_metric([], backlog.positions)
    lag = GaugeMetricFamily(
        "tripline_evaluation_lag_seconds",
        "Age of the oldest dirty position: how long a change has waited for the engine (0: none waits).",
    )
    lag.add_metric([], _age_seconds(backlog.oldest))

    labels = ["grade", "rule", "status", "tenant"]
    live = GaugeMetricFamily(
        "tripline_alerts_open", "Live alerts (open or acknowledged) by grade, rule and status.", labels=labels
    )
    counts: dict[tuple[str, ...], int] = {}
    if not by_tenant:
        # Every combination, zero included, so an alert rule on a series never sees it vanish.
        counts = {
            (grade, rule, status, ""): 0
            for grade in Grade.values
            for rule, _ in rule_choices()
            for status in LIVE_STATUSES
        }
    for row in alerts:
        key = (row["grade"], row["rule"], row["status"], telemetry.tenant_label(row["tenant"]))
        counts[key] = counts.get(key, 0) + row["alerts"]
    for key, value in sorted(counts.items()):
        live.add_metric(list(key), value)

    deliveries = GaugeMetricFamily(
        "tripline_webhook_deliveries_pending", "Webhook deliveries not yet succeeded or failed."
    )
    deliveries.add_metric([], pending.deliveries)
    oldest = GaugeMetricFamily(
        "tripline_webhook_oldest_pending_delivery_age_seconds",
        "Age of the oldest pending delivery, retries included (0: none pending).",
    )
    oldest.add_metric([], _age_seconds(pending.oldest_created))
    due = GaugeMetricFamily(
        "tripline_webhook_due_delivery_lag_seconds",
        "How long the most overdue pending attempt has been due: the delivery workers' backlog (0: none overdue).",
    )
    due.add_metric([], _age_seconds(pending.earliest_due))
    return [dirty, lag, live, deliveries, oldest, due]


def redis_families() -> list[Metric]:
    """Messages waiting in each Celery queue of workers/app.py, priorities included."""
    names = [[queue, *(f"{queue}{_PRIORITY_SEPARATOR}{step}" for step in _PRIORITY_STEPS)] for queue in QUEUES]
    pipeline = _redis(settings.REDIS_URL).pipeline(transaction=False)
    for lists in names:
        for name in lists:
            pipeline.llen(name)
    lengths = iter(pipeline.execute())
    depth = GaugeMetricFamily("tripline_celery_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"])
    for queue, lists in zip(QUEUES, names, strict=True):
        depth.add_metric([queue], sum(next(lengths) for _ in lists))
    return [depth]


class ScrapeTimeCollector:
    """A prometheus_client collector, registered on the registry of each scrape."""

    sources = {"database": database_families, "redis": redis_families}

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "tripline_scrape_errors",
            "1 when this scrape could not read a source (its series are left out).",
            labels=["source"],
        )
        seconds = GaugeMetricFamily(
            "tripline_scrape_source_duration_seconds", "Time this scrape took to read a source.", labels=["source"]
        )
        for source, read in self.sources.items():
            started = time.perf_counter()
            try:
                families = read()
            except (DatabaseError, RedisError, OSError) as exc:
                logger.warning("/metrics could not read %s: %s", source, exc)
                families = []
                errors.add_metric([source], 1)
            else:
                errors.add_metric([source], 0)
            seconds.add_metric([source], time.perf_counter() - started)
            yield from families
        yield errors
        yield seconds
