"""Sending deliveries: claim a batch of an endpoint's due ones, sign, POST over kept connections to
the checked address, log the attempts and schedule the next, in bulk.

Retries follow the Standard Webhooks schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
10 h) and go on beyond it (14 h, 20 h, 24 h) to cover more than 72 hours, each with ±10 % jitter.
Only a 2xx counts. ``Retry-After`` on 429 and 503 is honoured (never sooner than the schedule);
410 disables the endpoint; an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled and
the tenant's admins are told through the audit log.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import telemetry
from core.bulk_copy import copy_records
from core.webhooks.connections import post
from core.webhooks.models import Delivery, DeliveryAttempt, DeliveryState, OutboxEvent, WebhookEndpoint
from core.webhooks.relay import commit_unflushed, deliveries_enqueue, endpoints_enqueue
from core.webhooks.signing import signature_header
from core.webhooks.url_safety import UnsafeUrl
from tenants.models import Membership, Role
from tenants.principals import SYSTEM_ACTOR
from tenants.services import audit_record

# Seconds to wait after each failed attempt (the first attempt is immediate).
RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000, 50400, 72000, 86400]
USER_AGENT = "Tripline-Webhooks/1"


def payload_for(event: OutboxEvent | _Event, endpoint: WebhookEndpoint) -> dict | None:
    """The event's data as the endpoint's audience gets it: the tenant's own endpoints its ``data``,
    a partner's the payload shaped for its kind; None when nothing of it is for that kind."""
    if endpoint.partner_id is None:
        return event.data
    return event.partner_payloads.get(endpoint.partner.kind)


