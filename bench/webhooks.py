"""Webhook benchmark: outbox to receiver through a real Celery worker, against plain HTTP (the floor).

One run, one local receiver on 127.0.0.1 (a process of its own, HTTP/1.1 with keep-alive as most
receivers are, answering 200 at once and then verifying every request with the ``standardwebhooks``
library, so only correct deliveries count; it also counts the connections it was opened):

- **throughput**: N events emitted with ``outbox_emit`` in one transaction, for one tenant with one
  subscribed endpoint; timed from the commit until the receiver has all N. The floor: the same
  number of signed POSTs sent one after the other from the bench process with http.client (a new
  connection each).
- **fan-out**: 20 tenants with an endpoint each (its own path at the receiver), 1,000 events each,
  all 20,000 in one transaction; timed the same way, against its own floor: 20,000 signed POSTs to
  the 20 paths in turn, one after the other, a new connection each.
- **outbox lag**: single-event commits spaced out; each event's commit time (taken in the bench
  process the moment the transaction commits) against its arrival at the receiver.
- **relay limit** (diagnostic): one commit of more events than one relay pass takes; how many
  arrive while no beat runs.

The worker is ``celery -A workers worker -Q webhooks,outbox,default`` with production settings and
WEBHOOK_ALLOW_LOOPBACK=1, once per pool setting in BENCH_WEBHOOK_POOLS (default ``prefork:2``, as
docs/webhooks.md says to deploy it; ``prefork:1`` for the earlier figures).
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
FANOUT_ENDPOINTS = 20
FANOUT_EVENTS_PER_ENDPOINT = 1000
STALL_SECONDS = 20  # no arrival for this long: the rest is not coming (no beat sweep runs here)


# --- The receiver (its own process) ----------------------------------------------------------


def _receiver_main(control: Connection) -> None:
    """Answers 200 at once, then verifies with the secret of the path it was sent to; records
    (arrival, path, webhook-id, seq, verified) per request and counts connections."""
    lock = threading.Lock()
    state: dict = {"secrets": {}, "target": 0, "records": [], "connections": 0}
    complete = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as most receivers (and every proxy) answer
        # The status line and headers go in one write, the body in another: with Nagle's algorithm
        # the body waits for the client's delayed ACK (40 ms) on a kept connection. Servers in
        # production (nginx, gunicorn, uvicorn) set TCP_NODELAY; so does this one.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with lock:
                state["connections"] += 1

        def do_POST(self) -> None:
            arrived = time.monotonic()
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(state["secrets"][self.path]).verify(body, headers)
                seq, verified = payload["data"].get("seq"), True
            except (WebhookVerificationError, ValueError, KeyError, TypeError):
                seq, verified = None, False
            with lock:
                state["records"].append((arrived, self.path, headers.get("webhook-id"), seq, verified))
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
        if command == "expect":  # a new phase: the secret of each path and how many requests complete it
            with lock:
                state["secrets"], state["target"], state["records"], state["connections"] = args[0], args[1], [], 0
                complete.clear()
            control.send("ok")
        elif command == "wait":  # up to this many seconds for the phase to complete; the count so far
            complete.wait(args[0])
            with lock:
                control.send(len(state["records"]))
        elif command == "records":
            with lock:
                control.send(list(state["records"]))
        elif command == "connections":
            with lock:
                control.send(state["connections"])
        else:
            break
    server.shutdown()
    server.server_close()


class Receiver:
    def __init__(self, control: Connection, port: int) -> None:
        self._control, self.port = control, port

    def url(self, path: str = RECEIVER_PATH) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _ask(self, *command: object) -> object:
        self._control.send(command)
        return self._control.recv()

    def expect(self, secrets: dict[str, str], count: int) -> None:
        """A new phase: the secret each path verifies with, and how many requests complete it."""
        self._ask("expect", secrets, count)

    def connections(self) -> int:
        """Connections opened to the receiver in this phase."""
        return self._ask("connections")

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

    def records(self) -> list[tuple[float, str, str, int | None, bool]]:
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
    for item in os.environ.get("BENCH_WEBHOOK_POOLS", "prefork:2").split(","):
        pool, _, concurrency = item.strip().partition(":")
        pools.append((pool, int(concurrency or 1)))
    return pools


# --- Phases ----------------------------------------------------------------------------------


def _emit(tenants: list, phase: str, seqs: range) -> float:
    """Emit one event per seq for each tenant in one transaction; answer the monotonic time of its commit."""
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
                for tenant in tenants
                for seq in seqs
            ]
        )
    return committed[0]


def _checked(records: list, expected: int, what: str) -> dict[tuple[str, int], float]:
    """Every request verified, every (path, seq) once: the first arrival of each."""
    bad = sum(1 for record in records if not record[4])
    if bad:
        raise RuntimeError(f"{what}: {bad} of {len(records)} requests failed signature verification")
    arrivals: dict[tuple[str, int], float] = {}
    for arrived, path, _, seq, _ in records:
        arrivals[(path, seq)] = min(arrived, arrivals.get((path, seq), arrived))
    if len(arrivals) != expected:
        raise RuntimeError(f"{what}: {len(arrivals)} distinct events of {expected} arrived")
    return arrivals


def _http_floor(receiver: Receiver, count: int, paths: list[str]) -> float:
    """The same number of signed POSTs, one after the other, from this process, to the paths in
    turn, a new connection each: seconds taken."""
    secret = "whsec_" + "QkVOQ0hCRU5DSEJFTkNIQkVOQ0hCRU5DSEJFTkNIQkU="
    receiver.expect(dict.fromkeys(paths, secret), count)
    started = time.monotonic()
    for seq in progress(range(count), f"webhooks: HTTP floor, {count:,} sequential signed POSTs"):
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
            connection.request("POST", paths[seq % len(paths)], body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"the receiver answered {response.status}")
    seconds = time.monotonic() - started
    receiver.wait(count, 60, "webhooks: floor verified")
    _checked(receiver.records(), count, "HTTP floor")
    return seconds


def _endpoints(receiver: Receiver, label: str, count: int = 1) -> tuple[list, list, dict[str, str]]:
    """``count`` tenants with one endpoint each, on a path of its own: (tenants, endpoints, secret by path)."""
    tenants, endpoints, secrets = [], [], {}
    run = uuid.uuid4().hex[:8]
    for index in range(count):
        tenant = services.tenant_create(slug=f"bench-hooks-{run}-{index}", name=f"Bench webhooks {label} {index}")
        path = f"{RECEIVER_PATH}/{run}/{index}"
        endpoint, secret = endpoint_create(
            tenant=tenant, actor="bench", url=receiver.url(path), event_types=[EVENT_TYPE]
        )
        tenants.append(tenant)
        endpoints.append(endpoint)
        secrets[path] = secret
    return tenants, endpoints, secrets


def _deliveries(endpoints: list, settle_seconds: float = 10.0) -> dict:
    """The endpoints' delivery counts once the worker has recorded the last answers: the receiver
    has a request before the worker commits its success, so the last few may still be pending."""
    deadline = time.monotonic() + settle_seconds
    while True:
        counts = Delivery.objects.filter(endpoint__in=endpoints).aggregate(
            total=Count("id"),
            succeeded=Count("id", filter=Q(state=DeliveryState.SUCCEEDED)),
            retried=Count("id", filter=Q(attempts__gt=1)),
        )
        if counts["succeeded"] == counts["total"] or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def _missing(endpoints: list) -> str:
    """Why events did not arrive: deliveries left pending, and whether their tasks are queued."""
    import redis

    queued = redis.Redis.from_url(settings.REDIS_URL).llen("webhooks")
    return (
        f"not every event arrived; deliveries {_deliveries(endpoints)}, "
        f"{queued} tasks in the webhooks queue, unrelayed events "
        f"{OutboxEvent.objects.filter(tenant_id__in=[e.tenant_id for e in endpoints], relayed_at__isnull=True).count()}"
    )


def _burst(receiver: Receiver, worker: subprocess.Popen, label: str, name: str, endpoints: int, each: int) -> dict:
    """One commit of ``each`` events for each of ``endpoints`` tenants: from the commit to the last arrival."""
    tenants, hooks, secrets = _endpoints(receiver, label, endpoints)
    events = endpoints * each
    receiver.expect(secrets, events)
    committed = _emit(tenants, name, range(each))
    what = f"webhooks {label}: {events:,} events to {endpoints} endpoint(s), one commit"
    if receiver.wait(events, 600, what, worker) < events:
        raise RuntimeError(f"{label} {name}: {_missing(hooks)}")
    time.sleep(0.5)  # any duplicate delivery would arrive now
    records = receiver.records()
    arrivals = _checked(records, events, f"{label} {name}")
    seconds = max(arrivals.values()) - committed
    counts = _deliveries(hooks)
    if counts["succeeded"] != counts["total"] or counts["retried"]:
        raise RuntimeError(f"{label} {name}: deliveries {counts}, expected all succeeded at the first try")
    return {
        f"{label}_{name}_events_per_second": round(events / seconds),
        f"{label}_{name}_seconds": round(seconds, 2),
        f"{label}_{name}_first_arrival_seconds": round(min(arrivals.values()) - committed, 3),
        f"{label}_{name}_connections": receiver.connections(),
        f"{label}_{name}_duplicate_requests": len(records) - events,
    }


def _with_worker(receiver: Receiver, pool: str, concurrency: int, relay_check: bool) -> dict:
    label = f"{pool}_c{concurrency}"
    figures: dict = {}
    with celery_worker(
        "webhooks,outbox,default", pool=pool, concurrency=concurrency, WEBHOOK_ALLOW_LOOPBACK="1"
    ) as worker:
        # Warm-up, and the proof the worker consumes: a few events delivered end to end.
        tenants, endpoints, secrets = _endpoints(receiver, label)
        receiver.expect(secrets, WARM_UP_EVENTS)
        _emit(tenants, "warm-up", range(WARM_UP_EVENTS))
        if receiver.wait(WARM_UP_EVENTS, 120, f"webhooks {label}: warm-up", worker) < WARM_UP_EVENTS:
            raise RuntimeError(f"{label} warm-up: {_missing(endpoints)}")

        # Throughput: N events, one commit, one endpoint; then the fan-out to 20 endpoints.
        figures.update(_burst(receiver, worker, label, "burst", 1, THROUGHPUT_EVENTS))
        figures.update(_burst(receiver, worker, label, "fanout", FANOUT_ENDPOINTS, FANOUT_EVENTS_PER_ENDPOINT))

        # Outbox lag: single-event commits, spaced out.
        tenants, endpoints, secrets = _endpoints(receiver, label)
        receiver.expect(secrets, LAG_EVENTS)
        commits: dict[int, float] = {}
        started = time.monotonic()
        for seq in progress(range(LAG_EVENTS), f"webhooks {label}: single-event commits every 50 ms"):
            pause = started + seq * LAG_SPACING_SECONDS - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            commits[seq] = _emit(tenants, "lag", range(seq, seq + 1))
        if receiver.wait(LAG_EVENTS, 120, f"webhooks {label}: lag deliveries", worker) < LAG_EVENTS:
            raise RuntimeError(f"{label} lag: {_missing(endpoints)}")
        time.sleep(1)  # any duplicate delivery would arrive now
        records = receiver.records()
        arrivals = _checked(records, LAG_EVENTS, f"{label} lag")
        (path,) = secrets
        lags = [arrivals[(path, seq)] - commits[seq] for seq in commits]
        lag = _deliveries(endpoints)
        figures[f"{label}_lag_p50_ms"] = round(percentile(lags, 0.50) * 1000, 1)
        figures[f"{label}_lag_p99_ms"] = round(percentile(lags, 0.99) * 1000, 1)
        figures[f"{label}_lag_max_ms"] = round(max(lags) * 1000, 1)
        figures[f"{label}_lag_connections"] = receiver.connections()
        figures[f"{label}_duplicate_requests"] = len(records) - LAG_EVENTS
        if lag["succeeded"] != lag["total"] or lag["retried"]:
            raise RuntimeError(f"{label} lag: deliveries {lag}, expected all succeeded at the first try")

        if relay_check:
            figures.update(_relay_limit(receiver, worker))
    return figures


def _relay_limit(receiver: Receiver, worker: subprocess.Popen) -> dict:
    """One commit of RELAY_LIMIT + 100 events, no beat: how many arrive, how many stay unrelayed."""
    tenants, _, secrets = _endpoints(receiver, "relay-limit")
    count = RELAY_LIMIT + 100
    receiver.expect(secrets, count)
    _emit(tenants, "over-limit", range(count))
    receiver.wait(RELAY_LIMIT, 120, f"webhooks: {count:,} events in one commit", worker)
    arrived = receiver.wait(count, 10, "webhooks: 10 s more for the rest", worker)
    unrelayed = OutboxEvent.objects.filter(tenant=tenants[0], relayed_at__isnull=True).count()
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
    fanout = FANOUT_ENDPOINTS * FANOUT_EVENTS_PER_ENDPOINT
    figures: dict = {
        "events": THROUGHPUT_EVENTS,
        "fanout_endpoints": FANOUT_ENDPOINTS,
        "fanout_events": fanout,
        "lag_events": LAG_EVENTS,
        "lag_spacing_ms": 50,
    }
    pools = _pools()
    with _receiver() as receiver:
        floor_rates = {}
        for name, count, paths in (
            ("burst", THROUGHPUT_EVENTS, [RECEIVER_PATH]),
            ("fanout", fanout, [f"{RECEIVER_PATH}/floor/{index}" for index in range(FANOUT_ENDPOINTS)]),
        ):
            floor_seconds = _http_floor(receiver, count, paths)
            floor_rates[name] = count / floor_seconds
            prefix = "http_floor" if name == "burst" else "fanout_http_floor"
            figures[f"{prefix}_posts_per_second"] = round(floor_rates[name])
            figures[f"{prefix}_seconds"] = round(floor_seconds, 2)
        for index, (pool, concurrency) in enumerate(pools):
            redis.Redis.from_url(settings.REDIS_URL).flushdb()
            result = _with_worker(receiver, pool, concurrency, relay_check=index == len(pools) - 1)
            label = f"{pool}_c{concurrency}"
            for name, rate in floor_rates.items():
                events_per_second = result[f"{label}_{name}_events_per_second"]
                result[f"{label}_{name}_ratio_to_http_floor"] = round(events_per_second / rate, 3)
            figures.update(result)
    return figures
