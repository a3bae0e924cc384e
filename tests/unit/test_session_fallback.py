"""Sessions through a Redis outage: memory stands in, and everything is written back."""

from __future__ import annotations

import pytest

from conversation.errors import SessionStoreDown
from conversation.fallback import FallbackSessionStore
from conversation.sessions import Turn, with_turns
from tests.fakes.switchable_store import SwitchableStore


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def turn(text: str) -> list[Turn]:
    return [Turn(role="user", content=text)]


@pytest.fixture
def parts():
    primary, clock = SwitchableStore(), Clock()
    return primary, clock, FallbackSessionStore(primary, ttl_s=3600, clock=clock)


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
