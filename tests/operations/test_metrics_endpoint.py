"""/metrics in this process: who may scrape it, and the series of requests, pushes, the engine, RFQs,
limits and the scrape-time gauges, each checked against what the test did or what the database and
Redis hold.

Counters live in the run's multiprocess folder and outlast a test, so every check is a difference
between a scrape before and one after.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from core.alerts.models import LIVE, LIVE_STATUSES, Alert, Grade, rule_choices
from core.inventory.models import Position
from core.observability.scrape import SOURCE_TIMEOUT_SECONDS
from core.procurement.models import Rfq
from core.webhooks.models import Delivery, DeliveryState
from tests.support.calls import error, evaluate, ok, url
from tests.support.ingest import ledger_line, push_rows, ts
from tests.support.metrics import scrape
from tests.support.procurement import backup_suppliers, quote, respond, short_stock
from workers.app import QUEUES, app
from workers.tasks.diagnostics import ping
from workers.tasks.procurement import procurement_settle
from workers.tasks.webhooks import webhooks_deliver, webhooks_relay

pytestmark = pytest.mark.usefixtures("transactional_db")  # counts taken on commit are taken

TOKEN = "scrape-token-" + "x" * 24
STOCK_ROUTE = "/api/v1/tenants/<slug:tenant_slug>/stock/"
MOVEMENTS_ROUTE = "/api/v1/tenants/<slug:tenant_slug>/ingest/movements/"


# --- Who may scrape --------------------------------------------------------------------------------


def test_by_default_only_loopback_may_scrape_and_others_get_the_404_of_a_missing_path() -> None:
    scrape(REMOTE_ADDR="127.0.0.1")
    scrape(REMOTE_ADDR="127.0.0.2")  # all of 127/8 is loopback
    scrape(REMOTE_ADDR="::1")
    for address in ("203.0.113.7", "10.0.0.5", "2001:db8::1"):
        refused = error(Client().get("/metrics", REMOTE_ADDR=address), 404)
        assert refused["code"] == "not_found"
        assert b"tripline_" not in Client().get("/metrics", REMOTE_ADDR=address).content


def test_without_a_token_a_scrape_relayed_by_a_proxy_is_refused() -> None:
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED"):
        refused = error(Client().get("/metrics", REMOTE_ADDR="127.0.0.1", **{header: "198.51.100.9"}), 403)
        assert "METRICS_TOKEN" in refused["message"]


def test_with_a_token_a_scrape_must_send_it(settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    for authorization in (None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"):
        extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        refused = error(Client().get("/metrics", REMOTE_ADDR="127.0.0.1", **extra), 403)
        assert refused["code"] == "permission_denied"
        assert "Authorization: Bearer <METRICS_TOKEN>" in refused["message"]
    scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    # With the token a proxy may relay the scrape.
    scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_X_FORWARDED_FOR="198.51.100.9")
    # The token opens no network that is not allowed.
    assert error(Client().get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"), 404)


def test_allowed_networks_and_an_empty_list_with_a_token(settings) -> None:
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    scrape(REMOTE_ADDR="10.20.3.4")
    error(Client().get("/metrics", REMOTE_ADDR="10.21.3.4"), 404)
    error(Client().get("/metrics", REMOTE_ADDR="127.0.0.1"), 404)
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_TOKEN = TOKEN
    scrape(REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def test_behind_trusted_proxies_the_allow_list_reads_the_clients_address(settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    relayed = {"REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    # The proxy on loopback relays an outside client: refused, the client is not on loopback.
    error(Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.7", **relayed), 404)
    scrape(HTTP_X_FORWARDED_FOR="127.0.0.1", **relayed)


def test_only_get_is_answered() -> None:
    response = Client().post("/metrics", REMOTE_ADDR="127.0.0.1")
    assert error(response, 405)["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"


# --- Requests ----------------------------------------------------------------------------------------


def test_requests_are_counted_by_route_pattern_method_and_status_class(world, other_world) -> None:
    before = scrape()
    for _ in range(3):
        ok(world.analyst.client.get(url(world, "stock/")))
    ok(other_world.erp.client.get(url(other_world, "stock/")))
    error(world.analyst.client.get(url(world, f"alerts/{uuid.uuid4()}/")), 404)
    error(world.analyst.client.post(url(world, "ingest/movements/"), [], format="json"), 403)
    error(Client().get(f"/no/such/{uuid.uuid4()}/"), 404)
    after = scrape()

    def delta(sample: str, **labels: str) -> float:
        return after.value(sample, **labels) - before.value(sample, **labels)

    assert delta("tripline_http_requests_total", route=STOCK_ROUTE, method="GET", status="2xx") == 4
    assert (
        delta(
            "tripline_http_requests_total",
            route="/api/v1/tenants/<slug:tenant_slug>/alerts/<uuid:alert_id>/",
            status="4xx",
        )
        == 1
    )
    assert delta("tripline_http_requests_total", route=MOVEMENTS_ROUTE, method="POST", status="4xx") == 1
    assert delta("tripline_http_requests_total", route="<unmatched>", method="GET", status="4xx") == 1
    assert delta("tripline_http_request_duration_seconds_count", route=STOCK_ROUTE, method="GET") == 4
    assert delta("tripline_http_request_duration_seconds_sum", route=STOCK_ROUTE, method="GET") > 0
    assert after.type_of("tripline_http_request_duration_seconds") == "histogram"
    # Bounded labels: no raw path, no id, no tenant (none is configured) in any series.
    for labels in after.series("tripline_http_requests_total"):
        assert set(labels) == {"route", "method", "status", "tenant"}
        assert labels["tenant"] == ""
        assert "acme" not in labels["route"]
        assert "/no/such/" not in labels["route"]
        assert labels["status"] in {"1xx", "2xx", "3xx", "4xx", "5xx"}


def test_tenants_named_in_the_setting_get_their_own_label_and_the_rest_are_other(world, other_world, settings) -> None:
    settings.METRICS_TENANT_LABELS = frozenset({world.tenant.slug})
    before = scrape()
    for each in (world, other_world):
        ok(each.analyst.client.get(url(each, "stock/")))
        lines = [ledger_line("receipt", each.sku.code, 5, days_ago=2) for _ in range(2)]
        assert push_rows(each.erp, each.tenant.slug, "movements", lines).status_code == 201
    after = scrape()
    for tenant in (world.tenant.slug, "other"):
        for sample, labels, expected in (
            ("tripline_http_requests_total", {"route": STOCK_ROUTE}, 1),
            ("tripline_ingested_rows_total", {"kind": "movements"}, 2),
            ("tripline_ingest_batches_total", {"kind": "movements", "outcome": "accepted"}, 1),
        ):
            labels = {**labels, "tenant": tenant}
            assert after.value(sample, **labels) - before.value(sample, **labels) == expected, (sample, tenant)
    for sample in ("tripline_http_requests_total", "tripline_ingested_rows_total", "tripline_alerts_open"):
        assert not [s for s in after.series(sample) if s["tenant"] == other_world.tenant.slug]


def test_throttled_requests_are_counted_by_the_limit_that_refused_them(world, settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "key_burst": "2/min"},
    }
    before = scrape()
    answers = [world.planner.client.get(url(world, "stock/")).status_code for _ in range(4)]
    assert answers == [200, 200, 429, 429]
    after = scrape()
    assert (
        after.value("tripline_throttled_requests_total", scope="key_burst")
        - before.value("tripline_throttled_requests_total", scope="key_burst")
        == 2
    )
    assert (
        after.value("tripline_http_requests_total", route=STOCK_ROUTE, status="4xx")
        - before.value("tripline_http_requests_total", route=STOCK_ROUTE, status="4xx")
        == 2
    )


# --- Pushes, the engine, RFQs --------------------------------------------------------------------------


def test_pushes_count_their_batches_and_rows_by_kind(world) -> None:
    before = scrape()
    lines = [ledger_line("receipt", world.sku.code, 5, days_ago=2) for _ in range(7)]
    assert push_rows(world.erp, world.tenant.slug, "movements", lines, key="push-1").status_code == 201
    assert push_rows(world.erp, world.tenant.slug, "movements", lines, key="push-1").status_code == 201  # replayed
    bad = [{**ledger_line("receipt", world.sku.code, 5, days_ago=2), "quantity": "many"}]
    assert push_rows(world.erp, world.tenant.slug, "movements", bad).status_code == 400
    skus = [
        {"code": f"N-{n}", "name": "n", "category": world.category.code, "unit_cost": "1", "list_price": "2"}
        for n in range(3)
    ]
    assert push_rows(world.admin, world.tenant.slug, "skus", skus).status_code == 201
    after = scrape()

    def delta(sample: str, **labels: str) -> float:
        return after.value(sample, **labels) - before.value(sample, **labels)

    assert delta("tripline_ingested_rows_total", kind="movements") == 7  # the replay wrote nothing
    assert delta("tripline_ingested_rows_total", kind="skus") == 3
    assert delta("tripline_ingest_batches_total", kind="movements", outcome="accepted") == 1
    assert delta("tripline_ingest_batches_total", kind="movements", outcome="replayed") == 1
    assert delta("tripline_ingest_batches_total", kind="movements", outcome="rejected") == 1
    assert delta("tripline_http_requests_total", route=MOVEMENTS_ROUTE, method="POST", status="2xx") == 2


def test_an_evaluation_counts_its_run_and_positions_and_the_gauges_read_the_alerts_it_opened(world) -> None:
    row = {"code": "OLD", "name": "old", "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, world.tenant.slug, "skus", [row]).status_code == 201
    line = {"kind": "receipt", "sku": "OLD", "warehouse": world.warehouse.code, "quantity": 9, "occurred_at": ts(200)}
    assert push_rows(world.admin, world.tenant.slug, "movements", [{**line, "external_ref": "old"}]).status_code == 201
    dirty = Position.objects.filter(dirty_since__isnull=False).count()
    assert dirty >= 1
    before = scrape()
    assert before.value("tripline_evaluation_dirty_positions") == dirty
    assert before.value("tripline_evaluation_lag_seconds") > 0

    evaluate(world)
    after = scrape()
    assert (
        after.value("tripline_evaluation_runs_total", trigger="incremental", status="succeeded")
        - before.value("tripline_evaluation_runs_total", trigger="incremental", status="succeeded")
        == 1
    )
    assert (
        after.value("tripline_evaluation_positions_total", trigger="incremental")
        - before.value("tripline_evaluation_positions_total", trigger="incremental")
        == dirty
    )
    assert (
        after.value("tripline_evaluation_run_duration_seconds_count", trigger="incremental")
        - before.value("tripline_evaluation_run_duration_seconds_count", trigger="incremental")
        == 1
    )
    assert after.value("tripline_evaluation_dirty_positions") == 0
    assert after.value("tripline_evaluation_lag_seconds") == 0
    # The open alerts gauge is the database's live alerts, by grade, rule and status.
    live = list(Alert.objects.filter(LIVE).values_list("grade", "rule", "status"))
    assert live
    assert after.value("tripline_alerts_open") == len(live)
    for grade, rule, status in set(live):
        assert after.value("tripline_alerts_open", grade=grade, rule=rule, status=status) == live.count(
            (grade, rule, status)
        )
    # Every grade, rule and live status has its series, zero included, so an alerting rule never sees
    # one vanish; the rules are the registry's.
    combinations = {(g, r, st) for g in Grade.values for r, _ in rule_choices() for st in LIVE_STATUSES}
    assert {(s["grade"], s["rule"], s["status"]) for s in after.series("tripline_alerts_open")} == combinations


def test_the_lag_is_the_age_of_the_oldest_dirty_position(world) -> None:
    Position.objects.filter(pk=world.position.pk).update(dirty_since=timezone.now() - timedelta(hours=2))
    lag = scrape().value("tripline_evaluation_lag_seconds")
    assert 7200 <= lag < 7200 + 600


def test_rfqs_opened_quoted_and_awarded_are_counted(shop) -> None:
    before = scrape()
    suppliers = backup_suppliers(shop)
    short_stock(shop)
    evaluate(shop)
    respond(shop)
    rfq = Rfq.objects.get(tenant=shop.tenant)
    ok(quote(suppliers["quick"], shop, str(rfq.pk)), 201)
    ok(quote(suppliers["cheap"], shop, str(rfq.pk), quantity=160), 201)
    ok(quote(suppliers["cheap"], shop, str(rfq.pk), quantity=160, unit_price="0.90"), 201)  # a revision
    assert procurement_settle(str(rfq.pk)) == "awarded"
    after = scrape()
    assert after.value("tripline_rfqs_opened_total") - before.value("tripline_rfqs_opened_total") == 1
    assert after.value("tripline_rfq_quotes_total") - before.value("tripline_rfq_quotes_total") == 3
    assert (
        after.value("tripline_rfqs_awarded_total", how="automatic")
        - before.value("tripline_rfqs_awarded_total", how="automatic")
        == 1
    )


# --- The scrape-time gauges --------------------------------------------------------------------------


def _queues_purge() -> None:
    with app.connection_for_write() as broker:
        for queue in QUEUES:
            broker.default_channel.queue_purge(queue)


def test_queue_depth_is_what_waits_in_each_queue_and_pending_deliveries_are_read(world, receiver) -> None:
    _queues_purge()
    for n in range(3):
        ping.apply_async(args=[f"n{n}"])  # no worker in this module: they wait on their queue
    response = world.admin.client.post(
        url(world, "webhook-endpoints/"), {"url": receiver.url, "event_types": ["alert.opened"]}, format="json"
    )
    assert response.status_code == 201, response.content
    row = {"code": "OLD", "name": "old", "category": world.category.code, "unit_cost": "1", "list_price": "2"}
    assert push_rows(world.admin, world.tenant.slug, "skus", [row]).status_code == 201
    line = {"kind": "receipt", "sku": "OLD", "warehouse": world.warehouse.code, "quantity": 9, "occurred_at": ts(200)}
    assert push_rows(world.admin, world.tenant.slug, "movements", [{**line, "external_ref": "old"}]).status_code == 201
    evaluate(world)
    webhooks_relay()  # fans the alert out to a delivery and queues its attempt

    scraped = scrape()
    assert scraped.value("tripline_celery_queue_depth", queue="diagnostics") == 3
    assert scraped.value("tripline_celery_queue_depth", queue="webhooks") == 1
    assert {labels["queue"] for labels in scraped.series("tripline_celery_queue_depth")} == set(QUEUES)
    pending = Delivery.objects.filter(state=DeliveryState.PENDING)
    assert pending.count() == 1
    assert scraped.value("tripline_webhook_deliveries_pending") == 1
    age = (timezone.now() - pending.get().created_at).total_seconds()
    assert 0 < scraped.value("tripline_webhook_oldest_pending_delivery_age_seconds") <= age
    assert scraped.value("tripline_scrape_errors", source="database") == 0
    assert scraped.value("tripline_scrape_errors", source="redis") == 0
    _queues_purge()


def test_a_scrape_while_redis_is_down_answers_with_the_rest_and_says_so(world, settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    scraped = scrape()
    assert scraped.value("tripline_scrape_errors", source="redis") == 1
    assert scraped.value("tripline_scrape_errors", source="database") == 0
    assert scraped.series("tripline_celery_queue_depth") == []
    assert scraped.series("tripline_evaluation_lag_seconds") == [{}]
    assert scraped.series("tripline_http_requests_total")


def test_a_scrape_the_database_keeps_waiting_gives_up_on_it_within_its_timeout(world) -> None:
    # Another session holds the positions table locked against every read: the lag's query waits.
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k not in ("cursor_factory", "context")}) as locker:
        locker.execute(f"LOCK TABLE {Position._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        scraped = scrape()
        waited = time.monotonic() - started
        locker.rollback()
    assert SOURCE_TIMEOUT_SECONDS <= waited < SOURCE_TIMEOUT_SECONDS + 5
    assert scraped.value("tripline_scrape_errors", source="database") == 1
    assert scraped.value("tripline_scrape_errors", source="redis") == 0
    assert scraped.series("tripline_evaluation_lag_seconds") == []
    assert scraped.series("tripline_alerts_open") == []
    assert {labels["queue"] for labels in scraped.series("tripline_celery_queue_depth")} == set(QUEUES)
    # The next scrape reads the database again.
    assert scrape().value("tripline_scrape_errors", source="database") == 0


def _endpoint(world, address: str) -> str:
    response = world.admin.client.post(
        url(world, "webhook-endpoints/"), {"url": address, "event_types": ["alert.opened"]}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _test_ping_attempted(world, endpoint_id: str) -> None:
    """A test ping's delivery, attempted here as the worker would (no worker runs in this module)."""
    response = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint_id}/test/"))
    assert response.status_code in (200, 201, 202), response.content
    delivery = Delivery.objects.filter(endpoint_id=endpoint_id).order_by("-created_at").first()
    webhooks_deliver(str(delivery.pk))


def test_webhook_attempts_are_counted_by_outcome(world, receiver) -> None:
    receiver.script = [(500, {}), (404, {}), (200, {})]
    answering = _endpoint(world, receiver.url)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/hooks"
    silent = _endpoint(world, closed)
    before = scrape()
    for _ in range(3):
        _test_ping_attempted(world, answering)
    _test_ping_attempted(world, silent)
    after = scrape()
    assert len(receiver.requests) == 3
    for outcome in ("server_error", "client_error", "success", "no_response"):
        assert (
            after.value("tripline_webhook_attempts_total", outcome=outcome)
            - before.value("tripline_webhook_attempts_total", outcome=outcome)
            == 1
        ), outcome
    assert (
        after.value("tripline_webhook_attempt_duration_seconds_count")
        - before.value("tripline_webhook_attempt_duration_seconds_count")
        == 4
    )