def envelope(event: OutboxEvent | _Event, data: dict) -> bytes:
    """The body, the same on every attempt: the event's type, time and the endpoint's payload."""
    body = {"type": event.type, "timestamp": event.created_at.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(body, separators=(",", ":")).encode()


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    keep_previous = (
        endpoint.previous_secret and endpoint.previous_secret_expires_at and now < endpoint.previous_secret_expires_at
    )
    return [endpoint.secret, endpoint.previous_secret] if keep_previous else [endpoint.secret]


@dataclass(frozen=True)
class _Event:
    """What a request needs of an outbox event (a model instance per delivery costs more than the send)."""

    event_id: str
    type: str
    created_at: datetime
    data: dict
    partner_payloads: dict


@dataclass
class _Claimed:
    """A delivery taken for one attempt, with what its request needs."""

    id: uuid.UUID
    tenant_id: object
    endpoint_id: object
    attempts: int
    event: _Event


@dataclass
class _Sent:
    claimed: _Claimed
    attempted_at: datetime
    status: int | None
    headers: dict
    text: str
    error: str
    seconds: float


def _lease() -> timedelta:
    """How long a claimed delivery (and a held endpoint) is left alone: a task sends for at most
    WEBHOOK_BATCH_SECONDS, and its last request may take the timeout; past this, it is taken to have
    died and the sweep sends the delivery again, with the same id."""
    return timedelta(seconds=settings.WEBHOOK_BATCH_SECONDS + settings.WEBHOOK_TIMEOUT_SECONDS * 4)


def _claim(
    *, limit: int, endpoint_id: object = None, delivery_id: object = None, partner_payloads: bool = True
) -> list[_Claimed]:
    """Take up to ``limit`` due deliveries of an endpoint (oldest due first), or the one named, in one
    statement: each one's next attempt time becomes the lease, its attempt is counted and its queued
    message spent. Rows another worker holds are skipped, so two tasks never take the same one."""
    now = timezone.now()
    which = "endpoint_id = %(endpoint)s" if delivery_id is None else "id = %(delivery)s"
    deliveries, events = Delivery._meta.db_table, OutboxEvent._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        commit_unflushed()
        cursor.execute(
            f"""
            WITH due AS (
                SELECT id FROM {deliveries}
                WHERE {which} AND state = %(pending)s AND next_attempt_at <= %(now)s
                ORDER BY next_attempt_at LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE {deliveries} AS d
            SET next_attempt_at = %(lease)s, queued_until = NULL, attempts = d.attempts + 1, updated_at = %(now)s
            FROM due, {events} AS e
            WHERE d.id = due.id AND e.id = d.event_id
            RETURNING d.id, d.tenant_id, d.endpoint_id, d.attempts, e.id, e.event_id, e.type, e.created_at, e.data,
                {"e.partner_payloads" if partner_payloads else "NULL"}
            """,  # noqa: S608 - table names and the filter are code; values go as parameters
            {
                "endpoint": endpoint_id,
                "delivery": delivery_id,
                "pending": DeliveryState.PENDING,
                "now": now,
                "limit": limit,
                "lease": now + _lease(),
            },
        )
        rows = cursor.fetchall()
    return [
        _Claimed(
            id=row[0],
            tenant_id=row[1],
            endpoint_id=row[2],
            attempts=row[3],
            event=_Event(
                event_id=row[5],
                type=row[6],
                created_at=row[7],
                data=_json(row[8]),
                partner_payloads=_json(row[9]) or {},  # not read for the tenant's own endpoints
            ),
        )
        for row in rows
    ]


def _json(value: object) -> object:
    """A JSON column read through a raw cursor: Django's driver set-up leaves it as text."""
    return json.loads(value) if isinstance(value, str) else value


def _fail(claimed: list[_Claimed], reason: str) -> None:
    if claimed:
        Delivery.objects.filter(pk__in=[item.id for item in claimed]).update(
            state=DeliveryState.FAILED, last_error=reason, next_attempt_at=None
        )


def _send(endpoint: WebhookEndpoint, claimed: _Claimed, data: dict) -> _Sent:
    """Sign and POST one delivery; whatever happens is an outcome, never an exception."""
    body = envelope(claimed.event, data)
    timestamp = int(time.time())
    event_id = claimed.event.event_id
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_use(endpoint, timezone.now()), event_id, timestamp, body),
    }
    attempted_at, started = timezone.now(), time.monotonic()
    status, response_headers, text, error = None, {}, "", ""
    try:
        status, response_headers, text = post(endpoint.url, headers, body)
    except UnsafeUrl as exc:
        error = str(exc)
    except Exception as exc:
        # Network and HTTP errors, and whatever else: on a sender thread an exception would lose the
        # attempt; recorded, it is retried on schedule like any failure.
        error = f"{type(exc).__name__}: {exc}"[:500]
    return _Sent(claimed, attempted_at, status, response_headers, text, error, time.monotonic() - started)


def _send_all(
    endpoint: WebhookEndpoint, claimed: list[_Claimed], deadline: float
) -> tuple[list[_Sent], list[_Claimed]]:
    """Send the claimed deliveries over up to WEBHOOK_ENDPOINT_CONCURRENCY connections at once; none
    is started after ``deadline`` or after a 410. Answers (what was sent, what was not)."""
    todo: deque[tuple[_Claimed, dict]] = deque()
    nothing_for_it = []
    for item in claimed:
        data = payload_for(item.event, endpoint)
        if data is None:
            nothing_for_it.append(item)
        else:
            todo.append((item, data))
    _fail(nothing_for_it, "Nothing of this event is for this endpoint.")
    sent: list[_Sent] = []
    gone = threading.Event()

    def sender() -> None:
        while not gone.is_set() and time.monotonic() < deadline:
            try:
                item, data = todo.popleft()
            except IndexError:
                return
            result = _send(endpoint, item, data)
            sent.append(result)
            if result.status == 410:
                gone.set()  # the endpoint is being disabled: nothing more goes to it

    senders = min(settings.WEBHOOK_ENDPOINT_CONCURRENCY, len(todo))
    if senders <= 1:
        sender()
    else:
        threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return sent, [item for item, _ in todo]


