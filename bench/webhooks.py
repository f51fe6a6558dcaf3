"""Webhook benchmark: outbox to receiver through a real Celery worker, against plain HTTP (the floor).

One run, one local receiver on 127.0.0.1 (a process of its own, answering 200 at once and then
verifying every request with the ``standardwebhooks`` library, so only correct deliveries count):

- **throughput**: N events emitted with ``outbox_emit`` in one transaction, for one tenant with one
  subscribed endpoint; timed from the commit until the receiver has all N. The floor: the same
  number of signed POSTs sent one after the other from the bench process with http.client (a new
  connection each, as the product makes them).
- **outbox lag**: single-event commits spaced out; each event's commit time (taken in the bench
  process the moment the transaction commits) against its arrival at the receiver.
- **relay limit** (diagnostic): one commit of more events than one relay pass takes; how many
  arrive while no beat runs.

The worker is ``celery -A workers worker -Q webhooks,outbox,default`` with production settings and
WEBHOOK_ALLOW_LOOPBACK=1, once per pool setting in BENCH_WEBHOOK_POOLS (default
``prefork:1``, the deployed single child; ``threads:8`` loses deliveries, see bench/README.md).
Times on both sides are CLOCK_MONOTONIC (``time.monotonic``), which processes share on Linux.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from tqdm import tqdm

from bench.harness import Case, celery_worker, percentile, progress
from core.webhooks.delivery import USER_AGENT
from core.webhooks.models import Delivery, DeliveryState, OutboxEvent
from core.webhooks.outbox import Event, event_id_new, outbox_emit
from core.webhooks.relay import outbox_relay
from core.webhooks.services import endpoint_create
from core.webhooks.signing import signature_header
from tenants import services

EVENT_TYPE = "evaluation.completed"
THROUGHPUT_EVENTS = 2000
LAG_EVENTS = 200
LAG_SPACING_SECONDS = 0.05
WARM_UP_EVENTS = 3  # the worker's first tasks (imports, connections) are not counted
RELAY_LIMIT = 2000  # outbox_relay's default limit: one pass fans out this many events
RECEIVER_PATH = "/hooks/tripline"
STALL_SECONDS = 20  # no arrival for this long: the rest is not coming (no beat sweep runs here)


# --- The receiver (its own process) ----------------------------------------------------------


def _receiver_main(control: Connection) -> None:
    """Answers 200 at once, then verifies; records (arrival, webhook-id, seq, verified) per request."""
    lock = threading.Lock()
    state: dict = {"secret": None, "target": 0, "records": []}
    complete = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived = time.monotonic()
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(state["secret"]).verify(body, headers)
                seq, verified = payload["data"].get("seq"), True
            except (WebhookVerificationError, ValueError, KeyError, TypeError):
                seq, verified = None, False
            with lock:
                state["records"].append((arrived, headers.get("webhook-id"), seq, verified))
                if len(state["records"]) >= state["target"]:
                    complete.set()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, daemon=True).start()
    control.send(server.server_address[1])
    while True:
        command, *args = control.recv()
        if command == "expect":  # a new phase: its secret and how many requests complete it
            with lock:
                state["secret"], state["target"], state["records"] = args[0], args[1], []
                complete.clear()
            control.send("ok")
        elif command == "wait":  # up to this many seconds for the phase to complete; the count so far
            complete.wait(args[0])
            with lock:
                control.send(len(state["records"]))
        elif command == "records":
            with lock:
                control.send(list(state["records"]))
        else:
            break
    server.shutdown()
    server.server_close()


class Receiver:
    def __init__(self, control: Connection, port: int) -> None:
        self._control, self.port = control, port
        self.url = f"http://127.0.0.1:{port}{RECEIVER_PATH}"

    def _ask(self, *command: object) -> object:
        self._control.send(command)
        return self._control.recv()

    def expect(self, secret: str, count: int) -> None:
        self._ask("expect", secret, count)

    def wait(self, count: int, timeout: float, label: str, worker: subprocess.Popen | None = None) -> int:
        """Until ``count`` requests arrived (a tqdm bar follows them), the worker died, time ran out
        or nothing arrived for STALL_SECONDS (after a first arrival)."""
        deadline = time.monotonic() + timeout
        last, last_change = 0, time.monotonic()
        with tqdm(total=count, desc=label, unit="req", file=sys.stderr, dynamic_ncols=True) as bar:
            while True:
                seen = self._ask("wait", 0.5)
                bar.update(seen - bar.n)
                if seen >= count:
                    return seen
                if worker is not None and worker.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited with {worker.returncode}")
                now = time.monotonic()
                if seen != last:
                    last, last_change = seen, now
                if now > deadline or (seen and now - last_change > STALL_SECONDS):
                    return seen

    def arrived(self, wait: float = 0.0) -> int:
        """How many requests arrived so far, after waiting up to ``wait`` seconds for the phase."""
        return self._ask("wait", wait)

    def records(self) -> list[tuple[float, str, int | None, bool]]:
        return self._ask("records")


@contextlib.contextmanager
def _receiver() -> Iterator[Receiver]:
    # Forked before any worker starts; the child never touches the parent's database connection
    # and leaves through os._exit, so nothing of the parent's is closed or flushed from it.
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_receiver_main, args=(child,), daemon=True)
    process.start()
    try:
        yield Receiver(parent, parent.recv())
    finally:
        with contextlib.suppress(OSError):
            parent.send(("stop",))
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join()


# --- The worker ------------------------------------------------------------------------------


def _pools() -> list[tuple[str, int]]:
    pools = []
    for item in os.environ.get("BENCH_WEBHOOK_POOLS", "prefork:1").split(","):
        pool, _, concurrency = item.strip().partition(":")
        pools.append((pool, int(concurrency or 1)))
    return pools


# --- Phases ----------------------------------------------------------------------------------


def _emit(tenant, phase: str, seqs: range) -> float:  # noqa: ANN001
    """Emit one event per seq in one transaction; answer the monotonic time of its commit."""
    committed = []
    with transaction.atomic():
        # Registered before outbox_emit's hook, so it runs first, right after the COMMIT.
        transaction.on_commit(lambda: committed.append(time.monotonic()))
        outbox_emit(
            [
                Event(
                    tenant_id=tenant.pk,
                    type=EVENT_TYPE,
                    data={"seq": seq, "phase": phase, "run_id": str(uuid.uuid4()), "trigger": "bench", "positions": 1},
                )
                for seq in seqs
            ]
        )
    return committed[0]


def _checked(records: list, expected: int, what: str) -> dict[int, float]:
    """Every request verified, every seq once: the first arrival of each seq."""
    bad = sum(1 for record in records if not record[3])
    if bad:
        raise RuntimeError(f"{what}: {bad} of {len(records)} requests failed signature verification")
    arrivals: dict[int, float] = {}
    for arrived, _, seq, _ in records:
        arrivals[seq] = min(arrived, arrivals.get(seq, arrived))
    if len(arrivals) != expected:
        raise RuntimeError(f"{what}: {len(arrivals)} distinct events of {expected} arrived")
    return arrivals


def _http_floor(receiver: Receiver, count: int) -> float:
    """The same number of signed POSTs, one after the other, from this process: seconds taken."""
    secret = "whsec_" + "QkVOQ0hCRU5DSEJFTkNIQkVOQ0hCRU5DSEJFTkNIQkU="
    receiver.expect(secret, count)
    started = time.monotonic()
    for seq in progress(range(count), "webhooks: HTTP floor, sequential signed POSTs"):
        data = {"seq": seq, "phase": "floor", "run_id": str(uuid.uuid4()), "trigger": "bench", "positions": 1}
        body = json.dumps(
            {"type": EVENT_TYPE, "timestamp": "2026-11-24T00:00:00Z", "data": data}, separators=(",", ":")
        ).encode()
        message_id, timestamp = event_id_new(), int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header([secret], message_id, timestamp, body),
        }
        connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=15)
        try:
            connection.request("POST", RECEIVER_PATH, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"the receiver answered {response.status}")
    seconds = time.monotonic() - started
    receiver.wait(count, 30, "webhooks: floor verified")
    _checked(receiver.records(), count, "HTTP floor")
    return seconds


def _endpoint(receiver: Receiver, label: str) -> tuple[object, object, str]:
    tenant = services.tenant_create(slug=f"bench-hooks-{uuid.uuid4().hex[:8]}", name=f"Bench webhooks {label}")
    endpoint, secret = endpoint_create(tenant=tenant, actor="bench", url=receiver.url, event_types=[EVENT_TYPE])
    return tenant, endpoint, secret


def _deliveries(endpoint, settle_seconds: float = 10.0) -> dict:  # noqa: ANN001
    """The endpoint's delivery counts once the worker has recorded the last answers: the receiver
    has a request before the worker commits its success, so the last few may still be pending."""
    deadline = time.monotonic() + settle_seconds
    while True:
        counts = Delivery.objects.filter(endpoint=endpoint).aggregate(
            total=Count("id"),
            succeeded=Count("id", filter=Q(state=DeliveryState.SUCCEEDED)),
            retried=Count("id", filter=Q(attempts__gt=1)),
        )
        if counts["succeeded"] == counts["total"] or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def _missing(endpoint) -> str:  # noqa: ANN001
    """Why events did not arrive: deliveries left pending, and whether their tasks are queued."""
    import redis

    queued = redis.Redis.from_url(settings.REDIS_URL).llen("webhooks")
    return (
        f"not every event arrived; deliveries {_deliveries(endpoint)}, "
        f"{queued} tasks in the webhooks queue, unrelayed events "
        f"{OutboxEvent.objects.filter(tenant_id=endpoint.tenant_id, relayed_at__isnull=True).count()}"
    )


def _with_worker(receiver: Receiver, pool: str, concurrency: int, events: int, relay_check: bool) -> dict:
    label = f"{pool}_c{concurrency}"
    figures: dict = {}
    with celery_worker(
        "webhooks,outbox,default", pool=pool, concurrency=concurrency, WEBHOOK_ALLOW_LOOPBACK="1"
    ) as worker:
        # Warm-up, and the proof the worker consumes: a few events delivered end to end.
        tenant, endpoint, secret = _endpoint(receiver, label)
        receiver.expect(secret, WARM_UP_EVENTS)
        _emit(tenant, "warm-up", range(WARM_UP_EVENTS))
        if receiver.wait(WARM_UP_EVENTS, 120, f"webhooks {label}: warm-up", worker) < WARM_UP_EVENTS:
            raise RuntimeError(f"{label} warm-up: {_missing(endpoint)}")

        # Throughput: N events, one commit, one endpoint.
        tenant, endpoint, secret = _endpoint(receiver, label)
        receiver.expect(secret, events)
        committed = _emit(tenant, "burst", range(events))
        if receiver.wait(events, 600, f"webhooks {label}: {events:,} events, one commit", worker) < events:
            raise RuntimeError(f"{label} burst: {_missing(endpoint)}")
        arrivals = _checked(receiver.records(), events, f"{label} burst")
        seconds = max(arrivals.values()) - committed
        burst = _deliveries(endpoint)
        figures[f"{label}_events_per_second"] = round(events / seconds)
        figures[f"{label}_burst_seconds"] = round(seconds, 2)
        figures[f"{label}_burst_first_arrival_seconds"] = round(min(arrivals.values()) - committed, 3)

        # Outbox lag: single-event commits, spaced out.
        tenant, endpoint, secret = _endpoint(receiver, label)
        receiver.expect(secret, LAG_EVENTS)
        commits: dict[int, float] = {}
        started = time.monotonic()
        for seq in progress(range(LAG_EVENTS), f"webhooks {label}: single-event commits every 50 ms"):
            pause = started + seq * LAG_SPACING_SECONDS - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            commits[seq] = _emit(tenant, "lag", range(seq, seq + 1))
        if receiver.wait(LAG_EVENTS, 120, f"webhooks {label}: lag deliveries", worker) < LAG_EVENTS:
            raise RuntimeError(f"{label} lag: {_missing(endpoint)}")
        time.sleep(1)  # any duplicate delivery would arrive now
        records = receiver.records()
        arrivals = _checked(records, LAG_EVENTS, f"{label} lag")
        lags = [arrivals[seq] - commits[seq] for seq in commits]
        lag = _deliveries(endpoint)
        figures[f"{label}_lag_p50_ms"] = round(percentile(lags, 0.50) * 1000, 1)
        figures[f"{label}_lag_p99_ms"] = round(percentile(lags, 0.99) * 1000, 1)
        figures[f"{label}_lag_max_ms"] = round(max(lags) * 1000, 1)
        figures[f"{label}_duplicate_requests"] = len(records) - LAG_EVENTS
        for name, counts in (("burst", burst), ("lag", lag)):
            if counts["succeeded"] != counts["total"] or counts["retried"]:
                raise RuntimeError(f"{label} {name}: deliveries {counts}, expected all succeeded at the first try")

        if relay_check:
            figures.update(_relay_limit(receiver, worker))
    return figures


def _relay_limit(receiver: Receiver, worker: subprocess.Popen) -> dict:
    """One commit of RELAY_LIMIT + 100 events, no beat: how many arrive, how many stay unrelayed."""
    tenant, _, secret = _endpoint(receiver, "relay-limit")
    count = RELAY_LIMIT + 100
    receiver.expect(secret, count)
    _emit(tenant, "over-limit", range(count))
    receiver.wait(RELAY_LIMIT, 120, f"webhooks: {count:,} events in one commit", worker)
    arrived = receiver.wait(count, 10, "webhooks: 10 s more for the rest", worker)
    unrelayed = OutboxEvent.objects.filter(tenant=tenant, relayed_at__isnull=True).count()
    return {
        "relay_limit_burst_events": count,
        "relay_limit_arrived_after_10s_more": arrived,
        "relay_limit_unrelayed_after_10s_more": unrelayed,
    }


def run(case: Case) -> dict:
    import redis

    settings.WEBHOOK_ALLOW_LOOPBACK = True  # endpoint_create checks the receiver's loopback URL
    # Events other cases emitted (the engine's alerts) are relayed first, as the beat would, so the
    # relay passes timed here see only this case's events; then our Redis database is emptied.
    while OutboxEvent.objects.filter(relayed_at__isnull=True).exists():
        outbox_relay(limit=50_000)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    figures: dict = {"events": THROUGHPUT_EVENTS, "lag_events": LAG_EVENTS, "lag_spacing_ms": 50}
    pools = _pools()
    with _receiver() as receiver:
        floor_seconds = _http_floor(receiver, THROUGHPUT_EVENTS)
        floor_rate = THROUGHPUT_EVENTS / floor_seconds
        figures["http_floor_posts_per_second"] = round(floor_rate)
        figures["http_floor_seconds"] = round(floor_seconds, 2)
        for index, (pool, concurrency) in enumerate(pools):
            redis.Redis.from_url(settings.REDIS_URL).flushdb()
            result = _with_worker(receiver, pool, concurrency, THROUGHPUT_EVENTS, relay_check=index == len(pools) - 1)
            label = f"{pool}_c{concurrency}"
            result[f"{label}_ratio_to_http_floor"] = round(result[f"{label}_events_per_second"] / floor_rate, 3)
            figures.update(result)
    return figures
