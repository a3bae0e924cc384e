"""After a curriculum change, drop the cached answers it made wrong (shared cache only).

An update drops exactly the entries that cited a changed or deleted document; a full rebuild
drops every entry citing the rebuilt subject. Without Redis there is no shared cache to reach:
each router replica's own cache keys on the index version and stops using old entries within
30 seconds (`response_cache/lookup.FRESH_S`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis.asyncio as aioredis

from response_cache.stores import RedisResponseCache

ClientFactory = Callable[[], aioredis.Redis | None]


async def drop_cached(
    connect: ClientFactory, documents: set[str], subjects: set[str]
) -> int | None:
    """How many entries were dropped, or None when there is no shared cache."""
    client = connect()  # made inside the loop that uses it: a client is bound to its loop
    if client is None:
        return None
    try:
        cache = RedisResponseCache(client)
        return await cache.drop_documents(documents) + await cache.drop_subjects(subjects)
    finally:
        await client.aclose()


def after_publish(connect: ClientFactory, documents: set[str], subjects: set[str]) -> str:
    """A line for the operator saying what happened to the cache."""
    dropped = asyncio.run(drop_cached(connect, documents, subjects))
    if dropped is None:
        return "response cache: per replica (no REDIS_URL); stale entries age out within 30 s"
    return f"response cache: dropped {dropped} cached answers citing changed documents"
