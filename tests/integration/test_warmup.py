"""Cache warm-up from the request log in the real PostgreSQL, one replica at a time (Redis)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis
from psycopg_pool import AsyncConnectionPool

from cluster.redis_client import redis_client
from cluster.storage.db import RequestLog, RequestLogRow, most_asked, open_pool
from cluster.storage.migrate import migrate
from graphs.single_process import local_api, local_router
from response_cache import warmup
from response_cache.stores import MemoryResponseCache
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend


@pytest.fixture
async def pool(database_url: str):
    migrate(database_url)
    pool: AsyncConnectionPool = open_pool(database_url, max_size=2)
    await pool.open()
    async with pool.connection() as conn:
        await conn.execute("DELETE FROM feedback")
        await conn.execute("DELETE FROM request_log")
    yield pool
    await pool.close()


async def log_questions(pool: AsyncConnectionPool, questions: list[tuple[str, str]]) -> None:
    log = RequestLog(pool)
    for question, endpoint in questions:
        log.record(
            RequestLogRow(
                request_id=uuid.uuid4().hex,
                endpoint=endpoint,
                status="ok",
                latency_ms=10,
                question=question,
            )
        )
    await log.flush()


async def test_the_most_asked_questions_come_first_and_warmups_do_not_count(pool):
    await log_questions(
        pool,
        [("What is gold?", "query")] * 3
        + [("What is tin?", "query")]
        + [("What is lead?", "warmup")] * 5,
    )
    assert await most_asked(pool, 5) == ["What is gold?", "What is tin?"]


async def test_warm_up_fills_the_cache(pool, chemistry_docs):
    docs = [Document.model_validate(d) for d in chemistry_docs]
    shard = build_shard("chemistry", docs, HashingEmbedder(), DenseIndexParams(), False)
    backend = EchoSourceBackend()
    router = local_router(
        HashingEmbedder(), {"chemistry": shard}, {"local": backend}, cache=MemoryResponseCache()
    )
    _, service = local_api(router)
    await service.ask_all("What is gold?")  # a first answer teaches the router the index epochs
    await log_questions(pool, [("What is tin?", "query")] * 2)
    assert await warmup.warm_up(service, await most_asked(pool, 5)) == 1
    calls = len(backend.requests)
    answer = await service.ask_all("What is tin?")
    assert answer.done is not None and answer.done.cache.hit and len(backend.requests) == calls


def test_only_one_replica_takes_the_warm_up(redis_url: str):
    redis.Redis.from_url(redis_url).delete(warmup.LOCK)

    async def both() -> list[bool]:
        clients = [redis_client(redis_url) for _ in range(2)]  # as two replicas hold them
        try:
            return [await warmup.claim(client) for client in clients]
        finally:
            for client in clients:
                await client.aclose()

    assert asyncio.run(both()) == [True, False]
    redis.Redis.from_url(redis_url).delete(warmup.LOCK)