def _release(claimed: list[_Claimed]) -> None:
    """Give back deliveries claimed but not sent (the task's time ran out): due again at once, their
    attempt not counted, and covered by the message that follows (or, if that is lost, the sweep)."""
    if not claimed:
        return
    now = timezone.now()
    Delivery.objects.filter(pk__in=[item.id for item in claimed]).update(
        next_attempt_at=now,
        attempts=F("attempts") - 1,
        queued_until=now + timedelta(seconds=settings.WEBHOOK_QUEUE_LEASE_SECONDS),
    )


def delivery_attempt(*, delivery_id: object) -> int:
    """One attempt of a named due delivery (a test ping, a redelivery, a message queued before
    batches); 0 when it is not due or another worker has it."""
    claimed = _claim(limit=1, delivery_id=delivery_id)
    if not claimed:
        return 0
    endpoint = WebhookEndpoint.objects.select_related("partner").get(pk=claimed[0].endpoint_id)
    return _attempt_batch(endpoint, claimed, deadline=time.monotonic() + settings.WEBHOOK_BATCH_SECONDS)[0]


def endpoint_deliver(*, endpoint_id: object) -> int:
    """Send an endpoint's due deliveries, batch after batch, for up to WEBHOOK_BATCH_SECONDS; answer
    how many attempts were made.

    One task per endpoint at a time: a task that finds the endpoint held by another leaves at once,
    as the holder looks for due deliveries again after it lets go. Work left when the time is up goes
    to a new message at the back of the queue, so one busy or slow endpoint never keeps the worker
    from the others for longer than that.
    """
    made = 0
    deadline = time.monotonic() + settings.WEBHOOK_BATCH_SECONDS
    while time.monotonic() < deadline:
        until = timezone.now() + _lease()
        with transaction.atomic():
            commit_unflushed()
            taken = (
                WebhookEndpoint.objects.filter(pk=endpoint_id)
                .filter(Q(sending_until__isnull=True) | Q(sending_until__lt=timezone.now()))
                .update(sending_until=until)
            )
        if not taken:
            return made  # held by another task (or gone)
        try:
            attempts, more = _endpoint_batches(endpoint_id, deadline)
        finally:
            with transaction.atomic():
                commit_unflushed()
                WebhookEndpoint.objects.filter(pk=endpoint_id, sending_until=until).update(sending_until=None)
        made += attempts
        if more:
            endpoints_enqueue([endpoint_id])
            return made
        # A message sent while this task held the endpoint left its deliveries to this task.
        if not attempts or not _due_left(endpoint_id):
            return made
    if _due_left(endpoint_id):
        endpoints_enqueue([endpoint_id])
    return made


def _due_left(endpoint_id: object) -> bool:
    return Delivery.objects.filter(
        endpoint_id=endpoint_id, state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now()
    ).exists()


def _endpoint_batches(endpoint_id: object, deadline: float) -> tuple[int, bool]:
    """(attempts made, whether due deliveries were left when the time ran out)."""
    endpoint = WebhookEndpoint.objects.select_related("partner").filter(pk=endpoint_id).first()
    if endpoint is None:
        return 0, False
    made = 0
    while time.monotonic() < deadline:
        claimed = _claim(
            limit=settings.WEBHOOK_BATCH_SIZE, endpoint_id=endpoint_id, partner_payloads=endpoint.partner_id is not None
        )
        if not claimed:
            return made, False
        attempts, left, stopped = _attempt_batch(endpoint, claimed, deadline)
        made += attempts
        if stopped:
            return made, False
        if left:
            return made, True
        if len(claimed) < settings.WEBHOOK_BATCH_SIZE:
            return made, False  # all that was due; what came since, the caller looks for after letting go
    return made, True


