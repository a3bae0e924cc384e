"""Sessions through a Redis outage: memory stands in, and everything is written back."""

from __future__ import annotations

import asyncio
import time

import pytest

from conversation.errors import SessionStoreDown
from conversation.fallback import RECOVER_S, FallbackSessionStore
from conversation.sessions import MemorySessionStore, Turn, with_turns
from tests.fakes.switchable_store import SwitchableStore


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def turn(text: str) -> list[Turn]:
    return [Turn(role="user", content=text)]


@pytest.fixture
async def parts():
    primary, clock = SwitchableStore(), Clock()
    yield primary, clock, FallbackSessionStore(primary, ttl_s=3600, clock=clock)
    primary.up = True  # a store left degraded stops its background retries


@pytest.fixture
async def two_replicas():
    """Two ingress replicas' stores over one Redis, whose reach can fail for one of them."""
    redis = MemorySessionStore(ttl_s=3600)
    seen_by = SwitchableStore(redis), SwitchableStore(redis)
    yield seen_by, [FallbackSessionStore(view, ttl_s=3600) for view in seen_by]
    for view in seen_by:
        view.up = True


async def test_during_an_outage_sessions_live_in_memory_and_are_written_back(parts):
    primary, clock, store = parts
    before = await store.create("amina", {})
    primary.up = False
    during = await store.create("bob", {})
    await store.update(during.id, with_turns(turn("asked during the outage")))
    await store.update(before.id, with_turns(turn("queued for Redis")))
    assert store.degraded and store.status()["pending_write_back"] == 2
    assert [t.content for t in (await store.get(during.id)).turns] == ["asked during the outage"]
    primary.up, clock.now = True, 10.0
    await store.get(before.id)  # the first operation after Redis returns writes back
    assert not store.degraded
    assert [t.content for t in (await primary.data.get(before.id)).turns] == ["queued for Redis"]
    assert [t.content for t in (await primary.data.get(during.id)).turns] == [
        "asked during the outage"
    ]


async def test_a_session_only_redis_holds_reads_as_absent_during_the_outage(parts):
    primary, _, store = parts
    session = await store.create("amina", {})
    primary.up = False
    assert await store.get(session.id) is None and store.degraded


async def test_ending_a_redis_session_during_the_outage_is_refused_not_lost(parts):
    primary, _, store = parts
    session = await store.create("amina", {})
    primary.up = False
    with pytest.raises(SessionStoreDown):
        await store.end(session.id)
    primary.up = True
    assert await primary.data.get(session.id) is not None


async def test_a_new_session_goes_to_redis_as_soon_as_it_answers_again(parts):
    """Within the retry interval other operations stay in memory, but a new session tries
    Redis at once: one made in memory would be unknown to the other ingress replicas."""
    primary, clock, store = parts
    primary.up = False
    await store.create("amina", {})  # memory: Redis is down
    primary.up, clock.now = True, 0.5  # back, well within the 2 s retry interval
    created = await store.create("bilal", {})
    assert await primary.data.get(created.id) is not None and not store.degraded


async def test_a_session_made_in_memory_is_written_back_without_waiting_for_a_request(parts):
    primary, _, store = parts
    primary.up = False
    session = await store.create("amina", {})
    primary.up = True
    await asyncio.sleep(RECOVER_S * 3)  # no call on the store meanwhile
    assert await primary.data.get(session.id) is not None and not store.degraded


async def test_another_replica_waits_for_the_write_back_instead_of_answering_unknown(
    two_replicas,
):
    (view_a, _), (replica_a, replica_b) = two_replicas
    view_a.up = False  # replica A's Redis call fails for a moment: the session is in its memory
    session = await replica_a.create("amina", {})
    view_a.up = True
    found = await replica_b.get(session.id)  # the student's next question lands on B
    assert found is not None and found.user_id == "amina" and not replica_b.degraded


async def test_an_unknown_ordinary_session_id_is_absent_at_once(two_replicas):
    _, (_, replica_b) = two_replicas
    start = time.perf_counter()
    assert await replica_b.get("A" * 32) is None
    assert time.perf_counter() - start < RECOVER_S  # no wait for a write-back
