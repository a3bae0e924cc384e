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


def redis_client(url: str, timeout_s: float = TIMEOUT_S) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=RETRY
    )


def configured_redis(settings: Settings) -> aioredis.Redis | None:
    """A client for REDIS_URL, or None when the cluster runs without Redis."""
    return None if settings.redis_url is None else redis_client(str(settings.redis_url))
