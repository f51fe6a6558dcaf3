"""Sending one delivery: sign, POST to the checked address, log the attempt, schedule the next.

Retries follow the Standard Webhooks schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
10 h) and go on beyond it (14 h, 20 h, 24 h) to cover more than 72 hours, each with ±10 % jitter.
Only a 2xx counts. ``Retry-After`` on 429 and 503 is honoured (never sooner than the schedule);
410 disables the endpoint; an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled and
the tenant's admins are told through the audit log.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import telemetry
from core.webhooks.models import Delivery, DeliveryAttempt, DeliveryState, OutboxEvent, WebhookEndpoint
from core.webhooks.relay import deliveries_enqueue
from core.webhooks.signing import signature_header
from core.webhooks.url_safety import UnsafeUrl, url_resolve
from tenants.models import Membership, Role
from tenants.principals import SYSTEM_ACTOR
from tenants.services import audit_record

# Seconds to wait after each failed attempt (the first attempt is immediate).
RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000, 50400, 72000, 86400]
RESPONSE_KEPT_BYTES = 4096
USER_AGENT = "Tripline-Webhooks/1"


def payload_for(event: OutboxEvent, endpoint: WebhookEndpoint) -> dict | None:
    """The event's data as the endpoint's audience gets it: the tenant's own endpoints its ``data``,
    a partner's the payload shaped for its kind; None when nothing of it is for that kind."""
    if endpoint.partner_id is None:
        return event.data
    return event.partner_payloads.get(endpoint.partner.kind)


def envelope(delivery: Delivery, data: dict) -> bytes:
    """The body, the same on every attempt: the event's type, time and the endpoint's payload."""
    event = delivery.event
    body = {"type": event.type, "timestamp": event.created_at.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(body, separators=(",", ":")).encode()


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    keep_previous = (
        endpoint.previous_secret and endpoint.previous_secret_expires_at and now < endpoint.previous_secret_expires_at
    )
    return [endpoint.secret, endpoint.previous_secret] if keep_previous else [endpoint.secret]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the address the safety check approved, with the URL's host for TLS and Host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def _post(url: str, headers: dict, body: bytes) -> tuple[int, dict, str]:
    scheme, host, port, address = url_resolve(url)
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address, settings.WEBHOOK_TIMEOUT_SECONDS)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(RESPONSE_KEPT_BYTES).decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text
    finally:
        connection.close()


def _claim(delivery_id: object) -> Delivery | None:
    """Take a due delivery for one attempt; its next attempt time becomes a lease past the timeout,
    and its queued message is spent."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint__partner")
            .filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        delivery.next_attempt_at = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 4)
        delivery.queued_until = None
        delivery.attempts += 1
        delivery.save(update_fields=["next_attempt_at", "queued_until", "attempts", "updated_at"])
    return delivery


def _retry_after(headers: dict) -> float | None:
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    return None


def delivery_attempt(*, delivery_id: object) -> Delivery | None:
    """One attempt of a due delivery; None when it is not due or another worker has it."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    endpoint, now = delivery.endpoint, timezone.now()
    if not endpoint.is_active:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED, last_error="The endpoint is disabled.", next_attempt_at=None
        )
        return delivery
    data = payload_for(delivery.event, endpoint)
    if data is None:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED, last_error="Nothing of this event is for this endpoint.", next_attempt_at=None
        )
        return delivery
    body = envelope(delivery, data)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.event.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_use(endpoint, now), delivery.event.event_id, timestamp, body),
    }
    started = time.monotonic()
    status, response_headers, text, error = None, {}, "", ""
    try:
        status, response_headers, text = _post(endpoint.url, headers, body)
    except UnsafeUrl as exc:
        error = str(exc)
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    seconds = time.monotonic() - started
    _record(delivery, endpoint, status, response_headers, text, error, int(seconds * 1000))
    telemetry.WEBHOOK_ATTEMPTS.labels(outcome=attempt_outcome(status)).inc()
    telemetry.WEBHOOK_ATTEMPT_DURATION.observe(seconds)
    return delivery


def attempt_outcome(status: int | None) -> str:
    """An attempt's outcome as the metrics count it: few values, whatever the receiver answers."""
    if status is None:
        return "no_response"
    if 200 <= status < 300:
        return "success"
    return "client_error" if 400 <= status < 500 else "server_error"


def _record(
    delivery: Delivery,
    endpoint: WebhookEndpoint,
    status: int | None,
    headers: dict,
    text: str,
    error: str,
    duration_ms: int,
) -> None:
    now = timezone.now()
    succeeded = status is not None and 200 <= status < 300
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            tenant_id=delivery.tenant_id,
            delivery=delivery,
            attempted_at=now,
            status_code=status,
            duration_ms=duration_ms,
            response_body=text,
            error=error,
        )
        delivery.last_status_code, delivery.last_error = status, error or ("" if succeeded else f"HTTP {status}")
        if succeeded:
            delivery.state, delivery.succeeded_at, delivery.next_attempt_at = DeliveryState.SUCCEEDED, now, None
            # Only when it was failing: a busy endpoint's row is not rewritten on every success.
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        elif status == 410:
            delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
            endpoint_disable(endpoint=endpoint, reason="The receiver answered 410 Gone.")
        elif delivery.attempts > len(RETRY_SCHEDULE):
            delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
        else:
            wait = RETRY_SCHEDULE[delivery.attempts - 1] * random.uniform(0.9, 1.1)  # noqa: S311 - jitter only
            if status in (429, 503):
                wait = max(wait, _retry_after(headers) or 0)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
        delivery.save(
            update_fields=["state", "succeeded_at", "next_attempt_at", "last_status_code", "last_error", "updated_at"]
        )
        if not succeeded and status != 410:
            _note_failure(endpoint, now)
        if delivery.state == DeliveryState.PENDING:
            wait = max(0.0, (delivery.next_attempt_at - timezone.now()).total_seconds())
            # A retry due before the next sweep gets its own task; a later one is the sweep's to send.
            # A countdown of hours would also outlive the broker's visibility timeout and come back.
            if wait <= settings.WEBHOOK_SWEEP_SECONDS:
                deliveries_enqueue([str(delivery.pk)], countdown=wait)


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    since = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).first()
    if since and now - since > timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS):
        endpoint_disable(
            endpoint=endpoint,
            reason=f"Every delivery failed for more than {settings.WEBHOOK_DISABLE_AFTER_HOURS} hours.",
        )


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to the endpoint; its pending deliveries fail and the tenant's admins are told."""
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
