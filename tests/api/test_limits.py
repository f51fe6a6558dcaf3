"""Request limits through HTTP: per API key, per staff user and per client address (each with a
burst and a sustained rate), failed authentication per address, test pings per endpoint, and the
login lockout of the session login and the admin.

Each test sets its own low limits (the test settings lift them for the rest of the suite), starts
with no counters and speaks from addresses of its own (2001:db8::/32 is for documentation).
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from redis import Redis
from rest_framework.test import APIClient

from tests.support.world import TenantWorld


@pytest.fixture(autouse=True)
def _counters_start_empty() -> None:
    """Counters outlive a test in Redis, and ids (a user's) start again with a new test database."""
    client = Redis.from_url(django_settings.CACHES["default"]["LOCATION"])
    stale = list(client.scan_iter(match=f"{cache.make_key('throttle')}:*", count=1000))
    if stale:
        client.delete(*stale)
    client.close()


def fresh_address() -> str:
    return f"2001:db8:{secrets.token_hex(2)}::{secrets.token_hex(2)}"


@pytest.fixture
def limits(settings):
    """``limits(key="3/hour", ...)`` sets those throttle rates (and only those) for this test."""

    def set_rates(**rates: str | None) -> None:
        current = settings.REST_FRAMEWORK
        throttle_rates = {**current["DEFAULT_THROTTLE_RATES"], **rates}
        settings.REST_FRAMEWORK = {**current, "DEFAULT_THROTTLE_RATES": throttle_rates}

    return set_rates


def from_address(raw_key: str | None, address: str, **extra: str) -> APIClient:
    client = APIClient()
    headers = {"REMOTE_ADDR": address, **extra}
    if raw_key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"
    client.credentials(**headers)
    return client


def me(world: TenantWorld) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/me/"


def throttled(response, counted: str) -> int:
    """Assert a 429 in the one error format naming what was counted; answer its Retry-After."""
    assert response.status_code == 429, response.content
    wait = int(response["Retry-After"])
    assert response.json() == {
        "error": {"code": "throttled", "message": f"Too many {counted}; try again in {wait} s.", "fields": {}}
    }
    return wait


@pytest.mark.parametrize(
    ("scope", "rate", "described", "window"),
    [("key_burst", "3/min", "3 per minute", 60), ("key", "3/hour", "3 per hour", 3600)],
)
def test_an_api_key_over_its_limit_answers_429_from_any_address(world, limits, scope, rate, described, window) -> None:
    limits(**{scope: rate})
    first, second = fresh_address(), fresh_address()
    for address in (first, second, first):
        assert from_address(world.erp.raw_key, address).get(me(world)).status_code == 200
    wait = throttled(
        from_address(world.erp.raw_key, second).get(me(world)), f"requests with this API key ({described})"
    )
    assert 0 < wait <= window
    # Another key from the same addresses is counted on its own.
    assert from_address(world.planner.raw_key, first).get(me(world)).status_code == 200


@pytest.mark.parametrize(
    ("scope", "rate", "described"), [("address_burst", "4/min", "4 per minute"), ("address", "4/hour", "4 per hour")]
)
def test_an_address_over_its_limit_answers_429_whatever_the_key(world, limits, scope, rate, described) -> None:
    limits(**{scope: rate})
    crowded, quiet = fresh_address(), fresh_address()
    for caller in (world.erp, world.admin, world.supplier, world.distributor):
        assert from_address(caller.raw_key, crowded).get(me(world)).status_code == 200
    throttled(from_address(world.planner.raw_key, crowded).get(me(world)), f"requests from your address ({described})")
    # The same key from another address goes through.
    assert from_address(world.planner.raw_key, quiet).get(me(world)).status_code == 200


@pytest.mark.parametrize(
    ("scope", "rate", "described"), [("user_burst", "2/min", "2 per minute"), ("user", "2/hour", "2 per hour")]
)
def test_a_staff_session_is_counted_per_user(world, limits, scope, rate, described) -> None:
    limits(**{scope: rate})
    first, second = fresh_address(), fresh_address()
    person, colleague = APIClient(), APIClient()
    person.force_login(world.planner.user)
    colleague.force_login(world.analyst.user)
    assert person.get(me(world), REMOTE_ADDR=first).status_code == 200
    assert person.get(me(world), REMOTE_ADDR=second).status_code == 200
    throttled(person.get(me(world), REMOTE_ADDR=first), f"requests from your user ({described})")
    assert colleague.get(me(world), REMOTE_ADDR=first).status_code == 200


def test_x_forwarded_for_names_the_client_only_behind_trusted_proxies(world, limits, settings) -> None:
    limits(address_burst="2/min")
    proxy = fresh_address()

    def via_proxy(client_address: str):
        # The proxy appends the address it was reached from to whatever the client sent.
        forwarded = f"{fresh_address()}, {client_address}"
        return from_address(world.erp.raw_key, proxy, HTTP_X_FORWARDED_FOR=forwarded).get(me(world))

    # No proxy trusted (the default): the header is the client's to forge, so the proxy's address
    # is counted, and forging buys nothing.
    assert [via_proxy(fresh_address()).status_code for _ in range(3)] == [200, 200, 429]
    # One trusted proxy: the address it appended is the client's.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client_one, client_two = fresh_address(), fresh_address()
    assert [via_proxy(client_one).status_code for _ in range(3)] == [200, 200, 429]
    assert via_proxy(client_two).status_code == 200


def test_an_address_with_too_many_failed_authentications_is_refused_before_its_key_is_read(world, limits) -> None:
    limits(auth_failures="3/10min")
    attacker, elsewhere = fresh_address(), fresh_address()
    prefix = world.erp.raw_key.split("_")[1]
    wrong_secret = f"tl_{prefix}_{'x' * 43}"
    unknown = f"tl_{'z' * 12}_{'x' * 43}"
    locked_out = "failed authentications from your address (3 per 10 minutes)"
    for credentials in (wrong_secret, unknown, "tl_ malformed"):
        response = from_address(credentials, attacker).get(me(world))
        assert response.status_code == 401, response.content
    # The address is locked: the right key is refused too, and no key is even looked up.
    with CaptureQueriesContext(connection) as queries:
        wait = throttled(from_address(world.erp.raw_key, attacker).get(me(world)), locked_out)
    assert 0 < wait <= 600
    assert not [query for query in queries.captured_queries if "apikey" in query["sql"]]
    throttled(from_address(wrong_secret, attacker).get(me(world)), locked_out)
    # The same key from another address works.
    assert from_address(world.erp.raw_key, elsewhere).get(me(world)).status_code == 200


def test_test_pings_are_limited_per_endpoint(world, limits) -> None:
    limits(test_ping="2/min")
    base = f"/api/v1/tenants/{world.tenant.slug}/webhook-endpoints/"
    created = [
        world.erp.client.post(
            base, {"url": f"http://127.0.0.1:9/hook-{n}", "event_types": ["webhook.ping"]}, format="json"
        )
        for n in range(2)
    ]
    assert [response.status_code for response in created] == [201, 201]
    busy, other = (response.json()["id"] for response in created)
    assert [world.erp.client.post(f"{base}{busy}/test/").status_code for _ in range(2)] == [202, 202]
    wait = throttled(world.erp.client.post(f"{base}{busy}/test/"), "test pings to this endpoint (2 per minute)")
    assert 0 < wait <= 60
    # The refused ping sent nothing; another endpoint still pings.
    deliveries = world.erp.client.get(f"/api/v1/tenants/{world.tenant.slug}/webhook-deliveries/", {"endpoint": busy})
    assert len(deliveries.json()["results"]) == 2
    assert world.erp.client.post(f"{base}{other}/test/").status_code == 202


def test_limits_let_requests_through_when_redis_does_not_answer(world, limits, settings) -> None:
    limits(key_burst="1/min", address_burst="1/min")
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    client = from_address(world.erp.raw_key, fresh_address())
    assert [client.get(me(world)).status_code for _ in range(3)] == [200, 200, 200]


# --- Login lockout (django-axes) -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api-auth/login/", "/admin/login/"])
def test_logins_lock_out_after_repeated_wrong_passwords_until_the_cool_off(db, settings, path) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    get_user_model().objects.create_user(username="ops", password="right-horse-battery", is_staff=True)
    address = fresh_address()
    browser = Client(REMOTE_ADDR=address)

    def log_in(password: str, client: Client = browser):
        return client.post(path, {"username": "ops", "password": password, "next": "/api/v1/tenants/"})

    assert [log_in("wrong").status_code for _ in range(2)] == [200, 200]  # the form again, with its error
    locked = log_in("wrong")
    assert locked.status_code == 429
    # The right password is refused while locked, from this address and (by username) any other.
    for client in (browser, Client(REMOTE_ADDR=fresh_address())):
        refused = log_in("right-horse-battery", client)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "2"
        assert refused.json() == {
            "error": {
                "code": "throttled",
                "message": "Too many failed logins from your address or for this user; try again in 2 s.",
                "fields": {},
            }
        }
        assert "_auth_user_id" not in client.session
    time.sleep(2.1)
    accepted = log_in("right-horse-battery")
    assert (accepted.status_code, accepted["Location"]) == (302, "/api/v1/tenants/")
    assert "_auth_user_id" in browser.session
