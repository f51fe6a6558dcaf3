"""Request limits: per API key, per staff user and per client address; failed authentication per
address; test pings per webhook endpoint. A request over a limit answers 429 in the one error
format with ``Retry-After``.

Counters live in the cache's Redis as fixed windows that open with a bucket's first request and
expire with it. DRF's ``SimpleRateThrottle`` keeps a list of timestamps per bucket, read and then
written back: two round trips per throttle, a lost update under concurrency (its docs say so) and
a list as long as the limit. Here one Lua script counts all of a request's buckets atomically, in
one round trip. An API-key request is counted once, in authentication, where the address's
failures must be read before the key is looked up; the throttle then only decides.

The rates are DRF's ``DEFAULT_THROTTLE_RATES`` (``1200/min``, or ``30/10min`` for a window of
several units), read on every request, so ``override_settings`` changes them in tests. When Redis
does not answer, the limits let requests through: they guard the API, they must not stop it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis import RedisError
from redis.commands.core import Script
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from core import telemetry
from core.redis_clients import redis_client

logger = logging.getLogger("tripline.api")

# A Redis that does not answer within this costs a request no more than this before it goes through.
_REDIS_TIMEOUT_SECONDS = 0.5

# KEYS[i] is a bucket, ARGV[i] its window in milliseconds, or 0 to read it without counting.
# Answers each bucket's count and the milliseconds left in its window (negative: no window open).
_COUNT_SCRIPT = """
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local count
  if window > 0 then
    count = redis.call('INCR', key)
    if count == 1 then redis.call('PEXPIRE', key, window) end
  else
    count = tonumber(redis.call('GET', key) or '0')
  end
  out[#out + 1] = count
  out[#out + 1] = redis.call('PTTL', key)
end
return out
"""

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])[a-z]*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNIT_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}

# What each scope counts, as the 429 message names it.
_COUNTS = {
    "key": "requests with this API key",
    "key_burst": "requests with this API key",
    "user": "requests from your user",
    "user_burst": "requests from your user",
    "address": "requests from your address",
    "address_burst": "requests from your address",
    "auth_failures": "failed authentications from your address",
    "test_ping": "test pings to this endpoint",
}


class RateLimited(exceptions.Throttled):
    extra_detail_singular = extra_detail_plural = "try again in {wait} s."


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int

    def __str__(self) -> str:
        for unit, name in sorted(_UNIT_NAMES.items(), reverse=True):
            if self.seconds % unit == 0:
                many = self.seconds // unit
                return f"{self.count} per {name}" if many == 1 else f"{self.count} per {many} {name}s"
        raise AssertionError("every window is a whole number of seconds")


@functools.lru_cache(maxsize=64)
def rate_parse(scope: str, rate: str) -> Limit:
    """``1200/min``, ``60000/hour``, ``30/10min``: a count per window of whole units."""
    match = _RATE.match(rate.replace(" ", "").lower())
    if match is None or int(match.group(2) or 1) < 1:
        raise ValueError(f"Throttle rate {rate!r} of {scope!r} is not like '1200/min' or '30/10min'.")
    count, units, unit = match.groups()
    return Limit(scope, int(count), int(units or 1) * _UNIT_SECONDS[unit])


def limit_of(scope: str) -> Limit | None:
    """The scope's limit as configured now; None when it is off."""
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
    return rate_parse(scope, rate) if rate else None


@dataclass(frozen=True)
class Bucket:
    limit: Limit
    ident: str
    counted: bool = True  # False: read how full it is without adding this request

    def key(self, namespace: str) -> str:
        return f"{namespace}:{self.limit.scope}:{self.limit.seconds}:{self.ident}"


@dataclass(frozen=True)
class Tally:
    bucket: Bucket
    count: int
    wait: float  # seconds until the bucket's window closes

    @property
    def over(self) -> bool:
        # A counted bucket includes this request; a read one says whether the next would fit.
        allowed = self.bucket.limit.count
        return self.count > allowed if self.bucket.counted else self.count >= allowed


@functools.cache
def _counter(location: str) -> Script:
    client = redis_client(
        location, socket_connect_timeout=_REDIS_TIMEOUT_SECONDS, socket_timeout=_REDIS_TIMEOUT_SECONDS
    )
    return client.register_script(_COUNT_SCRIPT)


def buckets_count(buckets: Sequence[Bucket]) -> list[Tally]:
    """Count (or read) every bucket in one round trip; no tallies when Redis does not answer."""
    if not buckets:
        return []
    namespace = cache.make_key("throttle")  # the cache's prefix and version, once per request
    try:
        answer = _counter(settings.CACHES["default"]["LOCATION"])(
            keys=[bucket.key(namespace) for bucket in buckets],
            args=[bucket.limit.seconds * 1000 if bucket.counted else 0 for bucket in buckets],
        )
    except RedisError as exc:
        logger.warning("Request limits not checked: Redis did not answer (%s).", exc)
        return []
    return [
        Tally(bucket, int(answer[2 * index]), max(int(answer[2 * index + 1]), 0) / 1000)
        for index, bucket in enumerate(buckets)
    ]


def tallies_enforce(tallies: Sequence[Tally]) -> None:
    """Raise 429 when any bucket is over, naming the one that keeps the caller waiting longest."""
    over = [tally for tally in tallies if tally.over]
    if not over:
        return
    worst = max(over, key=lambda tally: tally.wait)
    limit = worst.bucket.limit
    telemetry.THROTTLED.labels(scope=limit.scope).inc()
    raise RateLimited(wait=max(1, math.ceil(worst.wait)), detail=f"Too many {_COUNTS[limit.scope]} ({limit});")


def limit_enforce(*, scope: str, ident: str) -> None:
    """Count one use of ``scope`` by ``ident`` and refuse it past the limit (test pings)."""
    limit = limit_of(scope)
    if limit is not None:
        tallies_enforce(buckets_count([Bucket(limit, ident)]))


def client_address(request: HttpRequest | Request) -> str:
    """REMOTE_ADDR, or the address in X-Forwarded-For that NUM_PROXIES trusted proxies vouch for."""
    return BaseThrottle().get_ident(request) or "unknown"


# django-axes keeps a failed sign-in's user name in a 255-character column.
AXES_USERNAME_MAX = 255


def login_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The user name django-axes counts a sign-in under, cut to its column and without NUL: as
    posted, a longer one failed the admin's and the console's sign-in with a 500 (PostgreSQL refused
    the attempt's row); no user's name is that long, so the cut name still counts the same tries."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get("username")
    return None if username is None else str(username).replace("\x00", "")[:AXES_USERNAME_MAX]


def _buckets(principal: tuple[str, str] | None, address: str) -> list[Bucket]:
    scopes = [("address", address), ("address_burst", address)]
    if principal is not None:
        kind, ident = principal
        scopes += [(kind, ident), (f"{kind}_burst", ident)]
    return [Bucket(limit, ident) for scope, ident in scopes if (limit := limit_of(scope)) is not None]


# The tallies of a request counted during authentication, for the throttle to decide on.
_COUNTED = "_tripline_tallies"


def key_request_count(request: Request, *, credential: bytes) -> str:
    """Count an API-key request (its key, its address) and refuse an address locked for failures.

    Runs before the key is looked up, so the key's buckets are named by a digest of the
    credential as presented: one per key, and a wrong one fills only its own. Answers the
    client's address, for ``auth_failure_record``.
    """
    address = client_address(request)
    buckets = _buckets(("key", hashlib.sha256(credential).hexdigest()[:32]), address)
    failures = limit_of("auth_failures")
    if failures is not None:
        buckets.append(Bucket(failures, address, counted=False))
    tallies = buckets_count(buckets)
    setattr(request, _COUNTED, [tally for tally in tallies if tally.bucket.counted])
    tallies_enforce([tally for tally in tallies if not tally.bucket.counted])
    return address


def auth_failure_record(*, address: str) -> None:
    """One more wrong key or malformed header from ``address``."""
    limit = limit_of("auth_failures")
    if limit is not None:
        buckets_count([Bucket(limit, address)])


class RequestRateThrottle(BaseThrottle):
    """Every API request: per key (or staff user) and per address, each with a burst rate."""

    def allow_request(self, request: Request, view: object) -> bool:
        tallies = getattr(request, _COUNTED, None)
        if tallies is None:
            user = request.user
            principal = ("user", str(user.pk)) if user is not None and user.is_authenticated else None
            tallies = buckets_count(_buckets(principal, client_address(request)))
        tallies_enforce(tallies)
        return True
