"""Cache warm-up: at start, answer the most asked questions of the past week (from the request
log) so that the first students to ask them get cached answers. One ingress replica does it."""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool

from cluster.db import database_errors
from cluster.service import TutorService

log = logging.getLogger(__name__)
LOCK = "tutor:cache:warmup"

TOP_QUESTIONS = """SELECT question FROM request_log
    WHERE endpoint = 'query' AND status = 'ok' AND question IS NOT NULL
      AND at > now() - interval '7 days'
    GROUP BY question ORDER BY count(*) DESC, max(at) DESC LIMIT %s"""


async def most_asked(pool: AsyncConnectionPool, limit: int) -> list[str]:
    with database_errors():
        async with pool.connection() as conn:
            cur = await conn.execute(TOP_QUESTIONS, (limit,))
            return [row[0] for row in await cur.fetchall()]


async def claim(redis_url: str | None, ttl_s: int = 600) -> bool:
    """Only the replica that takes the lock warms up (without Redis: every replica)."""
    if redis_url is None:
        return True
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        return bool(await client.set(LOCK, "1", nx=True, ex=ttl_s))
    finally:
        await client.aclose()


async def warm_up(service: TutorService, questions: list[str]) -> int:
    """Ask each question once (as `warmup`, so the request log does not count it again);
    returns how many were answered."""
    answered = 0
    for number, question in enumerate(questions, start=1):
        answer = await service.ask_all(question, source="warmup")
        answered += answer.complete
        log.info("cache warm-up %d/%d: %s", number, len(questions), question)
    return answered
