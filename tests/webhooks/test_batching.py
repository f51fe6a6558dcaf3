"""Delivery in batches: an endpoint's due deliveries go out in a few statements over kept connections,
each arriving once and signed; a connection the receiver dropped is replaced; retries, Retry-After,
410 and disabling hold for every delivery of a batch; and, with a real worker deployed as the docs
say, a slow receiver does not hold up a fast one."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core.webhooks.connections import POOL
from core.webhooks.models import Delivery, DeliveryAttempt, DeliveryState, WebhookEndpoint
from core.webhooks.outbox import Event, outbox_emit
from tests.support.keepalive_receiver import keepalive_receiver
from tests.support.waiting import wait_for
from workers.tasks.webhooks import webhooks_deliver_endpoint, webhooks_relay

EVENT = "evaluation.completed"


@pytest.fixture(autouse=True)
def _no_kept_connections():
    """Each test counts the connections it opens: none is left from another test."""
    POOL.close_all()
    yield
    POOL.close_all()


def subscribe(world, target: str) -> dict:
    response = world.admin.client.post(
        f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/",
        {"url": target, "event_types": [EVENT]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def emit(world, count: int, start: int = 0) -> None:
    """``count`` events, relayed into pending deliveries of the subscribed endpoints."""
    data = {"run_id": "00000000-0000-0000-0000-000000000000", "trigger": "manual", "positions": 0, "counts": {}}
    outbox_emit(
        [Event(tenant_id=world.tenant.pk, type=EVENT, data={**data, "positions": start + n}) for n in range(count)]
    )
    webhooks_relay()


def test_a_batch_arrives_once_each_signed_over_few_connections_in_few_statements(
    world, settings, django_assert_max_num_queries
) -> None:
    settings.WEBHOOK_BATCH_SIZE, settings.WEBHOOK_ENDPOINT_CONCURRENCY = 50, 2
    with keepalive_receiver() as receiver:
        endpoint = subscribe(world, receiver.url())
        emit(world, 120)
        # Three batches of 50, each a claim, a COPY of the attempts and an update (with their
        # transaction statements); one task and two transactions per delivery would be 240 and more.
        with django_assert_max_num_queries(45):
            assert webhooks_deliver_endpoint(endpoint["id"]) == 120
    assert len(receiver.requests) == 120
    for request in receiver.requests:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
    deliveries = Delivery.objects.filter(endpoint_id=endpoint["id"]).select_related("event")
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(d.event.event_id for d in deliveries)
    assert {(d.state, d.attempts) for d in deliveries} == {(DeliveryState.SUCCEEDED, 1)}
    assert DeliveryAttempt.objects.filter(delivery__endpoint_id=endpoint["id"], status_code=200).count() == 120
    assert receiver.connections <= 2  # kept open: one per concurrent sender, not one per request
    assert receiver.most_in_flight <= 2


def test_a_kept_connection_serves_later_tasks_and_one_the_receiver_dropped_is_replaced(world, settings) -> None:
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 1
    with keepalive_receiver() as receiver:
        endpoint = subscribe(world, receiver.url())
        for round_ in range(2):
            emit(world, 1, start=round_)
            assert webhooks_deliver_endpoint(endpoint["id"]) == 1
        assert (len(receiver.requests), receiver.connections) == (2, 1)
        # The receiver closes its end after the next answer without saying so (an idle timeout):
        # the request after it goes on a new connection, as one attempt.
        receiver.close_after_each = True
        emit(world, 2, start=2)
        assert webhooks_deliver_endpoint(endpoint["id"]) == 2
    # Each request once: the one sent on the dropped connection failed before the receiver read it.
    assert [request.connection for request in receiver.requests] == [1, 1, 1, 2]
    assert set(Delivery.objects.filter(endpoint_id=endpoint["id"]).values_list("state", "attempts")) == {
        (DeliveryState.SUCCEEDED, 1)
    }


def test_an_idle_connection_is_not_kept_past_its_time(world, settings) -> None:
    settings.WEBHOOK_ENDPOINT_CONCURRENCY, settings.WEBHOOK_KEEPALIVE_SECONDS = 1, 0
    with keepalive_receiver() as receiver:
        endpoint = subscribe(world, receiver.url())
        for round_ in range(2):
            emit(world, 1, start=round_)
            assert webhooks_deliver_endpoint(endpoint["id"]) == 1
    assert [request.connection for request in receiver.requests] == [1, 2]


def test_every_delivery_of_a_batch_is_retried_on_schedule_and_a_410_stops_the_batch(world, settings) -> None:
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 1  # the answers below go to the requests in order
    with keepalive_receiver() as receiver:
        receiver.script = [(500, {}), (429, {"Retry-After": "120"}), (200, {})]
        endpoint = subscribe(world, receiver.url())
        emit(world, 3)
        assert webhooks_deliver_endpoint(endpoint["id"]) == 3
        by_id = {
            d.event.event_id: d for d in Delivery.objects.filter(endpoint_id=endpoint["id"]).select_related("event")
        }
        first, second, third = [by_id[request.headers["webhook-id"]] for request in receiver.requests]
        now = timezone.now()
        assert first.state == DeliveryState.PENDING
        assert timedelta(seconds=4) < first.next_attempt_at - now < timedelta(seconds=6)  # 5 s ± 10 %
        assert second.state == DeliveryState.PENDING
        assert second.next_attempt_at - now > timedelta(seconds=110)  # Retry-After, not the 5 s schedule
        assert (third.state, third.last_status_code) == (DeliveryState.SUCCEEDED, 200)
        assert webhooks_deliver_endpoint(endpoint["id"]) == 0  # the retries are not due yet

        # The first one's retry is due with three new events: the receiver answers 410 to the first request.
        Delivery.objects.filter(pk=first.pk).update(next_attempt_at=now - timedelta(seconds=1))
        receiver.script = [(410, {})]
        emit(world, 3, start=3)
        assert webhooks_deliver_endpoint(endpoint["id"]) == 1
        assert len(receiver.requests) == 4  # nothing after the 410
    assert receiver.requests[3].headers["webhook-id"] == receiver.requests[0].headers["webhook-id"]  # oldest first
    states = dict(Delivery.objects.filter(endpoint_id=endpoint["id"]).values_list("pk", "state"))
    assert states.pop(third.pk) == DeliveryState.SUCCEEDED
    assert set(states.values()) == {DeliveryState.FAILED}  # the 410, the retry and the three never sent
    never_sent = Delivery.objects.filter(endpoint_id=endpoint["id"], attempt_log__isnull=True)
    assert list(never_sent.values_list("attempts", flat=True)) == [0, 0, 0]
    assert DeliveryAttempt.objects.filter(delivery__endpoint_id=endpoint["id"]).count() == 4
    shown = WebhookEndpoint.objects.get(pk=endpoint["id"])
    assert not shown.is_active
    assert "410" in shown.disabled_reason
    assert shown.sending_until is None  # let go of


def test_a_batch_failing_past_the_limit_disables_the_endpoint_and_tells_the_admins(
    world, settings, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with keepalive_receiver() as receiver:
        receiver.script = [(500, {})] * 3
        endpoint = subscribe(world, receiver.url())
        WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
            failing_since=timezone.now() - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS + 1)
        )
        emit(world, 3)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_deliver_endpoint(endpoint["id"])
    shown = WebhookEndpoint.objects.get(pk=endpoint["id"])
    assert not shown.is_active
    assert f"{settings.WEBHOOK_DISABLE_AFTER_HOURS} hours" in shown.disabled_reason
    assert set(Delivery.objects.filter(endpoint_id=endpoint["id"]).values_list("state", flat=True)) == {
        DeliveryState.FAILED
    }
    (mail,) = mailoutbox
    assert mail.to == [world.admin.user.email]


# --- With a real worker, deployed as docs/webhooks.md says: prefork, two children --------------


@pytest.fixture(scope="module")
def celery_worker_pool() -> list[str]:
    return ["-P", "prefork", "-c", "2"]


@pytest.fixture(scope="module")
def celery_worker_env() -> dict[str, str]:
    # The default batch time: a slow endpoint's task may keep its child this long.
    return {"WEBHOOK_ENDPOINT_CONCURRENCY": "2", "WEBHOOK_BATCH_SECONDS": "5"}


@pytest.mark.usefixtures("transactional_db")
def test_a_slow_receiver_does_not_hold_up_a_fast_one(world, other_world, celery_worker_process) -> None:
    with keepalive_receiver() as slow, keepalive_receiver() as fast:
        slow.delay = 1.0
        subscribe(world, slow.url())
        subscribe(other_world, fast.url())
        # The slow endpoint's task is under way (its first requests hang) when the fast one's events commit.
        emit_through_worker(world, 10)
        wait_for(lambda: slow.requests, "the slow receiver's first request")
        started = time.monotonic()
        emit_through_worker(other_world, 40)
        wait_for(lambda: len(fast.requests) == 40, "the fast receiver's 40 deliveries", timeout=60)
        fast_done = time.monotonic() - started
        slow_seen = len(slow.requests)
        wait_for(lambda: len(slow.requests) == 10, "the slow receiver's 10 deliveries", timeout=60)
        # 10 requests of 1 s each, two at a time, take 5 s at least: the fast one was served meanwhile,
        # by the other child, not after the slow one's task gave its child up (5 s).
        assert slow_seen < 10, f"the fast receiver waited for the slow one ({fast_done:.1f} s)"
        assert fast_done < 3.0
        assert slow.most_in_flight <= 2  # WEBHOOK_ENDPOINT_CONCURRENCY, whatever the queue holds
        wait_for(lambda: not Delivery.objects.filter(state=DeliveryState.PENDING).exists(), "the attempts recorded")
    assert Delivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 50


def emit_through_worker(world, count: int) -> None:
    """Commit ``count`` events; the worker relays and delivers them (nothing runs in this process)."""
    data = {"run_id": "00000000-0000-0000-0000-000000000000", "trigger": "manual", "positions": 0, "counts": {}}
    outbox_emit([Event(tenant_id=world.tenant.pk, type=EVENT, data={**data, "positions": n}) for n in range(count)])
