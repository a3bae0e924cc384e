"""Sessions in the real Redis: shared by replicas, expiring, and safe under concurrent writes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from cluster.redis_client import redis_client
from conversation.errors import SessionNotFound
from conversation.sessions import RedisSessionStore, Turn, with_turns

StoreFactory = Callable[..., RedisSessionStore]


@pytest.fixture
async def stores(redis_url: str) -> AsyncIterator[StoreFactory]:
    """Stores over one fresh key prefix, as separate replicas would hold them."""
    prefix = f"test:{uuid.uuid4().hex}:"
    opened: list[RedisSessionStore] = []

    def make(ttl_s: int = 60, max_connections: int = 256) -> RedisSessionStore:
        client = redis_client(redis_url, max_connections=max_connections)
        opened.append(RedisSessionStore(client, ttl_s, prefix))
        return opened[-1]

    yield make
    for store in opened:
        await store.close()


async def test_two_replicas_see_the_same_session(stores: StoreFactory):
    one, two = stores(), stores()
    session = await one.create("amina", {"class_level": 8})
    await two.update(session.id, with_turns([Turn(role="user", content="What is carbon?")]))
    seen = await one.get(session.id)
    assert seen is not None and [t.content for t in seen.turns] == ["What is carbon?"]
    assert seen.profile == {"class_level": 8}


async def test_concurrent_appends_from_two_replicas_lose_no_turn(stores: StoreFactory):
    one, two = stores(), stores()
    session = await one.create("amina", {})
    writes = [
        (one if n % 2 else two).update(session.id, with_turns([Turn(role="user", content=f"q{n}")]))
        for n in range(20)
    ]
    await asyncio.gather(*writes)
    seen = await one.get(session.id)
    assert seen is not None
    assert sorted(t.content for t in seen.turns) == sorted(f"q{n}" for n in range(20))


async def test_a_session_expires_after_its_idle_ttl(stores: StoreFactory):
    short = stores(ttl_s=1)
    session = await short.create("amina", {})
    await asyncio.sleep(1.5)
    assert await short.get(session.id) is None
    with pytest.raises(SessionNotFound):
        await short.update(session.id, with_turns([Turn(role="user", content="late")]))


async def test_ending_returns_the_transcript_and_removes_it(stores: StoreFactory):
    store = stores()
    session = await store.create("amina", {})
    await store.update(session.id, with_turns([Turn(role="user", content="hello")]))
    ended = await store.end(session.id)
    assert ended is not None and len(ended.turns) == 1
    assert await store.get(session.id) is None


async def test_more_students_at_once_than_the_pool_holds_all_get_their_sessions(
    stores: StoreFactory,
):
    """A replica under load: 300 students' session reads at once through a client of 64
    connections. redis-py's default pool raised "Too many connections" past its limit, which
    the ingress took for a Redis outage; now a read waits for a free connection."""
    store = stores(max_connections=64)
    sessions = [await store.create(f"student-{i}", {}) for i in range(300)]
    seen = await asyncio.gather(*(store.get(s.id) for s in sessions))
    assert [s.id for s in seen if s is not None] == [s.id for s in sessions]
