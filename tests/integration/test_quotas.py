"""Quotas in the real Redis: the limit holds across replicas (one Lua script counts)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from access.errors import QuotaExceeded
from access.principal import Principal
from access.quotas import FallbackQuotaStore, QuotaConfig, QuotaPolicy, Quotas, RedisQuotaStore
from cluster.redis_client import redis_client
from tests.fakes.openai_server import free_port
from tests.integration.redis_server import RedisServer

pytestmark = pytest.mark.integration
N = 5


async def test_with_two_replicas_and_3n_concurrent_questions_exactly_n_are_admitted(redis_url):
    prefix = f"test:quota:{uuid.uuid4().hex}:"
    config = QuotaConfig(roles={"student": QuotaPolicy(burst_per_minute=N)})
    clients = [redis_client(redis_url) for _ in range(2)]  # two ingress replicas
    replicas = [Quotas(RedisQuotaStore(c, prefix), config) for c in clients]
    amina = Principal("amina")

    async def ask(number: int) -> bool:
        try:
            await replicas[number % 2].admit(amina)
        except QuotaExceeded as refused:
            assert refused.limit == "burst" and refused.retry_after_s >= 1
            return False
        return True

    admitted = await asyncio.gather(*(ask(n) for n in range(3 * N)))
    assert sum(admitted) == N
    assert await replicas[0].admit(Principal("bilal")) is not None  # another user: unaffected
    for client in clients:
        await client.aclose()


async def test_the_token_budget_is_shared_too(redis_url):
    prefix = f"test:quota:{uuid.uuid4().hex}:"
    config = QuotaConfig(roles={"student": QuotaPolicy(tokens_per_day=100)})
    clients = [redis_client(redis_url) for _ in range(2)]
    first, second = (Quotas(RedisQuotaStore(c, prefix), config) for c in clients)
    amina = Principal("amina")
    await first.admit(amina)
    await first.spend(amina, 120)  # one long answer on replica one
    with pytest.raises(QuotaExceeded, match="daily_tokens"):
        await second.admit(amina)
    for client in clients:
        await client.aclose()


async def test_while_redis_is_down_students_are_admitted_and_each_replica_holds_the_limit(
    tmp_path: Path,
):
    """A Redis outage must not refuse every student: counts move to the replica's memory
    (the limit holds per replica) and back to Redis when it answers."""
    server = RedisServer(free_port(), tmp_path).start()
    client = redis_client(server.url)
    store = FallbackQuotaStore(RedisQuotaStore(client), retry_s=0.2)
    quotas = Quotas(store, QuotaConfig(roles={"student": QuotaPolicy(burst_per_minute=3)}))
    amina = Principal("amina")
    try:
        await quotas.admit(amina)  # counted in Redis: 1
        server.stop()
        during = [await quotas.admit(amina) for _ in range(3)]  # this replica's own count
        assert all(during) and store.degraded
        with pytest.raises(QuotaExceeded, match="burst"):
            await quotas.admit(amina)
        server.start()
        await asyncio.sleep(0.3)  # past the retry interval
        allowance = await quotas.admit(amina)  # Redis again: its count was 1
        assert allowance is not None and allowance.remaining == 1 and not store.degraded
    finally:
        await client.aclose()
        server.stop()
