"""The one place Redis clients are built, so the session store, the breakers, the response cache
and warm-up all fail within the same time when Redis stops answering."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ConstantBackoff

from cluster.settings import Settings

# Long enough for a loaded Redis; short enough that an outage turns into a fallback (sessions
# in memory, breakers per replica, a cache miss) before the request's own deadline.
TIMEOUT_S = 2.0
# One quick retry: enough for a pooled connection that a Redis restart left stale. redis-py's
# default (10 retries, backoff to 1 s) made every session call wait ~3 s while Redis was down.
RETRY = Retry(ConstantBackoff(0.05), retries=1)
MAX_CONNECTIONS = 256


def redis_client(
    url: str, timeout_s: float = TIMEOUT_S, max_connections: int = MAX_CONNECTIONS
) -> aioredis.Redis:
    # A blocking pool: redis-py's default pool raises "Too many connections" past 100 at once,
    # which a replica under load (every answer reads a session, a breaker and the cache) took
    # for a Redis outage and fell back. Past `max_connections` a call now waits for a free
    # connection, within the same timeout as a slow Redis.
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_s,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=RETRY,
    )
    return aioredis.Redis.from_pool(pool)


def configured_redis(settings: Settings) -> aioredis.Redis | None:
    """A client for REDIS_URL, or None when the cluster runs without Redis."""
    if settings.redis_url is None:
        return None
    return redis_client(str(settings.redis_url), max_connections=settings.redis_max_connections)
