"""Quotas in the real Redis: the limit holds across replicas (one Lua script counts)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from access.errors import QuotaExceeded
from access.principal import Principal
from access.quotas import QuotaConfig, QuotaPolicy, Quotas, RedisQuotaStore
from cluster.redis_client import redis_client

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
