"""The circuit breaker's states, driven by a fake clock."""

from __future__ import annotations

import pytest

from models.breaker import BreakerConfig, CircuitBreakers, MemoryBreakerStore, StoreUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breakers(clock: Clock, **config: float | bool) -> CircuitBreakers:
    settings = BreakerConfig.model_validate({"failure_threshold": 3, "open_s": 10, **config})
    return CircuitBreakers(MemoryBreakerStore(), settings, clock)


async def fail(b: CircuitBreakers, times: int, backend: str = "openai") -> None:
    for _ in range(times):
        assert await b.allow(backend)
        await b.record(backend, ok=False)


async def test_consecutive_failures_open_it_and_it_refuses_calls(clock: Clock):
    b = breakers(clock)
    await fail(b, 2)
    assert await b.state("openai") == "closed"
    await fail(b, 1)
    assert await b.state("openai") == "open"
    assert not await b.allow("openai")


async def test_a_success_resets_the_failure_streak(clock: Clock):
    b = breakers(clock)
    await fail(b, 2)
    await b.record("openai", ok=True)
    await fail(b, 2)
    assert await b.state("openai") == "closed"


async def test_a_high_failure_rate_in_the_window_opens_it_without_a_streak(clock: Clock):
    b = breakers(clock, failure_threshold=100, failure_rate=0.5, min_calls=10, window_s=30)
    for n in range(10):  # alternate: never two failures in a row, but half of them fail
        await b.record("openai", ok=n % 2 == 0)
    assert await b.state("openai") == "open"


async def test_old_failures_leave_the_window(clock: Clock):
    b = breakers(clock, failure_threshold=100, failure_rate=0.5, min_calls=4, window_s=30)
    await fail(b, 3)
    clock.now += 31
    for _ in range(3):
        await b.record("openai", ok=True)
    await b.record("openai", ok=False)
    assert await b.state("openai") == "closed"  # 1 of the last 4 failed, not 4 of 7


async def test_after_open_s_exactly_one_probe_goes_through_and_no_question_is_it(clock: Clock):
    b = breakers(clock)
    await fail(b, 3)
    clock.now += 10
    assert await b.state("openai") == "half_open" and await b.due_for_probe("openai")
    assert not await b.allow("openai")  # a student's question never waits on the probe
    assert await b.allow("openai", probe=True)
    assert not await b.allow("openai", probe=True)  # the probe is in flight: one at a time


async def test_a_successful_probe_closes_it_and_a_failed_one_reopens_it(clock: Clock):
    b = breakers(clock)
    await fail(b, 3)
    clock.now += 10
    assert await b.allow("openai", probe=True)
    await b.record("openai", ok=False)
    assert await b.state("openai") == "open" and not await b.due_for_probe("openai")
    clock.now += 10
    assert await b.allow("openai", probe=True)
    await b.record("openai", ok=True)
    assert await b.state("openai") == "closed" and await b.allow("openai")


async def test_without_background_probes_the_next_question_is_the_probe(clock: Clock):
    b = breakers(clock, probe_in_background=False)
    await fail(b, 3)
    clock.now += 10
    assert await b.allow("openai")
    assert not await b.allow("openai")


async def test_backends_have_separate_breakers(clock: Clock):
    b = breakers(clock)
    await fail(b, 3, backend="openai")
    assert await b.allow("local")


class UnreachableStore:
    kind = "redis"

    async def update(self, backend, change):  # noqa: ARG002 - the store is down
        raise StoreUnavailable("connection refused")

    async def read(self, backend):  # noqa: ARG002 - the store is down
        raise StoreUnavailable("connection refused")


async def test_an_unreachable_store_leaves_breakers_working_per_replica(clock: Clock):
    b = CircuitBreakers(UnreachableStore(), BreakerConfig(failure_threshold=2), clock)
    await fail(b, 2)
    assert not b.store_reachable
    assert await b.state("openai") == "open" and not await b.allow("openai")


class CountingStore(MemoryBreakerStore):
    """Counts the read-modify-write updates (a Redis transaction each) the breakers make."""

    def __init__(self) -> None:
        super().__init__()
        self.updates = 0

    async def update(self, backend, change):
        self.updates += 1
        return await super().update(backend, change)


async def test_a_closed_breaker_admits_without_a_transaction_and_an_open_one_still_refuses(
    clock: Clock,
):
    store = CountingStore()
    b = CircuitBreakers(store, BreakerConfig(failure_threshold=2, open_s=10), clock)
    for _ in range(5):
        assert await b.allow("openai")
    assert store.updates == 0  # each answer's admission was a read
    await fail(b, 2)
    assert not await b.allow("openai")
    clock.now += 11
    assert await b.allow("openai", probe=True)  # the probe claims it: that is a write
    assert not await b.allow("openai", probe=True)  # and only one probe goes


def replica(store: MemoryBreakerStore, clock: Clock, **config: float) -> CircuitBreakers:
    settings = BreakerConfig.model_validate({"failure_threshold": 3, "open_s": 10, **config})
    return CircuitBreakers(store, settings, clock)


async def test_successes_on_a_closed_breaker_are_written_together_and_still_count(clock: Clock):
    store = CountingStore()
    b = replica(store, clock, failure_threshold=100, failure_rate=0.5, min_calls=10)
    for _ in range(20):  # twenty answers in the same instant: one write, the rest held
        assert await b.allow("openai")
        await b.record("openai", ok=True)
    assert store.updates == 1
    clock.now += 0.6  # past success_batch_s: the next success writes the held ones with it
    await b.record("openai", ok=True)
    assert store.updates == 2
    assert len((await store.read("openai")).outcomes or []) == 21
    for _ in range(9):  # 9 failures against 21 successes: under the 50% rate, stays closed
        await b.record("openai", ok=False)
    assert await b.state("openai") == "closed"


async def test_a_failure_is_written_at_once_with_the_successes_held_before_it(clock: Clock):
    store = CountingStore()
    b = replica(store, clock, failure_threshold=100, failure_rate=0.5, min_calls=4)
    for _ in range(3):
        assert await b.allow("openai")
        await b.record("openai", ok=True)  # the first is written, two are held
    await b.record("openai", ok=False)
    outcomes = (await store.read("openai")).outcomes or []
    assert [ok for _, ok in outcomes] == [True, True, True, False]
    assert await b.state("openai") == "closed"  # 1 of 4 failed: the held successes counted


async def test_an_open_breaker_is_closed_by_its_probe_not_by_calls_let_through_before(
    clock: Clock,
):
    store = MemoryBreakerStore()
    one, two = replica(store, clock), replica(store, clock)
    assert await one.allow("openai")  # replica one sees it closed and starts two calls
    await one.record("openai", ok=True)
    await fail(two, 3)  # meanwhile replica two's calls fail: it opens
    assert await one.state("openai") == "open"
    clock.now += 0.6
    await one.record("openai", ok=True)  # replica one's late success and its held one
    await one.record("openai", ok=False)
    assert await two.state("openai") == "open"  # still open: neither closed it
    clock.now += 10
    assert await two.allow("openai", probe=True)
    await two.record("openai", ok=True)  # the probe's success does
    assert await one.state("openai") == "closed"