def _attempt_batch(endpoint: WebhookEndpoint, claimed: list[_Claimed], deadline: float) -> tuple[int, bool, bool]:
    """Send claimed deliveries and record them: (attempts made, whether some were left unsent,
    whether the endpoint stopped taking deliveries)."""
    if not endpoint.is_active:
        _fail(claimed, "The endpoint is disabled.")
        return 0, False, True
    sent, unsent = _send_all(endpoint, claimed, deadline)
    stopped = _record(endpoint, sent)
    if stopped:
        # The endpoint's pending deliveries failed with it; those not sent made no attempt.
        Delivery.objects.filter(pk__in=[item.id for item in unsent]).update(attempts=F("attempts") - 1)
        unsent = []
    _release(unsent)
    for result in sent:
        telemetry.WEBHOOK_ATTEMPTS.labels(outcome=attempt_outcome(result.status)).inc()
        telemetry.WEBHOOK_ATTEMPT_DURATION.observe(result.seconds)
    return len(sent), bool(unsent), stopped


def attempt_outcome(status: int | None) -> str:
    """An attempt's outcome as the metrics count it: few values, whatever the receiver answers."""
    if status is None:
        return "no_response"
    if 200 <= status < 300:
        return "success"
    return "client_error" if 400 <= status < 500 else "server_error"


def _retry_after(headers: dict) -> float | None:
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    return None


def _outcome(result: _Sent, now: datetime) -> tuple[str, datetime | None]:
    """A delivery's state and next attempt time after this attempt."""
    status = result.status
    if status is not None and 200 <= status < 300:
        return DeliveryState.SUCCEEDED, None
    if status == 410 or result.claimed.attempts > len(RETRY_SCHEDULE):
        return DeliveryState.FAILED, None
    wait = RETRY_SCHEDULE[result.claimed.attempts - 1] * random.uniform(0.9, 1.1)  # noqa: S311 - jitter only
    if status in (429, 503):
        wait = max(wait, _retry_after(result.headers) or 0)
    return DeliveryState.PENDING, now + timedelta(seconds=wait)


