"""After a curriculum change, drop the cached answers it made wrong (shared cache only).

An update drops exactly the entries that cited a changed or deleted document; a full rebuild
drops every entry citing the rebuilt subject. Without Redis there is no shared cache to reach:
each router replica's own cache keys on the index version and stops using old entries within
30 seconds (`models/cached_answers.FRESH_S`).
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from cluster.response_cache import RedisResponseCache
from cluster.settings import Settings


async def drop_cached(settings: Settings, documents: set[str], subjects: set[str]) -> int | None:
    """How many entries were dropped, or None when there is no shared cache."""
    if settings.redis_url is None:
        return None
    client = aioredis.Redis.from_url(str(settings.redis_url), socket_timeout=5)
    try:
        cache = RedisResponseCache(client)
        return await cache.drop_documents(documents) + await cache.drop_subjects(subjects)
    finally:
        await client.aclose()


def after_publish(settings: Settings, documents: set[str], subjects: set[str]) -> str:
    """A line for the operator saying what happened to the cache."""
    dropped = asyncio.run(drop_cached(settings, documents, subjects))
    if dropped is None:
        return "response cache: per replica (no REDIS_URL); stale entries age out within 30 s"
    return f"response cache: dropped {dropped} cached answers citing changed documents"
