"""Redis clients that find the primary through Redis Sentinel when ``REDIS_SENTINELS`` is set.

Celery reaches Redis through Kombu's own ``sentinel://`` transport (core/settings/main.py); the
cache, the request counters, the queue-depth gauge and the readiness probe connect here. A client
asks the sentinels for the primary when it connects and again after a connection fails, so after a
failover the next command goes to the promoted replica; the command that met the failure raises
(the counters and the probe already treat an unanswering Redis as such).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import Redis
from redis.connection import parse_url
from redis.sentinel import Sentinel


def redis_client(url: str, **options: Any) -> Redis:
    """A client for ``url``'s database; through the sentinels' primary when they are configured.

    With sentinels, ``url`` gives the database number and the password, and its host and port are
    not used: the sentinels name the primary. ``options`` are redis-py's (timeouts).
    """
    if not settings.REDIS_SENTINELS:
        return Redis.from_url(url, **options)
    given = parse_url(url)
    connection = {key: given[key] for key in ("db", "username", "password") if given.get(key) is not None}
    timeouts = {key: value for key, value in options.items() if key.startswith("socket_")}
    sentinel = Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=timeouts or None)
    return sentinel.master_for(settings.REDIS_SENTINEL_MASTER, **connection, **options)


class _SentinelCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._primary: Redis | None = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        # One client: reads go to the primary too, so a value just written is read back.
        if self._primary is None:
            self._primary = redis_client(self._servers[0])
        return self._primary


class SentinelRedisCache(RedisCache):
    """Django's Redis cache, reaching the primary the sentinels name (``LOCATION`` as ``REDIS_URL``)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SentinelCacheClient