def _record(endpoint: WebhookEndpoint, sent: list[_Sent]) -> bool:
    """Log the attempts and move each delivery on, in bulk (one insert, one update); answer whether the
    endpoint was disabled (410, or failing for too long)."""
    if not sent:
        return False
    now = timezone.now()
    rows = []
    for result in sent:
        state, next_attempt_at = _outcome(result, now)
        succeeded = state == DeliveryState.SUCCEEDED
        error = result.error or ("" if succeeded else f"HTTP {result.status}")
        rows.append((result, state, next_attempt_at, now if succeeded else None, error))
    with transaction.atomic():
        with connection.cursor() as cursor:
            copy_records(
                cursor,
                DeliveryAttempt,
                [
                    {
                        "tenant_id": result.claimed.tenant_id,
                        "delivery_id": result.claimed.id,
                        "attempted_at": result.attempted_at,
                        "status_code": result.status,
                        "duration_ms": int(result.seconds * 1000),
                        "response_body": result.text.replace("\x00", ""),  # text columns refuse NUL
                        "error": result.error,
                    }
                    for result in sent
                ],
            )
            cursor.execute(
                f"""
                UPDATE {Delivery._meta.db_table} AS d
                SET state = v.state, next_attempt_at = v.next_attempt_at, succeeded_at = v.succeeded_at,
                    last_status_code = v.status, last_error = v.error, updated_at = %(now)s
                FROM unnest(%(ids)s::uuid[], %(states)s::text[], %(next)s::timestamptz[],
                            %(succeeded)s::timestamptz[], %(statuses)s::int[], %(errors)s::text[])
                    AS v(id, state, next_attempt_at, succeeded_at, status, error)
                WHERE d.id = v.id
                """,  # noqa: S608 - the table name is code; values go as parameters
                {
                    "now": now,
                    "ids": [row[0].claimed.id for row in rows],
                    "states": [str(row[1]) for row in rows],
                    "next": [row[2] for row in rows],
                    "succeeded": [row[3] for row in rows],
                    "statuses": [row[0].status for row in rows],
                    "errors": [row[4] for row in rows],
                },
            )
        if endpoint.failing_since is not None and any(row[1] == DeliveryState.SUCCEEDED for row in rows):
            # Only when it was failing: a busy endpoint's row is not rewritten on every success.
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
            endpoint.failing_since = None
        disabled = False
        if any(row[0].status == 410 for row in rows):
            disabled = endpoint_disable(endpoint=endpoint, reason="The receiver answered 410 Gone.")
        elif any(row[1] != DeliveryState.SUCCEEDED for row in rows):
            disabled = _note_failure(endpoint, now)
        retries = [row for row in rows if row[1] == DeliveryState.PENDING]
        if retries and not disabled:
            # Retries due before the next sweep get a message of their own, when the last of them is
            # due (jitter spreads them by a second or so); later ones are the sweep's to send. A
            # countdown of hours would also outlive the broker's visibility timeout and come back.
            soon = [row for row in retries if (row[2] - now).total_seconds() <= settings.WEBHOOK_SWEEP_SECONDS]
            if soon:
                wait = max((row[2] - timezone.now()).total_seconds() for row in soon)
                deliveries_enqueue([str(row[0].claimed.id) for row in soon], countdown=max(0.0, wait))
    return disabled


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> bool:
    """Mark the endpoint failing since now unless it already was; disable it (answering True) once
    that has lasted WEBHOOK_DISABLE_AFTER_HOURS."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    since = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).first()
    endpoint.failing_since = since  # a later success of the same task clears it
    if since and now - since > timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS):
        return endpoint_disable(
            endpoint=endpoint,
            reason=f"Every delivery failed for more than {settings.WEBHOOK_DISABLE_AFTER_HOURS} hours.",
        )
    return False


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> bool:
    """Stop sending to the endpoint; its pending deliveries fail and the tenant's admins are told.
    Answers whether it was active until now."""
    updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason
    )
    if updated:
        Delivery.objects.filter(endpoint=endpoint, state=DeliveryState.PENDING).update(
            state=DeliveryState.FAILED, next_attempt_at=None, last_error=f"Endpoint disabled: {reason}"
        )
        audit_record(
            tenant=endpoint.tenant,
            actor=SYSTEM_ACTOR,
            action="webhook_endpoint.disabled",
            target=endpoint,
            data={"url": endpoint.url, "reason": reason},
        )
        transaction.on_commit(lambda: _tell_admins(endpoint, reason), robust=True)
    return bool(updated)


def _tell_admins(endpoint: WebhookEndpoint, reason: str) -> None:
    admins = Membership.objects.filter(tenant_id=endpoint.tenant_id, role=Role.ADMIN).exclude(user__email="")
    recipients = sorted(admins.values_list("user__email", flat=True))
    if recipients:
        send_mail(
            subject=f"Tripline: webhook endpoint disabled ({endpoint.url})",
            message=(
                f"Deliveries to {endpoint.url} stopped: {reason}\n"
                "Fix the receiver, then re-activate the endpoint (PATCH webhook-endpoints/{id}/ with "
                '{"is_active": true}) and redeliver what failed from webhook-deliveries/.'
            ),
            from_email=None,
            recipient_list=recipients,
            fail_silently=True,
        )


def deliveries_due_enqueue(*, limit: int = 1000) -> int:
    """Queue an attempt of each pending delivery whose time has come and that has no message on the
    queue (retries beyond the sweep period, a dead worker's attempt, a message lost with Redis);
    answer how many. One queued at a time per delivery, so a backlog is not queued over again."""
    now = timezone.now()
    with transaction.atomic():
        due = (
            Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .filter(Q(queued_until__isnull=True) | Q(queued_until__lte=now))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
        )
        ids = [str(pk) for pk in due.values_list("pk", flat=True)[:limit]]
        deliveries_enqueue(ids)
    return len(ids)


def deliveries_prune() -> int:
    """Forget successful deliveries past their retention."""
    horizon = timezone.now() - timedelta(days=settings.WEBHOOK_SUCCESS_RETENTION_DAYS)
    _, deleted = Delivery.objects.filter(state=DeliveryState.SUCCEEDED, succeeded_at__lt=horizon).delete()
    return deleted.get(Delivery._meta.label, 0)  # deliveries, not their cascaded attempts
